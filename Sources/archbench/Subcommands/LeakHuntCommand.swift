import ArchbenchCore
import ArgumentParser
import Load
import Probes
import Reports
import Suite

struct LeakHuntCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leak-hunt",
        abstract: "Watch processes' memory and say which ones leak: a growth-rate regression on the floor of their RSS.",
        discussion: """
            Attach to running processes (--pid, --port, --cgroup) or start a command after --, record \
            every process's RSS (and, with --alloc, the stacks of its outstanding native allocations) \
            and fit a robust slope to the level its memory keeps coming back to, so that a garbage \
            collector's sawtooth is not a leak and a slow leak under it is (docs/analysis.md). With \
            --url and --rate it drives a steady open-loop load itself. A live line shows the verdict \
            so far; Ctrl-C ends the hunt early and keeps what it has. Exit 0: no leak; 1: a leak is \
            suspected; 2: bad arguments; 3: the probes or the target could not be reached.
            """
    )

    @OptionGroup var targetOptions: TargetOptions

    @Option(help: ArgumentHelp("Seconds to watch (default 60); Ctrl-C ends earlier.", valueName: "seconds"))
    var duration = 60.0

    @Option(help: ArgumentHelp("Drive load at this URL while hunting (with --rate).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("Requests per second of the load, open loop (with --url).", valueName: "req/s"))
    var rate: Double?

    @Option(help: ArgumentHelp("Connections the load uses (default 16).", valueName: "n"))
    var connections = 16

    @Flag(help: "Also attribute native allocations to user stacks, and list the largest still outstanding.")
    var alloc = false

    @Option(help: ArgumentHelp("With --alloc, also write the outstanding allocations' stacks to this file in the folded "
                               + "format (`comm;outer;…;inner bytes`) for flamegraph.pl or speedscope.", valueName: "file"))
    var folded: String?

    @Option(help: ArgumentHelp("A BTF file for the running kernel, if it has no /sys/kernel/btf/vmlinux.", valueName: "file"))
    var btf: String?

    @Flag(help: "Print the verdicts as JSON (keys in docs/architecture.md) instead of text.")
    var json = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to run and watch.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        try targetOptions.validate(command: command)
        guard duration > 0, duration.isFinite, duration <= 86_400 else {
            throw ValidationError("--duration \(duration) must be a number of seconds in (0, 86400]")
        }
        if folded != nil, !alloc { throw ValidationError("--folded needs --alloc: stacks are captured only with it") }
        if (url == nil) != (rate == nil) { throw ValidationError("--url and --rate go together") }
        if let rate, !(rate > 0 && rate.isFinite && rate <= 10_000_000) {
            throw ValidationError("--rate \(rate) must be a positive number of requests per second")
        }
        if let url { _ = try parsedURL(url) }
        guard connections > 0, connections <= 100_000 else {
            throw ValidationError("--connections \(connections) must be from 1 to 100000")
        }
    }

    private func parsedURL(_ text: String) throws -> LoadTarget {
        do { return try LoadTarget.parse(text) } catch { throw ValidationError("--url \(text): \(error)") }
    }

    func run() throws {
        var request = ProbeRequest(targets: try targetOptions.targets(), command: command, commandLabel: targetOptions.label,
                                   duration: duration)
        request.btfPath = btf
        request.commandIdentity = try targetOptions.commandIdentity(command: command)
        if alloc { request.allocationSampleEvery = ProbeRequest.defaultAllocationSampleEvery }
        var options = LeakHuntOptions(request: request)
        options.url = try url.map(parsedURL)
        options.rate = rate
        options.connections = connections
        options.json = json
        let report = try LeakHunt.run(options)
        print(json ? try report.json() : report.text())
        if let folded { try AtomicFile.write(report.foldedStacks(), to: folded) }
        if report.leakSuspected { throw ExitCode(ArchbenchExitCode.validationFailed.rawValue) }
    }
}

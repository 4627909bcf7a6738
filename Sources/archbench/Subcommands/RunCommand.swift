#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import ArgumentParser
import Foundation
import Suite

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Benchmark both architectures: five benchmarks in alternating rounds, probed, validated, written.",
        discussion: """
            With no --config, spawns the embedded reference backends (archbench serve monolith and \
            microservices) on free loopback ports, benchmarks them, and stops them. With --config, the \
            two-environment JSON (docs/architecture.md): the first architecture is the baseline, the \
            second the candidate. Results go to --results-dir as comprehensive_results_STAMP.json and \
            execution_summary_STAMP.json. Exit 0 when every validation passes, 1 when one fails (the CI \
            gate), 2 for a usage or config error, 3 for an environment error.
            """
    )

    @Option(help: ArgumentHelp("The two-environment config (default: the embedded backends).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Workload profile: \(WorkloadProfile.all.map(\.name).joined(separator: ", ")).", valueName: "name"))
    var workload = "default"

    @Option(help: ArgumentHelp("Seconds of load per benchmark round.", valueName: "seconds"))
    var duration = 5.0

    @Option(help: ArgumentHelp("Rounds per architecture and benchmark, alternating A B B A … (default 3); more rounds "
                               + "give the analysis's intervals more to go on.", valueName: "n"))
    var rounds = 3

    @Option(name: .customLong("results-dir"), help: ArgumentHelp("Where the results are written.", valueName: "dir"))
    var resultsDir = "results"

    @Flag(name: .customLong("no-memory"), help: "Leave out the memory_usage benchmark.")
    var noMemory = false

    @Flag(name: .customLong("no-visualizations"), help: "Write no dashboard, latency heatmap or memory analysis (the HTML and PNG reports).")
    var noVisualizations = false

    @Flag(name: .customLong("no-probes"), help: "Do not probe the architectures' processes (client side only).")
    var noProbes = false

    @Flag(name: .customLong("require-probes"), help: "Exit 3 when the probes cannot run, instead of going on without them.")
    var requireProbes = false

    @Flag(help: "Also count and time every syscall of the targets (slows every syscall on the machine).")
    var syscalls = false

    @Option(help: ArgumentHelp("A BTF file for the running kernel, if it has no /sys/kernel/btf/vmlinux.", valueName: "file"))
    var btf: String?

    @Option(help: ArgumentHelp("The run history database (default: history.sqlite in the results directory).", valueName: "file"))
    var history: String?

    @Flag(help: "Print the execution summary as JSON on stdout; the console goes to stderr.")
    var json = false

    func validate() throws {
        guard WorkloadProfile.named(workload) != nil else {
            throw ValidationError("--workload \(workload) is not a profile (\(WorkloadProfile.all.map(\.name).joined(separator: ", ")))")
        }
        guard duration > 0, duration.isFinite, duration <= 3600 else {
            throw ValidationError("--duration \(duration) must be a number of seconds in (0, 3600]")
        }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds \(rounds) must be from 1 to 20") }
        if noProbes, requireProbes || syscalls {
            throw ValidationError("--no-probes cannot go with --require-probes or --syscalls")
        }
    }

    func run() throws {
        let runConfig: RunConfig
        if let config {
            runConfig = try RunConfig.load(path: config)
        } else {
            let ports = try freeLoopbackPorts(3)
            runConfig = RunConfig.embedded(executable: ProcessTable.ownExecutable(), monolithPort: ports[0], microservicesPort: ports[1],
                                           websocketPort: ports[2])
        }
        var options = SuiteOptions()
        options.workload = WorkloadProfile.named(workload) ?? .default
        options.duration = duration
        options.rounds = rounds
        options.resultsDirectory = resultsDir
        options.memory = !noMemory
        options.visualizations = !noVisualizations
        options.probes = !noProbes
        options.requireProbes = requireProbes
        options.syscalls = syscalls
        options.btfPath = btf
        options.historyPath = history
        options.json = json
        let outcome = try SuiteRunner(config: runConfig, options: options).run()
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import ArgumentParser
import Probes
import Reports
import Suite

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Watch processes, and every process they fork, from the kernel with eBPF.",
        discussion: """
            Attach to running processes with --pid, --port (the processes listening on it) or \
            --cgroup (their children alive now, and every process they fork later, are covered too), \
            or start a command after -- and watch it for its whole life. Each target may carry a \
            label (LABEL=PID, LABEL=PORT, LABEL=PATH; --label for the command) that the report shows \
            for it and its descendants. \
            The run ends after --duration, when the command (or every target) exits, or on Ctrl-C; \
            the probes are detached on every path out. Needs root, or CAP_BPF + CAP_PERFMON.
            """
    )

    @OptionGroup var targetOptions: TargetOptions

    @Option(help: ArgumentHelp("A BTF file for the running kernel, if it has no /sys/kernel/btf/vmlinux.", valueName: "file"))
    var btf: String?

    @Option(help: ArgumentHelp("Seconds to watch (default: until the targets exit or Ctrl-C).", valueName: "seconds"))
    var duration: Double?

    @Flag(help: ArgumentHelp("Also count and time every syscall of the targets. Off by default: the kernel's raw "
                             + "syscall tracepoints slow every syscall on the machine, the untraced ones too "
                             + "(measured by bench/syscall-tracepoint-floor.sh; see docs/benchmarks.md)."))
    var syscalls = false

    @Flag(help: ArgumentHelp("Also attribute native allocations (libc malloc, calloc, realloc, free, …) to user stacks "
                             + "and report what is still allocated; off by default, as every such call then traps into the kernel."))
    var alloc = false

    @Option(name: .customLong("alloc-sample"),
            help: ArgumentHelp("With --alloc, track one allocation in N (weighted by N in the estimates; 1 tracks all, exactly; "
                               + "default \(ProbeRequest.defaultAllocationSampleEvery)).", valueName: "N"))
    var allocSample: Int?

    @Option(help: ArgumentHelp("With --alloc, also write the outstanding allocations' stacks to this file in the folded "
                               + "format (`comm;outer;…;inner bytes`) for flamegraph.pl or speedscope.", valueName: "file"))
    var folded: String?

    @Flag(help: "Print the report as JSON (keys in docs/architecture.md) instead of tables.")
    var json = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to run under the probes.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        try targetOptions.validate(command: command)
        if let allocSample {
            guard allocSample > 0, allocSample <= Int(UInt32.max) else {
                throw ValidationError("--alloc-sample \(allocSample) must be a positive number of allocations (1 tracks every one)")
            }
            guard alloc else { throw ValidationError("--alloc-sample needs --alloc") }
        }
        if folded != nil, !alloc { throw ValidationError("--folded needs --alloc: stacks are captured only with it") }
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration \(duration) must be a positive number of seconds")
        }
    }

    func run() throws {
        var request = ProbeRequest(targets: try targetOptions.targets(), command: command, commandLabel: targetOptions.label, duration: duration)
        request.btfPath = btf
        request.commandIdentity = try targetOptions.commandIdentity(command: command)
        if syscalls { request.optionalFamilies.insert(.syscalls) }
        if alloc { request.allocationSampleEvery = UInt32(allocSample ?? Int(ProbeRequest.defaultAllocationSampleEvery)) }
        let report = try ProbeRun.run(request) { message in
            Console.error("archbench: \(message)")
        }
        print(json ? try report.json() : report.text())
        if let folded { try AtomicFile.write(report.foldedStacks(), to: folded) }
    }
}

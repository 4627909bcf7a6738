#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import ArgumentParser
import Probes
import Reports

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Count the syscalls of processes, and of every process they fork, with eBPF.",
        discussion: """
            Attach to running processes with --pid (their children alive now, and every process they \
            fork later, are covered too), or start a command after -- and watch it for its whole life. \
            The run ends after --duration, when the command (or every target) exits, or on Ctrl-C; \
            the probes are detached on every path out. Needs root, or CAP_BPF + CAP_PERFMON.
            """
    )

    @Option(name: .customLong("pid"), parsing: .upToNextOption,
            help: ArgumentHelp("Process ids to attach to.", valueName: "pid"))
    var pids: [Int32] = []

    @Option(help: ArgumentHelp("Seconds to watch (default: until the targets exit or Ctrl-C).", valueName: "seconds"))
    var duration: Double?

    @Flag(help: "Print the DESIGN.md JSON instead of tables.")
    var json = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to run under the probes.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if pids.isEmpty == command.isEmpty {
            throw ValidationError("give either --pid PID ... or -- COMMAND ..., not both and not neither")
        }
        if let bad = pids.first(where: { $0 <= 0 }) {
            throw ValidationError("--pid \(bad) is not a process id (must be a positive integer)")
        }
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration \(duration) must be a positive number of seconds")
        }
    }

    func run() throws {
        let request = ProbeRequest(pids: pids, command: command, duration: duration)
        let report = try ProbeRunner.run(request) { message in
            Console.error("archbench: \(message)")
        }
        print(json ? try report.json() : report.text())
    }
}

import ArchbenchCore
import ArgumentParser
import Probes

/// The processes a probing command watches: running ones by pid, port or cgroup, each optionally
/// labelled, or (in the command itself) a command to start after --.
struct TargetOptions: ParsableArguments {
    @Option(name: .customLong("pid"), parsing: .upToNextOption,
            help: ArgumentHelp("Process ids to attach to, each optionally LABEL=PID.", valueName: "pid"))
    var pids: [String] = []

    @Option(name: .customLong("port"), parsing: .upToNextOption,
            help: ArgumentHelp("Attach to the processes listening on these TCP ports ([LABEL=]PORT).", valueName: "port"))
    var ports: [String] = []

    @Option(name: .customLong("cgroup"), parsing: .upToNextOption,
            help: ArgumentHelp("Attach to the processes of these cgroups v2 ([LABEL=]PATH, under /sys/fs/cgroup).",
                               valueName: "path"))
    var cgroups: [String] = []

    @Option(help: "A label for the command's processes in the report (e.g. monolith).")
    var label: String?

    @Option(name: .customLong("run-as"),
            help: ArgumentHelp("Whom the command runs as when archbench is root: a user name, a uid, or root (default: "
                               + "the user who ran sudo, or root when not under sudo).", valueName: "user"))
    var runAs: String?

    /// Exactly one of the two ways: targets, or a command.
    func validate(command: [String]) throws {
        _ = try targets()
        if targetsGiven != command.isEmpty {
            throw ValidationError("give either --pid/--port/--cgroup ... or -- COMMAND ..., not both and not neither")
        }
        if let runAs {
            guard !command.isEmpty else { throw ValidationError("--run-as applies only to a command started after --") }
            guard RunAs.lookUp(runAs) != nil else {
                throw ValidationError("--run-as \(runAs): unknown user (no such user in the passwd database)")
            }
        }
    }

    /// Whom the command runs as (nil: archbench's own user), by the rule of `TargetIdentity.resolve`.
    func commandIdentity(command: [String]) throws -> TargetIdentity? {
        guard !command.isEmpty else { return nil }
        return try TargetIdentity.resolve(runAs: runAs.flatMap(RunAs.lookUp), setting: "--run-as")
    }

    var targetsGiven: Bool { !(pids.isEmpty && ports.isEmpty && cgroups.isEmpty) }

    /// Splits an optional "LABEL=" from a value.
    private func labelled(_ text: String) -> (label: String?, value: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return (nil, text) }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    func targets() throws -> [TargetSpec] {
        var specs: [TargetSpec] = []
        for text in pids {
            let (label, value) = labelled(text)
            guard let pid = Int32(value), pid > 0 else {
                throw ValidationError("--pid \(text) is not a process id (must be a positive integer)")
            }
            specs.append(TargetSpec(.pid(pid), label: label))
        }
        for text in ports {
            let (label, value) = labelled(text)
            guard let port = UInt16(value), port > 0 else { throw ValidationError("--port \(text) is not a TCP port (1-65535)") }
            specs.append(TargetSpec(.port(port), label: label))
        }
        for text in cgroups {
            let (label, value) = labelled(text)
            guard !value.isEmpty else { throw ValidationError("--cgroup \(text) names no cgroup") }
            specs.append(TargetSpec(.cgroup(value), label: label))
        }
        return specs
    }
}

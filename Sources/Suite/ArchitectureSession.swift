#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import Foundation
import Load
import Probes
import Recording

/// How the suite probes the architectures: off (`--no-probes`, or the kernel or privileges do not
/// allow it), or these families.
struct ProbeSettings: Sendable {
    var btfPath: String?
    var syscalls: Bool
}

/// What the session notes about how it ran the architecture (e.g. a memory limit applied or not).
typealias SessionLog = (String) -> Void

/// One architecture's processes for a whole run: spawned from its `command` (held before exec and
/// probed from its first instruction) or found by pid, port, cgroup or its URLs' ports; ready when
/// `base_url` accepts connections; probed until `stop`. Snapshots before and after each benchmark
/// round give that round's kernel view.
final class ArchitectureSession {
    let spec: ArchitectureSpec
    private var live: LiveProbe?
    /// A command spawned without probes.
    private var spawned: SpawnedCommand?
    private var memoryLimit: MemoryLimit?
    /// Whether the profile's memory limit holds the architecture's spawned processes, or why not.
    private(set) var memoryLimitNote: String?

    /// Starts (or finds) the architecture's processes and, with `probes`, the probes on them; a
    /// spawned command is put under `memoryLimitBytes` where the kernel allows it.
    /// `output`: the file a spawned command's stdout and stderr are appended to. `interrupted` is
    /// asked while waiting for the URLs to accept connections: when it says true, what was started is
    /// stopped and the wait fails (Ctrl-C during a long `ready_timeout_s`).
    init(spec: ArchitectureSpec, probes: ProbeSettings?, memoryLimitBytes: UInt64? = nil, output: String? = nil,
         interrupted: () -> Bool = { false }, log: SessionLog) throws {
        self.spec = spec
        let label = Self.label(of: spec.name)
        var identity: TargetIdentity?
        if case .command = spec.processes {
            // Under sudo the targets run as the user who ran it, not as root: they need none of
            // the privileges the probes do.
            identity = try TargetIdentity.resolve(runAs: spec.runAs, setting: "\(spec.name).run_as")
            if let identity { log("  \(spec.name): command runs as \(identity)") }
        }
        switch (spec.processes, probes) {
        case (.command(let argv), let probes?):
            var request = ProbeRequest(command: argv)
            request.commandLabel = label
            request.commandOutput = output
            request.commandDiesWithArchbench = true
            request.commandIdentity = identity
            request.configure(probes)
            live = try LiveProbe(request, progress: { _ in })
        case (.command(let argv), nil):
            spawned = try SpawnedCommand(argv: argv, output: output, identity: identity)
        case (let source, let probes?):
            // Running processes: found once they answer (an external server may still be starting).
            try Self.waitReady(spec, timeout: spec.readyTimeout, exited: { nil }, interrupted: interrupted)
            var request = ProbeRequest(targets: try Self.targets(source, spec: spec, label: label))
            request.configure(probes)
            live = try LiveProbe(request, progress: { _ in })
        case (_, nil):
            break
        }
        if let bytes = memoryLimitBytes {
            let pid = live?.commandPid ?? spawned?.pid
            switch pid.map({ MemoryLimit.apply(bytes, to: [$0], name: spec.name) }) {
            case .success(let limit)?:
                memoryLimit = limit
                memoryLimitNote = "limited to \(bytes >> 20) MiB (\(limit.path))"
            case .failure(let error)?:
                memoryLimitNote = "not limited: \(error)"
            case nil:
                memoryLimitNote = "not limited: archbench did not start its processes"
            }
            log("  \(spec.name): memory \(memoryLimitNote ?? "")")
        }
        do {
            try Self.waitReady(spec, timeout: spec.readyTimeout, exited: { [live, spawned] in
                if let exit = spawned?.exitStatus { return exit.description }
                if let pid = live?.commandPid, ProcessTable.entry(pid: pid).map({ $0.state == "Z" }) ?? true {
                    return "exited"
                }
                return nil
            }, interrupted: interrupted)
        } catch {
            _ = stop()
            throw error
        }
        log("  \(spec.name): ready at \(spec.baseURL)\(live == nil ? "" : ", probed")")
    }

    /// The label the report carries for the architecture's first process (its children are named
    /// by their service when they are the reference backends' `ab-SERVICE` processes).
    static func label(of architecture: String) -> String {
        switch architecture {
        case "monolithic": "monolith"
        case "microservices": "gateway"
        default: architecture
        }
    }

    private static func targets(_ source: ProcessSource, spec: ArchitectureSpec, label: String) throws -> [TargetSpec] {
        switch source {
        case .command: return []
        case .pids(let pids): return pids.map { TargetSpec(.pid($0), label: label) }
        case .ports(let ports): return ports.map { TargetSpec(.port($0), label: label) }
        case .cgroup(let path): return [TargetSpec(.cgroup(path), label: label)]
        case .urlPorts:
            let ports = Array(Set([spec.baseURL.port, spec.websocketURL.port])).sorted()
            return ports.map { TargetSpec(.port($0), label: label) }
        }
    }

    /// Waits until `base_url` and `websocket_url` accept connections; fails after `timeout` (within
    /// about a second of it, whatever the hosts do), as soon as `exited` says the spawned command is
    /// gone, or as soon as `interrupted` says true.
    static func waitReady(_ spec: ArchitectureSpec, timeout: Double, exited: () -> String?,
                          interrupted: () -> Bool = { false }) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let urls = [("base_url", spec.baseURL), ("websocket_url", spec.websocketURL)]
        while true {
            func stopped(_ url: LoadTarget) -> ArchbenchError {
                .environment("\(spec.name): interrupted while waiting for \(url) to accept connections")
            }
            var pending: (key: String, url: LoadTarget)?
            for (key, url) in urls where pending == nil {
                if interrupted() { throw stopped(url) }
                if url.connectError(within: max(0.01, min(1, deadline.timeIntervalSinceNow))) != 0 { pending = (key, url) }
            }
            guard let pending else { return }
            if interrupted() { throw stopped(pending.url) }
            if let how = exited() {
                throw ArchbenchError.environment("\(spec.name): its command \(how) before \(pending.key) \(pending.url) accepted connections")
            }
            if Date() >= deadline {
                throw ArchbenchError.environment(
                    "\(spec.name): \(pending.key) \(pending.url) did not accept connections within \(seconds(timeout)) s (ready_timeout_s)")
            }
            usleep(UInt32(max(0, min(0.05, deadline.timeIntervalSinceNow)) * 1_000_000))
        }
    }

    /// `30` for a whole number of seconds, `0.3` (one decimal) otherwise.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
    }

    var probed: Bool { live != nil }

    /// Why the architecture can no longer be benchmarked — the command archbench spawned for it has
    /// exited (`its process 1234 exited (killed by SIGKILL)`; with probes the reaper is theirs, so
    /// how it ended is not known here) — or nil while it runs. Processes archbench did not start
    /// are not watched: a pid that is gone may have been restarted under another.
    var gone: String? {
        if let spawned, let status = spawned.exitStatus {
            return "its process \(spawned.pid) \(Self.describe(status))"
        }
        if let pid = live?.commandPid, ProcessTable.entry(pid: pid).map({ $0.state == "Z" }) ?? true {
            return "its process \(pid) exited"
        }
        return nil
    }

    /// `exited with status 1`, `exited (killed by SIGKILL)`.
    static func describe(_ status: ExitStatus) -> String {
        if let code = status.code { return "exited with status \(code)" }
        return "exited (killed by \(signalName(status.signal ?? 0)))"
    }

    /// Service names by pid, for processes started as `archbench serve service NAME` (the
    /// reference microservices' services), as last seen alive.
    private(set) var serviceLabels: [Int32: String] = [:]

    /// What the probes have recorded so far; nil without probes.
    func snapshot() throws -> ProbeRecording? {
        guard let recording = try live?.snapshot() else { return nil }
        for process in recording.processes where process.exitNs == nil {
            if serviceLabels[process.pid] == nil, let name = Self.serviceName(pid: process.pid) {
                serviceLabels[process.pid] = name
            }
            if let bytes = Self.residentBytes(pid: process.pid) { residentBytes[process.pid] = bytes }
        }
        return recording
    }

    /// Each live process's VmRSS as last read from /proc at a snapshot: the size of a process whose
    /// RSS never changed while probed (the probes see changes only).
    private(set) var residentBytes: [Int32: UInt64] = [:]

    static func residentBytes(pid: Int32) -> UInt64? {
        guard let status = ProcessTable.read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = UInt64(line.dropFirst("VmRSS:".count).filter(\.isNumber)) else { return nil }
        return kib * 1024
    }

    /// NAME when the process runs `… serve service NAME …`.
    static func serviceName(pid: Int32) -> String? {
        guard let cmdline = ProcessTable.read("/proc/\(pid)/cmdline") else { return nil }
        let argv = cmdline.split(separator: "\0").map(String.init)
        guard let at = argv.firstIndex(of: "service"), at > 0, argv[at - 1] == "serve", at + 1 < argv.count else { return nil }
        return argv[at + 1]
    }

    /// Ends the probes, stops a command archbench started, and returns the whole run's recording.
    func stop() -> ProbeRecording? {
        defer {
            spawned?.stop()
            spawned = nil
            live = nil
            memoryLimit?.remove()
            memoryLimit = nil
        }
        return try? live?.finish()
    }
}

extension ProbeRequest {
    mutating func configure(_ settings: ProbeSettings) {
        btfPath = settings.btfPath
        trapsSignals = false
        if settings.syscalls { optionalFamilies.insert(.syscalls) }
    }
}

import ArchbenchCore

/// One way to name processes to probe, with an optional label (architecture, service) that the
/// report carries for them and every process they fork.
public struct TargetSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case pid(Int32)
        /// The processes listening on this TCP port.
        case port(UInt16)
        /// The processes of a cgroup v2 (and its descendants).
        case cgroup(String)
    }

    public var kind: Kind
    public var label: String?

    public init(_ kind: Kind, label: String? = nil) {
        self.kind = kind
        self.label = label
    }
}

/// What to probe and for how long.
public struct ProbeRequest: Sendable {
    /// Processes to attach to (each with the processes it has forked and will fork).
    public var targets: [TargetSpec]
    /// A command to spawn and watch for its whole life; empty when attaching to `targets`.
    public var command: [String]
    public var commandLabel: String?
    /// A file the command's stdout and stderr are appended to; nil: they are archbench's own.
    public var commandOutput: String?
    /// The command gets SIGTERM when the thread that starts the run exits, however archbench dies
    /// (the suite's targets); start the run from a thread that outlives it, e.g. the main thread.
    public var commandDiesWithArchbench = false
    /// Whom the command runs as; nil: archbench's own user (see `TargetIdentity.resolve`).
    public var commandIdentity: TargetIdentity?
    /// Seconds to watch; nil means until the command or every target exits, or SIGINT/SIGTERM.
    public var duration: Double?
    /// A BTF file for the running kernel, when it exposes none at /sys/kernel/btf/vmlinux.
    public var btfPath: String?
    /// Probe families to load beyond the default ones (syscall counts and latency are opt-in).
    public var optionalFamilies: Set<ProbeFamily> = []
    /// Loads the allocation probes, tracking one allocation in this many; nil: off (the default).
    public var allocationSampleEvery: UInt32?
    /// Ring buffers sized other than as built, by map name (e.g. "tcp_events"), in bytes: a power of
    /// two and a multiple of the page size. Smaller ones lose events sooner: the tests use that to
    /// check that losses are counted.
    public var ringBufferBytes: [String: UInt32] = [:]
    /// Whether the run traps SIGINT/SIGTERM itself and ends on them (`archbench probe`); a caller
    /// that traps them once for longer work (the suite) ends its `LiveProbe`s itself.
    public var trapsSignals = true
    /// The default of `--alloc-sample`: what sampling costs against tracking all is measured by
    /// bench/alloc-overhead.py (docs/alloc.md).
    public static let defaultAllocationSampleEvery: UInt32 = 64

    public init(targets: [TargetSpec] = [], command: [String] = [], commandLabel: String? = nil,
                duration: Double? = nil) {
        self.targets = targets
        self.command = command
        self.commandLabel = commandLabel
        self.duration = duration
    }

    public init(pids: [Int32], duration: Double? = nil) {
        self.init(targets: pids.map { TargetSpec(.pid($0)) }, duration: duration)
    }

    public init(command: [String], duration: Double? = nil) {
        self.init(targets: [], command: command, duration: duration)
    }
}

extension TargetSpec {
    /// The processes the specs name, each with its label; fails on the first spec that names none.
    static func resolve(_ specs: [TargetSpec]) throws(ProbeError) -> [(process: ProcessEntry, label: String?)] {
        var found: [(process: ProcessEntry, label: String?)] = []
        for spec in specs {
            let processes: [ProcessEntry]
            switch spec.kind {
            case .pid(let pid):
                processes = [try liveProcess(pid)]
            case .port(let port):
                processes = ProcessTable.listening(onPort: port)
                guard !processes.isEmpty else { throw .noListener(port: port) }
            case .cgroup(let path):
                guard let members = ProcessTable.inCgroup(path) else { throw .noSuchCgroup(path) }
                guard !members.isEmpty else { throw .emptyCgroup(path) }
                processes = members
            }
            for process in processes where !found.contains(where: { $0.process.pid == process.pid }) {
                found.append((process, spec.label))
            }
        }
        return found
    }

    static func liveProcess(_ pid: Int32) throws(ProbeError) -> ProcessEntry {
        guard let process = ProcessTable.entry(pid: pid) else {
            throw .noSuchProcess(pid: pid, detail: "")
        }
        guard process.state != "Z" else {
            throw .noSuchProcess(pid: pid, detail: "it has exited (a zombie waiting for its parent)")
        }
        return process
    }

    /// A process's label is its own, or its nearest labelled ancestor's among the targets.
    static func label(of pid: Int32, parents: [Int32: Int32], labels: [Int32: String]) -> String? {
        var current: Int32? = pid
        var hops = 0
        while let pid = current, hops < 64 {
            if let label = labels[pid] { return label }
            current = parents[pid]
            hops += 1
        }
        return nil
    }
}

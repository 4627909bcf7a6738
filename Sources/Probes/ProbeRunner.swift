#if canImport(Glibc)
import Glibc
#endif
import Analysis
import ArchbenchCore
import CProbe
import Foundation

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
    /// Seconds to watch; nil means until the command or every target exits, or SIGINT/SIGTERM.
    public var duration: Double?
    /// A BTF file for the running kernel, when it exposes none at /sys/kernel/btf/vmlinux.
    public var btfPath: String?
    /// Probe families to load beyond the default ones (syscall counts and latency are opt-in).
    public var optionalFamilies: Set<ProbeFamily> = []
    /// Loads the allocation probes, tracking one allocation in this many; nil: off (the default).
    public var allocationSampleEvery: UInt32?

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

/// Runs one probe session from start to report. Probes are detached on every path out, a signal
/// included; a command archbench started is never left running.
public enum ProbeRunner {
    /// How long a spawned command gets to exit after SIGTERM before SIGKILL.
    static let stopGraceSeconds = 2.0

    public static func run(_ request: ProbeRequest, progress: (String) -> Void) throws -> ProbeReport {
        let resolved = try resolve(request.targets)
        let roots = resolved.map(\.process)
        var labels = Dictionary(resolved.compactMap { item in item.label.map { (item.process.pid, $0) } },
                                uniquingKeysWith: { first, _ in first })
        let probe = try KernelProbe(btfPath: request.btfPath, optional: request.optionalFamilies,
                                    allocationSampleEvery: request.allocationSampleEvery)
        let stop = StopFlag()
        let trap = SignalTrap(signals: [SIGINT, SIGTERM]) { signal in stop.stop(.signal(signal)) }
        defer { trap.cancel() }
        defer { probe.detach() }

        var child: HeldChild?
        var childStatus: WaitStatusBox?
        let startNs = ab_monotonic_ns()
        if request.command.isEmpty {
            try probe.attach()
            // Attach first, then register, then add the descendants alive now: a process forked
            // before its parent was registered is found by the scan, one forked after by the probe.
            for process in roots {
                try probe.register(process)
            }
            for process in ProcessTable.descendants(of: Set(roots.map(\.pid))) {
                try probe.register(process)
            }
            let living = try probe.targets().filter { $0.exitNs == nil }
            let alive = Set(living.map(\.pid))
            try watchListeningPorts(probe, alive: alive)
            for target in living { probe.attachRuntimeProbes(pid: target.pid, comm: target.comm) }
            let list = roots.map { "\($0.pid) (\($0.comm))" }.joined(separator: ", ")
            progress("probing pid \(list) and their children \(untilText(request.duration, "they exit")); Ctrl-C to stop")
        } else {
            let held = try HeldChild(argv: request.command)
            child = held
            if let label = request.commandLabel { labels[held.pid] = label }
            try probe.register(ProcessEntry(pid: held.pid, ppid: getpid(), comm: "archbench", state: "S"))
            try probe.attach()
            // Before exec: the uprobes stay with the process, and the command's libc is usually this one.
            probe.allocations?.attach(pid: held.pid, beforeExec: true)
            try held.release(command: request.command[0])
            childStatus = WaitStatusBox.reap(held.pid) { stop.stop(.commandExited) }
            progress("probing \(request.command.joined(separator: " ")) (pid \(held.pid)) and its children "
                + "\(untilText(request.duration, "it exits")); Ctrl-C to stop")
        }

        let end = wait(for: stop, duration: request.duration, probe: probe, watchingTargets: child == nil)
        let endNs = ab_monotonic_ns()
        probe.detach()

        var command: CommandOutcome?
        if let child, let childStatus {
            var stopped = false
            if end.isSignal || end == .duration, childStatus.value == nil {
                stopped = true
                stopChild(child.pid, signal: end.signalNumber ?? SIGTERM, status: childStatus)
            }
            command = CommandOutcome(
                argv: request.command, pid: child.pid,
                exit: childStatus.value.map(ExitStatus.init(waitStatus:)), stoppedByArchbench: stopped)
        }
        return try report(probe: probe, startNs: startNs, endNs: endNs, end: end, command: command, labels: labels)
    }

    // MARK: - Steps

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

    private static func untilText(_ duration: Double?, _ otherwise: String) -> String {
        duration.map { "for \($0) s" } ?? "until \(otherwise)"
    }

    /// Blocks until the stop flag is raised, the duration passes, or (attached to pids) every target
    /// has exited, which the kernel side records.
    private static func wait(for stop: StopFlag, duration: Double?, probe: KernelProbe, watchingTargets: Bool) -> EndReason {
        let deadline = duration.map { DispatchTime.now() + $0 }
        var nextPortScan = DispatchTime.now()
        // A spawned runtime maps its library (libjvm) within tens of milliseconds and may collect
        // soon after: look every 10 ms in the first second, so its first collections are not missed.
        // Processes already running when attached by pid/port have theirs mapped at the first look.
        let quickUntil = DispatchTime.now() + (watchingTargets ? 0 : 1)
        while true {
            let slice = DispatchTime.now() + (DispatchTime.now() < quickUntil ? 0.01 : 0.1)
            let until = deadline.map { min($0, slice) } ?? slice
            if stop.semaphore.wait(timeout: until) == .success, let reason = stop.reason {
                return reason
            }
            try? probe.poll()
            let targets = (try? probe.targets()) ?? []
            let living = targets.filter { $0.exitNs == nil }
            let alive = Set(living.map(\.pid))
            // A runtime's library is mapped moments after exec: look every slice, not every second.
            for target in living { probe.attachRuntimeProbes(pid: target.pid, comm: target.comm) }
            if DispatchTime.now() >= nextPortScan {
                nextPortScan = DispatchTime.now() + 1
                try? watchListeningPorts(probe, alive: alive)
            }
            if let deadline, DispatchTime.now() >= deadline {
                return .duration
            }
            if watchingTargets, !targets.isEmpty, alive.isEmpty {
                return .targetsExited
            }
        }
    }

    /// Registers the ports the targets listen on, so TCP events on those sockets count for them;
    /// rescanned every second, as a gateway may start its services after the probes attached.
    static func watchListeningPorts(_ probe: KernelProbe, alive: Set<Int32>) throws(ProbeError) {
        for (port, pid) in ProcessTable.listeningPorts(of: alive) {
            try probe.watchPort(port, of: pid)
        }
    }

    /// Passes the signal that ended the run on to the command (SIGTERM at the end of --duration),
    /// then SIGKILL after a grace period, and reaps it.
    private static func stopChild(_ pid: Int32, signal: Int32, status: WaitStatusBox) {
        kill(pid, signal)
        if status.exited.wait(timeout: .now() + stopGraceSeconds) == .timedOut {
            kill(pid, SIGKILL)
            _ = status.exited.wait(timeout: .now() + stopGraceSeconds)
        }
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

    private static func report(probe: KernelProbe, startNs: UInt64, endNs: UInt64, end: EndReason,
                               command: CommandOutcome?, labels: [Int32: String]) throws(ProbeError) -> ProbeReport {
        try probe.poll()
        let counts = try probe.syscallCounts()
        let latency = try probe.syscallLatency()
        let threads = try probe.threadTimes(at: endNs)
        let memory = try probe.memoryStats()
        let tcp = try probe.tcpStats()
        let timelines = Dictionary(grouping: probe.rssEvents, by: { Int32(bitPattern: $0.tgid) })
        let targets = try probe.targets()
        let parents = Dictionary(targets.map { ($0.pid, $0.ppid) }, uniquingKeysWith: { first, _ in first })
        var processes = targets.map { target in
            let syscalls = counts[target.pid] ?? [:]
            let own = threads.filter { $0.value.tgid == UInt32(bitPattern: target.pid) }
                .map { ThreadReport(tid: $0.key, oncpuNs: $0.value.oncpu_ns, offcpuNs: $0.value.offcpu_ns,
                                    runqNs: $0.value.runq_ns, stolenNs: $0.value.stolen_ns,
                                    switches: $0.value.switches) }
                .sorted { $0.tid < $1.tid }
            let stats = memory[target.pid]
            return ProcessReport(
                pid: target.pid, ppid: target.ppid, comm: target.comm,
                label: label(of: target.pid, parents: parents, labels: labels), startNs: target.startNs,
                exitNs: target.exitNs, exit: target.waitStatus.map(ExitStatus.init(waitStatus:)),
                syscalls: syscalls, syscallTotal: syscalls.values.reduce(0, +),
                syscallLatencyNs: (latency[target.pid] ?? [:]).filter { $0.value.count > 0 }.mapValues(LatencyHistogram.stats),
                oncpuNs: own.reduce(0) { $0 + $1.oncpuNs }, offcpuNs: own.reduce(0) { $0 + $1.offcpuNs },
                runqNs: own.reduce(0) { $0 + $1.runqNs }, stolenNs: own.reduce(0) { $0 + $1.stolenNs }, threads: own, pageFaults: stats?.page_faults ?? 0,
                rssBytes: stats.flatMap { $0.rss_last_ns == 0 ? nil
                    : RSSSummary(min: $0.rss_min_bytes, max: $0.rss_max_bytes, last: $0.rss_last_bytes) },
                rssTimeline: (timelines[target.pid] ?? []).map { [$0.ts_ns, $0.rss_bytes] },
                tcp: tcp[target.pid].map {
                    TCPTrouble(retransmits: $0.retransmits, resetsSent: $0.resets_sent, resetsReceived: $0.resets_received,
                               listenOverflows: $0.listen_overflows, drops: $0.drops)
                })
        }
        try probe.allocations?.annotate(&processes)
        let intervals = probe.offCPUIntervals.map {
            OffCPUInterval(tid: Int32(bitPattern: $0.tid), tgid: Int32(bitPattern: $0.tgid), startNs: $0.start_ns,
                           endNs: $0.end_ns, runqNs: $0.runq_ns, syscall: $0.syscall < 0 ? nil : $0.syscall,
                           preempted: $0.preempted != 0)
        }
        let activity = threads.map { ThreadActivity(tid: $0.key, tgid: Int32(bitPattern: $0.value.tgid), onCpuNs: $0.value.oncpu_ns) }
        let pauses = confirm(PauseDetector().detect(intervals, threads: activity), with: probe.gcEvents,
                             runtimeProbed: probe.runtimeProbedPids)
        return ProbeReport(
            startNs: startNs, endNs: endNs, endReason: end.name, processes: processes, command: command,
            lostEvents: try probe.lostEvents(), pauses: pauses,
            offcpuIntervals: intervals.count, runtimeProbes: probe.runtimeProbes, minOffcpuIntervalNs: probe.minOffCPUIntervalNs,
            families: probe.families.map(\.rawValue))
    }
}

extension ProbeRunner {
    /// The runtime's own GC pauses (USDT) are the truth where there are any: each becomes a confirmed
    /// pause with the runtime's start and duration. In a process whose runtime probes are attached
    /// (`runtimeProbed`), the detector's pauses are dropped: the runtime reports its collections
    /// itself, and on a thread-pool server the scheduler's view alone mistakes the pool's rhythm for
    /// pauses (a Java HttpServer at 3000 req/s: 879 detections in 8 s outside any safepoint). In
    /// other processes the detector's pauses stay, but those overlapping a confirmed one go.
    static func confirm(_ detected: [DetectedPause], with gcEvents: [gc_event], runtimeProbed: Set<Int32> = []) -> [DetectedPause] {
        let confirmed = gcEvents.map { event in
            DetectedPause(pid: Int32(bitPattern: event.tgid), startNs: event.start_ns,
                          durationNs: event.end_ns - event.start_ns, kind: .confirmed, stoppedThreads: [],
                          runningThread: Int32(bitPattern: event.tid))
        }
        let inferred = detected.filter { pause in
            !runtimeProbed.contains(pause.pid)
                && !confirmed.contains { $0.pid == pause.pid && $0.startNs < pause.endNs && pause.startNs < $0.endNs }
        }
        return (confirmed + inferred).sorted { $0.startNs < $1.startNs }
    }
}

/// Why a probe run ended.
enum EndReason: Equatable {
    case duration
    case signal(Int32)
    case commandExited
    case targetsExited

    var name: String {
        switch self {
        case .duration: "duration"
        case .signal: "signal"
        case .commandExited: "command_exited"
        case .targetsExited: "targets_exited"
        }
    }

    var isSignal: Bool { signalNumber != nil }

    var signalNumber: Int32? {
        if case .signal(let number) = self { return number }
        return nil
    }
}

/// Raised once by whichever comes first: a signal, the command's exit.
final class StopFlag: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var first: EndReason?

    var reason: EndReason? { lock.withLock { first } }

    func stop(_ reason: EndReason) {
        lock.withLock { if first == nil { first = reason } }
        semaphore.signal()
    }
}

/// The wait(2) status of a spawned command, filled in by a thread that reaps it.
final class WaitStatusBox: @unchecked Sendable {
    let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var status: Int32?

    var value: Int32? { lock.withLock { status } }

    static func reap(_ pid: Int32, then onExit: @escaping @Sendable () -> Void) -> WaitStatusBox {
        let box = WaitStatusBox()
        Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 {
                guard errno == EINTR else { return }
            }
            box.lock.withLock { box.status = status }
            box.exited.signal()
            onExit()
        }.start()
        return box
    }
}

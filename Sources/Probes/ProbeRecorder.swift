#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import CProbe
import Foundation
import Recording

/// Records one probe session from attach to detach: the recipe is resolve → load → attach and
/// register (attached first for running targets, so no fork slips between; registered first for a
/// command held before exec) → poll until the end → detach → read. Probes are detached on every path
/// out, a signal included; a command archbench started is never left running.
public enum ProbeRecorder {
    /// How long a spawned command gets to exit after SIGTERM before SIGKILL.
    static let stopGraceSeconds = 2.0

    /// Records until the duration passes, the command (or every target) exits, or SIGINT/SIGTERM.
    public static func record(_ request: ProbeRequest, progress: (String) -> Void) throws -> ProbeRecording {
        let live = try LiveProbe(request, progress: progress)
        live.waitForEnd()
        return try live.finish()
    }
}

/// A probe session polling in the background: `snapshot` reads what it has recorded so far (the
/// suite takes one before and after each benchmark), `finish` ends it and reads the whole run.
public final class LiveProbe: @unchecked Sendable {
    private let request: ProbeRequest
    private let probe: KernelProbe
    /// Serializes the polling thread's ticks with snapshots and the end: KernelProbe is not thread-safe.
    private let lock = NSLock()
    private let stop = StopFlag<EndReason>()
    private let ended = DispatchSemaphore(value: 0)
    private var end: EndReason?
    private var finished = false
    private let child: HeldChild?
    private let labels: [Int32: String]
    private let trap: SignalTrap?
    public let startNs: UInt64

    /// The spawned command's pid, when the request names a command.
    public var commandPid: Int32? { child?.pid }

    /// Loads and attaches the probes (spawning the command, held before exec, if there is one) and
    /// starts polling.
    public init(_ request: ProbeRequest, progress: (String) -> Void) throws {
        self.request = request
        let resolved = try TargetSpec.resolve(request.targets)
        let roots = resolved.map(\.process)
        var labels = Dictionary(resolved.compactMap { item in item.label.map { (item.process.pid, $0) } },
                                uniquingKeysWith: { first, _ in first })
        let probe = try KernelProbe(btfPath: request.btfPath, optional: request.optionalFamilies,
                                    allocationSampleEvery: request.allocationSampleEvery,
                                    ringBufferBytes: request.ringBufferBytes)
        self.probe = probe
        let stop = self.stop
        trap = request.trapsSignals ? SignalTrap(signals: [SIGINT, SIGTERM]) { signal in stop.raise(.signal(signal)) } : nil
        var child: HeldChild?
        do {
            startNs = ab_monotonic_ns()
            if request.command.isEmpty {
                try probe.attach()
                // Attach first, then register, then add the descendants alive now: a process forked
                // before its parent was registered is found by the scan, one forked after by the probe.
                for process in roots {
                    try probe.targets.register(process)
                }
                for process in ProcessTable.descendants(of: Set(roots.map(\.pid))) {
                    try probe.targets.register(process)
                }
                let living = try probe.targets.targets().filter { $0.exitNs == nil }
                try Self.watchListeningPorts(probe, alive: Set(living.map(\.pid)))
                for target in living { probe.attachPerProcess(pid: target.pid, comm: target.comm) }
                let list = roots.map { "\($0.pid) (\($0.comm))" }.joined(separator: ", ")
                progress("probing pid \(list) and their children \(Self.untilText(request, "they exit"))")
            } else {
                let held = try HeldChild(argv: request.command, output: request.commandOutput,
                                         diesWithArchbench: request.commandDiesWithArchbench,
                                         identity: request.commandIdentity)
                child = held
                if let label = request.commandLabel { labels[held.pid] = label }
                try probe.targets.register(ProcessEntry(pid: held.pid, ppid: getpid(), comm: "archbench", state: "S"))
                try probe.attach()
                // Before exec: the uprobes stay with the process, and the command's libc is usually this one.
                probe.allocations?.attach(pid: held.pid, beforeExec: true)
                try held.release(command: request.command[0])
                held.reap { stop.raise(.commandExited) }
                progress("probing \(request.command.joined(separator: " ")) (pid \(held.pid)"
                    + (request.commandIdentity.map { ", as \($0)" } ?? "") + ") and its children "
                    + Self.untilText(request, "it exits"))
            }
        } catch {
            trap?.cancel()
            probe.detach()
            throw error
        }
        self.child = child
        self.labels = labels
        let watchingTargets = child == nil
        Thread { [self] in
            let reason = poll(watchingTargets: watchingTargets)
            lock.withLock { end = reason }
            ended.signal()
        }.start()
    }

    deinit {
        if !finished {
            stop.raise(.requested)
            ended.wait()
            probe.detach()
            trap?.cancel()
        }
    }

    /// Blocks until the run ends by itself: the duration, the command's (or every target's) exit,
    /// or a signal.
    public func waitForEnd() {
        ended.wait()
        ended.signal()
    }

    /// Whether the run has ended by itself (duration, the targets' exit, a signal); `finish` reads it.
    public var hasEnded: Bool { lock.withLock { end != nil } }

    /// What was recorded so far, the probes still running: counters are totals since the start.
    public func snapshot() throws(ProbeError) -> ProbeRecording {
        lock.lock()
        defer { lock.unlock() }
        return try recording(endNs: ab_monotonic_ns(), end: "running", command: nil)
    }

    /// Ends the run if it has not ended, detaches the probes, stops a command archbench started,
    /// and reads the whole run.
    public func finish() throws(ProbeError) -> ProbeRecording {
        stop.raise(.requested)
        waitForEnd()
        let end = lock.withLock { self.end } ?? .requested
        let endNs = ab_monotonic_ns()
        probe.detach()
        trap?.cancel()
        finished = true
        var command: CommandOutcome?
        if let child {
            var stopped = false
            if end.isSignal || end == .duration || end == .requested, child.waitStatus == nil {
                stopped = true
                child.stop(signal: end.signalNumber ?? SIGTERM, graceSeconds: ProbeRecorder.stopGraceSeconds)
            }
            command = CommandOutcome(
                argv: request.command, pid: child.pid,
                exit: child.waitStatus.map(ExitStatus.init(waitStatus:)), stoppedByArchbench: stopped)
        }
        lock.lock()
        defer { lock.unlock() }
        return try recording(endNs: endNs, end: end.name, command: command)
    }

    // MARK: - Steps

    private static func untilText(_ request: ProbeRequest, _ otherwise: String) -> String {
        let until = request.duration.map { "for \($0) s" } ?? "until \(otherwise)"
        return request.trapsSignals ? until + "; Ctrl-C to stop" : until
    }

    /// Polls until the stop flag is raised (a signal, the command's exit, `finish`),
    /// the duration passes, or (attached to pids) every target has exited, which the kernel side records.
    private func poll(watchingTargets: Bool) -> EndReason {
        let deadline = request.duration.map { DispatchTime.now() + $0 }
        var nextPortScan = DispatchTime.now()
        // A spawned runtime maps its library (libjvm) moments after exec and may collect soon after:
        // short slices in the first second, so its first collections are not missed. Processes
        // already running when attached by pid/port have theirs mapped at the first look.
        let quickUntil = DispatchTime.now() + (watchingTargets ? 0 : 1)
        let slice = {
            let length = DispatchTime.now() < quickUntil ? 0.01 : 0.1
            guard let deadline else { return length }
            let left = Double(Int64(deadline.uptimeNanoseconds) - Int64(DispatchTime.now().uptimeNanoseconds)) / 1e9
            return max(0, min(length, left))
        }
        return stop.poll(slice: slice) {
            lock.lock()
            defer { lock.unlock() }
            try? probe.poll()
            let targets = (try? probe.targets.targets()) ?? []
            let living = targets.filter { $0.exitNs == nil }
            let alive = Set(living.map(\.pid))
            // A runtime's library is mapped moments after exec: look every slice, not every second.
            for target in living { probe.attachPerProcess(pid: target.pid, comm: target.comm) }
            if DispatchTime.now() >= nextPortScan {
                nextPortScan = DispatchTime.now() + 1
                try? Self.watchListeningPorts(probe, alive: alive)
            }
            if let deadline, DispatchTime.now() >= deadline {
                return .duration
            }
            if watchingTargets, !targets.isEmpty, alive.isEmpty {
                return .targetsExited
            }
            return nil
        }
    }

    /// Registers the targets' listeners, so TCP events on the connections they accept count for
    /// them, and reads the listeners' drops; rescanned every second, as a gateway may start its
    /// services after the probes attached, and once more for every recording.
    static func watchListeningPorts(_ probe: KernelProbe, alive: Set<Int32>) throws(ProbeError) {
        try probe.watch(ProcessTable.listeners(of: alive))
    }

    /// Reads every family into the recording: the one place the families' records meet. Call it
    /// holding `lock`.
    private func recording(endNs: UInt64, end: String, command: CommandOutcome?) throws(ProbeError) -> ProbeRecording {
        try probe.poll()
        try Self.watchListeningPorts(probe, alive: Set(try probe.targets.targets().filter { $0.exitNs == nil }.map(\.pid)))
        let syscalls = try probe.syscalls?.latency() ?? [:]
        let threads = Dictionary(grouping: try probe.sched?.threads(at: endNs) ?? [], by: \.tgid)
        let memory = try probe.memory?.stats() ?? [:]
        let tcp = try probe.tcp?.trouble() ?? [:]
        let targets = try probe.targets.targets()
        let parents = Dictionary(targets.map { ($0.pid, $0.ppid) }, uniquingKeysWith: { first, _ in first })
        var processes = targets.map { target in
            let own = syscalls[target.pid] ?? [:]
            let counts = own.mapValues(\.calls)
            let ownThreads = (threads[target.pid] ?? []).map(\.thread).sorted { $0.tid < $1.tid }
            return ProcessRecord(
                pid: target.pid, ppid: target.ppid, comm: target.comm,
                label: TargetSpec.label(of: target.pid, parents: parents, labels: labels), startNs: target.startNs,
                exitNs: target.exitNs, exit: target.waitStatus.map(ExitStatus.init(waitStatus:)),
                syscalls: counts, syscallTotal: counts.values.reduce(0, +),
                syscallLatencyNs: own.filter { $0.value.stats.count > 0 }.mapValues(\.stats),
                oncpuNs: ownThreads.reduce(0) { $0 + $1.oncpuNs }, offcpuNs: ownThreads.reduce(0) { $0 + $1.offcpuNs },
                runqNs: ownThreads.reduce(0) { $0 + $1.runqNs }, stolenNs: ownThreads.reduce(0) { $0 + $1.stolenNs },
                threads: ownThreads, pageFaults: memory[target.pid]?.pageFaults ?? 0, rssBytes: memory[target.pid]?.rss ?? nil,
                rssTimeline: probe.memory?.timelines[target.pid] ?? [], tcp: tcp[target.pid],
                tcpEvents: probe.tcp?.timelines[target.pid],
                slowSyscalls: probe.syscalls?.slowCalls[target.pid]?.sorted { $0[0] < $1[0] })
        }
        try probe.allocations?.annotate(&processes)
        return ProbeRecording(
            startNs: startNs, endNs: endNs, endReason: end, processes: processes, command: command,
            lostEvents: try probe.lostEvents(), offcpuIntervals: probe.sched?.intervals ?? [],
            minOffcpuIntervalNs: SchedProbe.minOffCPUIntervalNs, runtimePauses: probe.gc?.pauses ?? [],
            runtimeProbedPids: (probe.gc?.probedPids ?? []).sorted(), runtimeProbes: probe.gc?.attachments ?? [],
            families: probe.families.map(\.rawValue))
    }
}

/// Why a probe run ended.
enum EndReason: Sendable, Equatable {
    case duration
    case signal(Int32)
    case commandExited
    case targetsExited
    /// `finish`: the caller ended it.
    case requested

    var name: String {
        switch self {
        case .requested: "stopped"
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

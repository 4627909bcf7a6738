#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import CProbe
import Foundation
import Recording

/// Records one probe session from attach to detach: the recipe is resolve → load → attach and
/// register (attached first for running targets, so no fork slips between; registered first for a
/// command held before exec) → poll until the end → detach → read. Probes are detached on every path out, a signal
/// included; a command archbench started is never left running.
public enum ProbeRecorder {
    /// How long a spawned command gets to exit after SIGTERM before SIGKILL.
    static let stopGraceSeconds = 2.0

    public static func record(_ request: ProbeRequest, progress: (String) -> Void) throws -> ProbeRecording {
        let resolved = try TargetSpec.resolve(request.targets)
        let roots = resolved.map(\.process)
        var labels = Dictionary(resolved.compactMap { item in item.label.map { (item.process.pid, $0) } },
                                uniquingKeysWith: { first, _ in first })
        let probe = try KernelProbe(btfPath: request.btfPath, optional: request.optionalFamilies,
                                    allocationSampleEvery: request.allocationSampleEvery)
        let stop = StopFlag<EndReason>()
        let trap = SignalTrap(signals: [SIGINT, SIGTERM]) { signal in stop.raise(.signal(signal)) }
        defer { trap.cancel() }
        defer { probe.detach() }

        var child: HeldChild?
        let startNs = ab_monotonic_ns()
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
            try watchListeningPorts(probe, alive: Set(living.map(\.pid)))
            for target in living { probe.attachPerProcess(pid: target.pid, comm: target.comm) }
            let list = roots.map { "\($0.pid) (\($0.comm))" }.joined(separator: ", ")
            progress("probing pid \(list) and their children \(untilText(request.duration, "they exit")); Ctrl-C to stop")
        } else {
            let held = try HeldChild(argv: request.command)
            child = held
            if let label = request.commandLabel { labels[held.pid] = label }
            try probe.targets.register(ProcessEntry(pid: held.pid, ppid: getpid(), comm: "archbench", state: "S"))
            try probe.attach()
            // Before exec: the uprobes stay with the process, and the command's libc is usually this one.
            probe.allocations?.attach(pid: held.pid, beforeExec: true)
            try held.release(command: request.command[0])
            held.reap { stop.raise(.commandExited) }
            progress("probing \(request.command.joined(separator: " ")) (pid \(held.pid)) and its children "
                + "\(untilText(request.duration, "it exits")); Ctrl-C to stop")
        }

        let end = wait(for: stop, duration: request.duration, probe: probe, watchingTargets: child == nil)
        let endNs = ab_monotonic_ns()
        probe.detach()

        var command: CommandOutcome?
        if let child {
            var stopped = false
            if end.isSignal || end == .duration, child.waitStatus == nil {
                stopped = true
                child.stop(signal: end.signalNumber ?? SIGTERM, graceSeconds: stopGraceSeconds)
            }
            command = CommandOutcome(
                argv: request.command, pid: child.pid,
                exit: child.waitStatus.map(ExitStatus.init(waitStatus:)), stoppedByArchbench: stopped)
        }
        return try recording(of: probe, startNs: startNs, endNs: endNs, end: end, command: command, labels: labels)
    }

    // MARK: - Steps

    private static func untilText(_ duration: Double?, _ otherwise: String) -> String {
        duration.map { "for \($0) s" } ?? "until \(otherwise)"
    }

    /// Blocks until the stop flag is raised, the duration passes, or (attached to pids) every target
    /// has exited, which the kernel side records.
    private static func wait(for stop: StopFlag<EndReason>, duration: Double?, probe: KernelProbe,
                             watchingTargets: Bool) -> EndReason {
        let deadline = duration.map { DispatchTime.now() + $0 }
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
            try? probe.poll()
            let targets = (try? probe.targets.targets()) ?? []
            let living = targets.filter { $0.exitNs == nil }
            let alive = Set(living.map(\.pid))
            // A runtime's library is mapped moments after exec: look every slice, not every second.
            for target in living { probe.attachPerProcess(pid: target.pid, comm: target.comm) }
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
            return nil
        }
    }

    /// Registers the ports the targets listen on, so TCP events on those sockets count for them;
    /// rescanned every second, as a gateway may start its services after the probes attached.
    static func watchListeningPorts(_ probe: KernelProbe, alive: Set<Int32>) throws(ProbeError) {
        for (port, pid) in ProcessTable.listeningPorts(of: alive) {
            try probe.watchPort(port, of: pid)
        }
    }

    /// Reads every family into the recording: the one place the families' records meet.
    private static func recording(of probe: KernelProbe, startNs: UInt64, endNs: UInt64, end: EndReason,
                                  command: CommandOutcome?, labels: [Int32: String]) throws(ProbeError) -> ProbeRecording {
        try probe.poll()
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
                rssTimeline: probe.memory?.timelines[target.pid] ?? [], tcp: tcp[target.pid])
        }
        try probe.allocations?.annotate(&processes)
        return ProbeRecording(
            startNs: startNs, endNs: endNs, endReason: end.name, processes: processes, command: command,
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

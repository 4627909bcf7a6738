import Foundation
import Recording

/// A kernel-side cause a slow request can overlap.
public enum CauseKind: String, Codable, Sendable, CaseIterable {
    /// A stop-the-world pause of the process (detected, or confirmed by its runtime's probes).
    case pause
    /// A thread of the process blocked in a syscall that is not an idle wait (a lock, the disk),
    /// outside the process's pauses.
    case offcpu
    /// A thread of the process blocked outside any syscall — in a page fault that had to wait (a
    /// major fault: the disk, swap) — outside the process's pauses.
    case pageFaults = "page_faults"
    /// TCP trouble on the process's sockets, each event with the time it holds a request up: a
    /// retransmit the minimum retransmission timeout (200 ms) before it, a drop as long after it,
    /// a listen-queue overflow the 1 s a client waits to resend its SYN after a moment known only to
    /// the scan period (1 s) before its time, a reset 1 ms either side.
    case tcp
    /// A syscall of the process that took 1 ms or more and is not an idle wait (epoll_wait, accept,
    /// sleeps, …), outside the process's pauses; only when syscalls were traced (`--syscalls`).
    case syscall
    /// A thread of the process runnable but waiting for a CPU, outside the process's pauses.
    case runq
}

/// One cause that held for a benchmark's slow requests on one architecture: in `docs/analysis.md`.
public struct RootCause: Codable, Sendable, Equatable {
    public var cause: CauseKind
    /// The process's label (monolith; gateway, users, orders, … for the embedded default), or its
    /// command name.
    public var process: String
    public var pid: Int32
    /// Of the requests above P99, the share that overlapped the cause in this process.
    public var shareOfSlowRequests: Double
    /// The median time each of those overlapped it.
    public var medianOverlapMs: Double
    /// The share expected by chance: requests as long as the slow ones, placed anywhere inside their rounds.
    public var chanceShare: Double
    /// P(at least this many overlaps | the chance share), one-sided binomial.
    public var pValue: Double
    public var slowRequests: Int
}

/// Client latency per window against one kernel series of one process, by rank (Spearman).
public struct WindowCorrelation: Codable, Sendable, Equatable {
    public var cause: CauseKind
    public var process: String
    public var pid: Int32
    /// The client series: each window's P99 latency.
    public var client = "p99_latency"
    public var rho: Double
    public var pValue: Double
    public var windows: Int
}

/// One round of one architecture as the root-cause analysis sees it: what the client recorded and
/// the kernel's recording of the same span.
public struct RoundTimeline: Sendable {
    public var startNs: UInt64
    public var endNs: UInt64
    public var loads: [LoadResult]
    public var recording: ProbeRecording?
    /// The pauses found in it (detected or confirmed), as `ProbeAnalysis.report` gives them.
    public var pauses: [DetectedPause]

    public init(startNs: UInt64, endNs: UInt64, loads: [LoadResult], recording: ProbeRecording?, pauses: [DetectedPause]) {
        self.startNs = startNs
        self.endNs = endNs
        self.loads = loads
        self.recording = recording
        self.pauses = pauses
    }
}

/// Lines up the client's slow requests with the kernel's per process; see `docs/analysis.md`.
public struct RootCauseAnalysis: Sendable {
    /// A cause holds when its overlaps are this unlikely by chance (one-sided binomial). Default 0.01.
    /// With thousands of slow requests a trivial excess is significant, so the share must also beat
    /// chance by `minExcessShare`.
    public var alpha = 0.01
    /// A request overlaps a cause when at least this share of its time (sent to answered) lay in
    /// it. Default 0.1: a cause must explain a tenth of a slow request, not graze it.
    public var minOverlapFraction = 0.1
    /// How far the share must exceed the chance share. Default 0.1: a cause explains at least a tenth
    /// of the slow requests more than chance does (a thread pool blocked 99.98% of the time, met by
    /// every slow request, is no cause).
    public var minExcessShare = 0.1
    /// Which waits are idle (not a cause): the pause detector's classes.
    public var detector = PauseDetector()

    public init() {}

    /// The causes that held over `rounds`, largest share first (empty: no kernel-side cause found),
    /// and the per-window rank correlations. `labels` names processes by pid.
    public func analyse(_ rounds: [RoundTimeline], labels: [Int32: String] = [:])
        -> (causes: [RootCause], correlations: [WindowCorrelation]) {
        struct Tally { var overlapping = 0, chance = 0.0, overlapsNs: [UInt64] = [], comm = "" }
        struct Series { var client: [Double] = [], kernel: [Double] = [], comm = "" }
        var tallies: [Key: Tally] = [:]
        var series: [Key: Series] = [:]
        var slowTotal = 0
        for round in rounds {
            guard let recording = round.recording, round.endNs > round.startNs else { continue }
            let sets = causeSets(recording, pauses: round.pauses)
            let slow = Self.slowSpans(round.loads)
            slowTotal += slow.count
            let roundNs = Double(round.endNs - round.startNs)
            for (key, set) in sets {
                let comm = recording.processes.first { $0.pid == key.pid }?.comm ?? ""
                var tally = tallies[key] ?? Tally(comm: comm)
                var chanceByLength: [UInt64: Double] = [:]
                var edges: IntervalSet.Edges?
                for span in slow {
                    let overlap = set.overlapNs(start: span.start, end: span.end)
                    let needed = neededOverlap(span.end - span.start)
                    if overlap > 0, overlap >= needed {
                        tally.overlapping += 1
                        tally.overlapsNs.append(overlap)
                    }
                    // Lengths within 1% share one computation of the chance.
                    let length = Self.bucketed(span.end - span.start)
                    if chanceByLength[length] == nil {
                        // Placed wholly inside the round: starts from its start to its end less the length.
                        if edges == nil { edges = set.edges(from: round.startNs) }
                        let startsNs = roundNs - Double(length)
                        chanceByLength[length] = startsNs <= 0 ? 1 : min(1, edges!.placements(
                            lengthNs: length, minOverlapNs: neededOverlap(length), end: round.endNs - length) / startsNs)
                    }
                    tally.chance += chanceByLength[length] ?? 0
                }
                tallies[key] = tally
                var pairs = series[key] ?? Series(comm: comm)
                for (windowStart, windowEnd, p99) in Self.windows(round.loads) {
                    pairs.client.append(p99)
                    pairs.kernel.append(Double(set.overlapNs(start: windowStart, end: windowEnd)))
                }
                series[key] = pairs
            }
        }
        var causes: [RootCause] = []
        if slowTotal > 0 {
            for (key, tally) in tallies where tally.overlapping > 0 {
                let share = Double(tally.overlapping) / Double(slowTotal)
                let chance = tally.chance / Double(slowTotal)
                let p = Statistics.binomialUpperTail(successes: tally.overlapping, trials: slowTotal, probability: chance)
                guard share - chance >= minExcessShare, p < alpha else { continue }
                causes.append(RootCause(
                    cause: key.cause, process: labels[key.pid] ?? tally.comm, pid: key.pid, shareOfSlowRequests: share,
                    medianOverlapMs: (Statistics.median(tally.overlapsNs.map { Double($0) }) ?? 0) / 1e6,
                    chanceShare: chance, pValue: p, slowRequests: slowTotal))
            }
        }
        causes.sort { ($0.shareOfSlowRequests, $1.cause.rawValue, $1.pid) > ($1.shareOfSlowRequests, $0.cause.rawValue, $0.pid) }
        var correlations: [WindowCorrelation] = []
        for (key, pairs) in series {
            guard let (rho, p) = Statistics.spearman(pairs.kernel, pairs.client) else { continue }
            correlations.append(WindowCorrelation(cause: key.cause, process: labels[key.pid] ?? pairs.comm, pid: key.pid,
                                                  rho: rho, pValue: p, windows: pairs.client.count))
        }
        correlations.sort { (abs($0.rho), $1.pid, $1.cause.rawValue) > (abs($1.rho), $0.pid, $0.cause.rawValue) }
        return (causes, correlations)
    }

    /// The time a TCP event ([ns, kind]) holds requests up; see `CauseKind.tcp`.
    static func tcpMoment(_ event: [UInt64]) -> (UInt64, UInt64)? {
        guard event.count == 2, let kind = TCPEventKind(rawValue: event[1]) else { return nil }
        let at = event[0], minimumRTONs: UInt64 = 200_000_000
        switch kind {
        case .retransmit: return (at - min(at, minimumRTONs), at)
        case .drop: return (at, at + minimumRTONs)
        case .listenOverflow: return (at - min(at, 1_000_000_000), at + 1_000_000_000)
        case .resetSent, .resetReceived: return (at - min(at, 1_000_000), at + 1_000_000)
        }
    }

    func neededOverlap(_ lengthNs: UInt64) -> UInt64 { max(1, UInt64(Double(lengthNs) * minOverlapFraction)) }

    /// A length rounded down to two significant digits and a bit (within 1%).
    static func bucketed(_ lengthNs: UInt64) -> UInt64 {
        var scale: UInt64 = 1
        while lengthNs / scale >= 128 { scale *= 2 }
        return lengthNs / scale * scale
    }

    struct Key: Hashable {
        var cause: CauseKind
        var pid: Int32
    }

    /// Per process, the moments of each cause in `recording`. Off-CPU and run-queue time inside a
    /// pause belong to the pause, the more specific cause.
    func causeSets(_ recording: ProbeRecording, pauses: [DetectedPause]) -> [Key: IntervalSet] {
        var sets: [Key: IntervalSet] = [:]
        let byProcess = Dictionary(grouping: recording.offcpuIntervals, by: \.tgid)
        let waitKind = PauseDetector.WaitKinds(detector)
        for process in recording.processes {
            let paused = IntervalSet(pauses.filter { $0.pid == process.pid }.map { ($0.startNs, $0.endNs) })
            let intervals = byProcess[process.pid] ?? []
            func blockedPart(_ interval: OffCPUInterval) -> (UInt64, UInt64) {
                (interval.startNs, interval.endNs - min(interval.runqNs, interval.durationNs))
            }
            let waits = intervals.filter { !$0.preempted && waitKind($0) != .idle }
            let blocked = IntervalSet(waits.filter { $0.syscall != nil }.map(blockedPart))
            let faulting = IntervalSet(waits.filter { $0.syscall == nil }.map(blockedPart))
            let runnable = IntervalSet(intervals.map { ($0.endNs - min($0.runqNs, $0.durationNs), $0.endNs) })
            sets[Key(cause: .pause, pid: process.pid)] = paused
            sets[Key(cause: .offcpu, pid: process.pid)] = blocked.subtracting(paused)
            sets[Key(cause: .pageFaults, pid: process.pid)] = faulting.subtracting(paused)
            sets[Key(cause: .tcp, pid: process.pid)] = IntervalSet((process.tcpEvents ?? []).compactMap(Self.tcpMoment))
            let slowCalls = (process.slowSyscalls ?? []).filter { $0.count == 3 && !detector.idleSyscalls.contains(Int32(truncatingIfNeeded: $0[2])) }
            sets[Key(cause: .syscall, pid: process.pid)] = IntervalSet(slowCalls.map { ($0[0], $0[0] + $0[1]) }).subtracting(paused)
            sets[Key(cause: .runq, pid: process.pid)] = runnable.subtracting(paused)
        }
        return sets.filter { !$0.value.isEmpty }
    }

    /// The server-side spans (sent to answered) of the requests slower than their load's P99.
    /// Latency counts from the intended start, as the load's percentiles do in open loop.
    static func slowSpans(_ loads: [LoadResult]) -> [(start: UInt64, end: UInt64)] {
        loads.flatMap { load -> [(start: UInt64, end: UInt64)] in
            let p99Ns = load.latencyUs.p99 * 1000
            return load.slowRequests
                .filter { $0.endNs > $0.sentNs && Double($0.endNs - min($0.intendedNs, $0.sentNs)) > p99Ns }
                .map { ($0.sentNs, $0.endNs) }
        }
    }

    /// Each window with responses: its span and its P99 in µs.
    static func windows(_ loads: [LoadResult]) -> [(UInt64, UInt64, Double)] {
        loads.flatMap { load -> [(UInt64, UInt64, Double)] in
            let starts = load.windows.map(\.startNs)
            let steps = zip(starts, starts.dropFirst()).map { $1 &- $0 }.filter { $0 > 0 }
            let length = steps.min() ?? 100_000_000
            return load.windows.filter { $0.responses > 0 }.map { ($0.startNs, $0.startNs + length, $0.p99Us) }
        }
    }
}

extension RootCause {
    /// "71% of api_response_times requests above P99 overlapped a stop-the-world pause in pid 1234
    /// (orders); median overlap 38 ms".
    public func sentence(benchmark: String) -> String {
        let what = switch cause {
        case .pause: "a stop-the-world pause"
        case .offcpu: "a thread blocked off-CPU"
        case .pageFaults: "a thread blocked in a page fault"
        case .tcp: "TCP trouble (a retransmit, reset or drop)"
        case .syscall: "a syscall of 1 ms or more"
        case .runq: "a thread waiting for a CPU"
        }
        return String(format: "%.0f%% of %@ requests above P99 overlapped %@ in pid %d (%@); median overlap %.1f ms",
                      shareOfSlowRequests * 100, benchmark, what, pid, process, medianOverlapMs)
    }

    /// What to look at next for this kind of cause.
    public var advice: String {
        switch cause {
        case .pause: "shorten or spread its collector's pauses (heap size, a concurrent collector)"
        case .offcpu: "find what it blocks on (locks, disk): archbench probe --syscalls shows where"
        case .pageFaults: "keep its memory resident: more RAM, a smaller heap, no swap, preloaded files"
        case .tcp: "look at its connections: accept backlog, buffers, lost packets (archbench probe shows its TCP counters)"
        case .syscall: "see which syscalls are slow: archbench probe --syscalls lists their latency"
        case .runq: "give it CPU: fewer threads than cores, or less competing work on the host"
        }
    }
}

import Recording

/// The `analysis` section of `comprehensive_results_*.json` (docs/architecture.md, docs/analysis.md).
public struct SuiteAnalysis: Codable, Sendable {
    /// Every A/B delta the suite reports, with its interval and verdict.
    public var deltas: [Delta] = []
    /// `root_causes[architecture][benchmark]`: ranked, largest share first; empty when no
    /// kernel-side cause was found (or the probes did not run).
    public var rootCauses: [String: [String: [RootCause]]] = [:]
    /// `correlations[architecture][benchmark]`: client P99 per window against each kernel series.
    public var correlations: [String: [String: [WindowCorrelation]]] = [:]
    /// `leaks[architecture]`: per process, from its RSS during memory_usage.
    public var leaks: [String: [ProcessLeak]] = [:]
    /// `gc[architecture]`: per process with pauses.
    public var gc: [String: [GCImpact]] = [:]
    /// What could not be analysed, and why.
    public var notes: [String] = []

    public init() {}

    /// The top cause over the benchmarks of `architecture`: the one with the largest share.
    public func topCause(of architecture: String) -> (benchmark: String, cause: RootCause)? {
        (rootCauses[architecture] ?? [:]).compactMap { benchmark, causes in causes.first.map { (benchmark, $0) } }
            .max { ($0.1.shareOfSlowRequests, $1.0) < ($1.1.shareOfSlowRequests, $0.0) }
    }
}

/// A process's leak verdict, labelled, with what it was read from.
public struct ProcessLeak: Codable, Sendable, Equatable {
    /// Its label, or its command name.
    public var process: String
    public var pid: Int32
    public var comm: String
    public var leakSuspected: Bool
    public var growthBytesPerS: Double
    public var ci95BytesPerS: [Double]
    public var samples: Int
    public var method: String
    /// Why there was no verdict (too short, too few points); nil when there was one.
    public var reason: String?
    public var rssBytes: RSSSummary?
    public var rssPoints: Int
    /// Its outstanding native allocations by stack, when they were recorded (`--alloc`).
    public var allocations: AllocationRecord?

    public init(process: ProcessRecord, label: String?, verdict: LeakVerdict) {
        self.process = label ?? process.label ?? process.comm
        pid = process.pid
        comm = process.comm
        leakSuspected = verdict.leakSuspected
        growthBytesPerS = verdict.growthBytesPerS
        ci95BytesPerS = verdict.ci95BytesPerS
        samples = verdict.samples
        method = verdict.method
        reason = verdict.reason
        rssBytes = process.rssBytes
        rssPoints = process.rssTimeline.count
        allocations = process.allocations
    }

    /// Every one of `processes`, by the leak detector over [startNs, endNs] (or the
    /// part of it the process lived).
    public static func of(_ processes: [ProcessRecord], startNs: UInt64, endNs: UInt64, labels: [Int32: String] = [:],
                          detector: LeakDetector = LeakDetector()) -> [ProcessLeak] {
        processes.map { process in
            let points = process.rssTimeline.filter { $0.count == 2 }.map { (ns: $0[0], bytes: $0[1]) }
            guard !points.isEmpty else {
                return ProcessLeak(process: process, label: labels[process.pid], verdict: LeakVerdict(
                    leakSuspected: false, growthBytesPerS: 0, ci95BytesPerS: [0, 0], samples: 0, method: "none",
                    reason: "its RSS never moved by a recording step (64 KiB or 1/128 of it) while probed"))
            }
            let verdict = detector.detect(points, startNs: max(startNs, process.startNs),
                                          endNs: process.exitNs.map { min($0, endNs) } ?? endNs)
            return ProcessLeak(process: process, label: labels[process.pid], verdict: verdict)
        }
    }
}

/// What stop-the-world pauses cost one process over an architecture's rounds.
public struct GCImpact: Codable, Sendable, Equatable {
    public var process: String
    public var pid: Int32
    public var pauses: Int
    /// Time in pauses over the rounds' wall time.
    public var pauseShare: Double
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double
    /// Requests above P99 that overlapped one of its pauses, of `slowRequests`.
    public var slowRequestsOverlapping: Int
    public var slowRequests: Int

    /// Per process with pauses in `rounds`, largest pause share first.
    public static func of(_ rounds: [RoundTimeline], labels: [Int32: String] = [:]) -> [GCImpact] {
        let wallNs = rounds.reduce(UInt64(0)) { $0 + ($1.endNs &- $1.startNs) }
        let slow = rounds.map { RootCauseAnalysis.slowSpans($0.loads) }
        let pids = Set(rounds.flatMap { $0.pauses.map(\.pid) })
        var impacts: [GCImpact] = []
        for pid in pids {
            var durations: [Double] = [], overlapping = 0
            for (round, spans) in zip(rounds, slow) {
                let mine = round.pauses.filter { $0.pid == pid && $0.endNs > round.startNs && $0.startNs < round.endNs }
                durations += mine.map { Double($0.durationNs) }
                let set = IntervalSet(mine.map { ($0.startNs, $0.endNs) })
                overlapping += spans.filter { set.overlapNs(start: $0.start, end: $0.end) > 0 }.count
            }
            guard !durations.isEmpty else { continue }
            let comm = rounds.lazy.compactMap { $0.recording?.processes.first { $0.pid == pid }?.comm }.first ?? ""
            impacts.append(GCImpact(
                process: labels[pid] ?? comm, pid: pid, pauses: durations.count,
                pauseShare: wallNs > 0 ? durations.reduce(0, +) / Double(wallNs) : 0,
                p50Ms: (Statistics.quantile(durations, 0.5) ?? 0) / 1e6, p99Ms: (Statistics.quantile(durations, 0.99) ?? 0) / 1e6,
                maxMs: (durations.max() ?? 0) / 1e6, slowRequestsOverlapping: overlapping,
                slowRequests: slow.reduce(0) { $0 + $1.count }))
        }
        return impacts.sorted { ($0.pauseShare, $1.pid) > ($1.pauseShare, $0.pid) }
    }
}

extension ProbeRecording {
    /// The resident bytes of all its processes at `ns`: each process's last RSS point at or before
    /// it (its first point, or its summary's last size, when it has none before); nil when no
    /// process has a size.
    public func residentBytes(at ns: UInt64) -> Double? {
        var total = 0.0, known = false
        for process in processes {
            // Searched in place, from the end: the significance asks this at the end of every block.
            let timeline = process.rssTimeline
            let size = timeline.last { $0.count == 2 && $0[0] <= ns }?[1] ?? timeline.first { $0.count == 2 }?[1]
                ?? process.rssBytes?.last
            if let size {
                total += Double(size)
                known = true
            }
        }
        return known ? total : nil
    }
}

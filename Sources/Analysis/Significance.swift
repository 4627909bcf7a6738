import ArchbenchCore
import Foundation
import Recording

/// Whether a difference between the baseline and the candidate is a change, and which way.
public enum DeltaVerdict: String, Codable, Sendable {
    case better
    case worse
    case withinNoise = "within_noise"
}

/// One A/B difference with its 95% interval: in `docs/analysis.md`.
public struct Delta: Codable, Sendable, Equatable {
    public var benchmark: String
    public var metric: String
    public var baseline: Double
    public var candidate: Double
    /// (candidate − baseline) / baseline × 100.
    public var changePct: Double
    public var ci95Pct: [Double]
    /// Cliff's delta of the candidate's blocks against the baseline's (−1 … 1; > 0: larger values).
    public var effectSize: Double
    /// Two-sided Mann–Whitney U over the blocks (for reference; the verdict is the interval's).
    public var pValue: Double
    public var verdict: DeltaVerdict
    /// Blocks of the baseline, then of the candidate.
    public var samples: [Int]
    public var method: String
    /// The REST endpoint (`GET /api/users`) of a per-endpoint delta; nil for the benchmark's own figure.
    public var endpoint: String? = nil
}

/// A stretch of one round's load (`Significance.blockWindows` windows of 100 ms): the unit the
/// significance resamples.
public struct LoadBlock: Sendable, Equatable {
    public var seconds: Double
    public var responses: UInt64
    public var errors: UInt64
    /// Latencies by power of two of µs, as `LoadWindow.log2Counts`.
    public var log2Counts: [UInt64]
    /// The architecture's resident memory at the block's end, summed over its processes (nil
    /// without probes).
    public var memoryBytes: Double?

    public init(seconds: Double, responses: UInt64, errors: UInt64, log2Counts: [UInt64], memoryBytes: Double? = nil) {
        self.seconds = seconds
        self.responses = responses
        self.errors = errors
        self.log2Counts = log2Counts
        self.memoryBytes = memoryBytes
    }
}

/// The metrics a delta is computed for, each with the statistic read from a set of blocks.
public enum DeltaMetric: String, CaseIterable, Sendable {
    case throughput = "throughput"
    case latencyP50 = "latency_p50_ms"
    case latencyP95 = "latency_p95_ms"
    case latencyP99 = "latency_p99_ms"
    case successRate = "success_rate"
    case memory = "memory_bytes"

    /// Whether a larger value is better.
    public var higherIsBetter: Bool { self == .throughput || self == .successRate }

    /// The statistic over `blocks` pooled; nil when they do not define it.
    func pooled(_ blocks: [LoadBlock]) -> Double? {
        switch self {
        case .throughput:
            let seconds = blocks.reduce(0) { $0 + $1.seconds }
            return seconds > 0 ? Double(blocks.reduce(0) { $0 + $1.responses }) / seconds : nil
        case .successRate:
            let responses = blocks.reduce(UInt64(0)) { $0 + $1.responses }, errors = blocks.reduce(UInt64(0)) { $0 + $1.errors }
            return responses + errors > 0 ? Double(responses) / Double(responses + errors) : nil
        case .latencyP50, .latencyP95, .latencyP99:
            var counts: [UInt64] = []
            for block in blocks {
                if counts.count < block.log2Counts.count { counts += Array(repeating: 0, count: block.log2Counts.count - counts.count) }
                for (index, count) in block.log2Counts.enumerated() { counts[index] += count }
            }
            let q = self == .latencyP50 ? 0.50 : self == .latencyP95 ? 0.95 : 0.99
            return Significance.log2Percentile(counts, q).map { $0 / 1000 }
        case .memory:
            let values = blocks.compactMap(\.memoryBytes)
            return values.isEmpty || values.count < blocks.count ? nil : values.reduce(0, +) / Double(values.count)
        }
    }
}

/// The significance of A/B deltas by a two-level bootstrap over rounds and blocks; see
/// `docs/analysis.md` for the method and why.
public struct Significance: Sendable {
    /// 100 ms windows per block. Default 5 (half a second): long enough that neighbouring blocks
    /// share little, short enough for several per round at `--duration 2`.
    public static let blockWindows = 5
    /// Bootstrap replicates. Default 2000.
    public var replicates = 2000
    public var confidence = 0.95

    public init() {}

    /// The delta of `metric` between the baseline's and the candidate's rounds (each round its
    /// blocks), reported as `baseline` → `candidate` (the suite's own figures, which the interval is
    /// centred on); nil when either side has no block defining the metric.
    ///
    /// `baselineFigures` and `candidateFigures`, when given, are each round's own figure of the
    /// metric (as the benchmark reported it); the round-level interval uses them rather than the
    /// rounds' blocks. When the blocks do not stand for the figure (`blocksMakeTheFigure` false: a
    /// round of several loads, such as a concurrency sweep whose steps differ from round to round),
    /// only the round-level interval is used.
    public func delta(benchmark: String, metric: DeltaMetric, baseline: Double, candidate: Double,
                      baselineRounds: [[LoadBlock]], candidateRounds: [[LoadBlock]],
                      baselineFigures: [Double]? = nil, candidateFigures: [Double]? = nil,
                      blocksMakeTheFigure: Bool = true) -> Delta? {
        let a = baselineRounds.filter { !$0.isEmpty }, b = candidateRounds.filter { !$0.isEmpty }
        guard baseline != 0, let fullA = metric.pooled(a.flatMap { $0 }), let fullB = metric.pooled(b.flatMap { $0 }),
              fullA != 0 else { return nil }
        let change = (candidate - baseline) / abs(baseline) * 100
        let figuresA = baselineFigures ?? a.compactMap { metric.pooled($0) }
        let figuresB = candidateFigures ?? b.compactMap { metric.pooled($0) }
        let roundInterval = Self.roundInterval(figuresA, figuresB, change: change, confidence: confidence)
        guard blocksMakeTheFigure else {
            return figuresDelta(benchmark: benchmark, metric: metric, baseline: baseline, candidate: candidate,
                                baselineFigures: figuresA, candidateFigures: figuresB,
                                why: "the blocks of a round of several loads do not make its figure")
        }
        let blockChange = (fullB - fullA) / abs(fullA) * 100
        var generator = SplitMix64(seed: FNV1a.hash("\(benchmark)/\(metric.rawValue)"))
        var changes: [Double] = []
        changes.reserveCapacity(replicates)
        for _ in 0..<replicates {
            guard let valueA = metric.pooled(Self.resample(a, &generator)),
                  let valueB = metric.pooled(Self.resample(b, &generator)), valueA != 0 else { continue }
            changes.append((valueB - valueA) / abs(valueA) * 100)
        }
        // Centred on the reported change: the bootstrap gives the spread of the blocks' estimate
        // around its full-sample value, which is applied to the suite's own figure.
        let tail = (1 - confidence) / 2
        // As ratios, so that the interval never reaches below −100%.
        func centred(_ replicate: Double) -> Double { ((1 + change / 100) * (1 + replicate / 100) / (1 + blockChange / 100) - 1) * 100 }
        var low = Statistics.quantile(changes, tail).map(centred) ?? change
        var high = Statistics.quantile(changes, 1 - tail).map(centred) ?? change
        // The blocks of a round share its conditions (the machine's other load, the order the
        // architectures ran in), which resampling two or three rounds cannot show: the interval is
        // also at least as wide as Student's t with the rounds as units.
        if let (roundLow, roundHigh) = roundInterval {
            low = min(low, roundLow)
            high = max(high, roundHigh)
        }
        // Below the recording's resolution a difference is not seen: memory is recorded in steps
        // of 1/128 of RSS, one step on each side.
        if metric == .memory {
            low = min(low, change - 100.0 / 64)
            high = max(high, change + 100.0 / 64)
        }
        let valuesA = a.flatMap { $0 }.compactMap { metric.pooled([$0]) }
        let valuesB = b.flatMap { $0 }.compactMap { metric.pooled([$0]) }
        let test = Statistics.mannWhitney(valuesB, valuesA)
        let effect = Self.cliffsDelta(valuesA, valuesB)
        let verdict: DeltaVerdict
        if changes.count < replicates / 2 || a.flatMap({ $0 }).count < 2 || b.flatMap({ $0 }).count < 2 {
            verdict = .withinNoise
        } else if low > 0 || high < 0 {
            verdict = (high < 0) != metric.higherIsBetter ? .better : .worse
        } else {
            verdict = .withinNoise
        }
        return Delta(benchmark: benchmark, metric: metric.rawValue, baseline: baseline, candidate: candidate,
                     changePct: change, ci95Pct: [low, high], effectSize: effect, pValue: test?.pValue ?? 1,
                     verdict: verdict, samples: [a.flatMap { $0 }.count, b.flatMap { $0 }.count],
                     method: "bootstrap over rounds, then \(Self.blockWindows * 100) ms blocks within each (\(replicates) replicates),"
                         + " widened to Student's t over rounds")
    }

    /// The delta of a figure known only per round (an endpoint's P95, a sweep's maximum): the
    /// interval is Student's t over the rounds' own figures (`roundInterval`). Nil with fewer than
    /// 3 rounds in all: with no interval there is no verdict, and the validation judges the change
    /// by its size alone. `why` says in the method why the blocks were not used.
    public func figuresDelta(benchmark: String, metric: DeltaMetric, endpoint: String? = nil, baseline: Double, candidate: Double,
                             baselineFigures: [Double], candidateFigures: [Double], why: String) -> Delta? {
        guard baseline != 0, !baselineFigures.isEmpty, !candidateFigures.isEmpty else { return nil }
        let change = (candidate - baseline) / abs(baseline) * 100
        guard let (low, high) = Self.roundInterval(baselineFigures, candidateFigures, change: change, confidence: confidence)
        else { return nil }
        let changed = low > 0 || high < 0
        return Delta(benchmark: benchmark, metric: metric.rawValue, baseline: baseline, candidate: candidate,
                     changePct: change, ci95Pct: [low, high], effectSize: Self.cliffsDelta(baselineFigures, candidateFigures),
                     pValue: Statistics.mannWhitney(candidateFigures, baselineFigures)?.pValue ?? 1,
                     verdict: changed ? ((high < 0) != metric.higherIsBetter ? .better : .worse) : .withinNoise,
                     samples: [baselineFigures.count, candidateFigures.count],
                     method: "Student's t over the rounds' own figures (\(why))", endpoint: endpoint)
    }

    /// The interval of the change from the rounds as units: the reported change scaled by
    /// exp(± t × the standard error of the difference of the mean log values), the rounds' variance
    /// pooled over both architectures, t with (rounds − 2) degrees of freedom. Nil with fewer than 3
    /// rounds in all.
    static func roundInterval(_ a: [Double], _ b: [Double], change: Double, confidence: Double) -> (Double, Double)? {
        let logsA = a.filter { $0 > 0 }.map { log($0) }, logsB = b.filter { $0 > 0 }.map { log($0) }
        guard !logsA.isEmpty, !logsB.isEmpty, logsA.count + logsB.count >= 3 else { return nil }
        func squares(_ values: [Double]) -> Double {
            let mean = values.reduce(0, +) / Double(values.count)
            return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        }
        let df = Double(logsA.count + logsB.count - 2)
        let variance = (squares(logsA) + squares(logsB)) / df
        let standardError = (variance * (1 / Double(logsA.count) + 1 / Double(logsB.count))).squareRoot()
        let spread = studentQuantile(1 - (1 - confidence) / 2, degreesOfFreedom: df) * standardError
        let factor = 1 + change / 100
        return ((factor * exp(-spread) - 1) * 100, (factor * exp(spread) - 1) * 100)
    }

    /// Cliff's delta of `b` against `a`: P(b > a) − P(b < a) over all pairs, from the Mann–Whitney U.
    static func cliffsDelta(_ a: [Double], _ b: [Double]) -> Double {
        Statistics.mannWhitney(b, a).map { 2 * $0.u / Double(a.count * b.count) - 1 } ?? 0
    }

    /// The p-quantile (p > 0.5) of Student's t, by bisection on its survival function.
    static func studentQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        var low = 0.0, high = 1e4
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if Statistics.studentTSurvival(middle, degreesOfFreedom: nu) > 1 - p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// Rounds drawn with replacement, then each drawn round's blocks with replacement.
    static func resample(_ rounds: [[LoadBlock]], _ generator: inout SplitMix64) -> [LoadBlock] {
        var drawn: [LoadBlock] = []
        for _ in rounds.indices {
            let round = rounds[Int(generator.next() % UInt64(rounds.count))]
            for _ in round.indices { drawn.append(round[Int(generator.next() % UInt64(round.count))]) }
        }
        return drawn
    }

    /// The q-quantile of a histogram by power of two of µs (bucket i: [2^i, 2^(i+1)) µs), in µs,
    /// interpolated log-linearly inside the bucket; nil when empty.
    public static func log2Percentile(_ counts: [UInt64], _ q: Double) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = q * Double(total)
        var below = 0.0
        for (index, count) in counts.enumerated() where count > 0 {
            if below + Double(count) >= rank {
                let fraction = max(0, min(1, (rank - below) / Double(count)))
                return Double(1 << index) * exp2(fraction)
            }
            below += Double(count)
        }
        return Double(1 << (counts.count - 1)) * 2
    }

    /// A round's loads cut into blocks of `blockWindows` windows (the last, shorter one kept when at
    /// least half full). `memory` gives the architecture's resident bytes at a time, if known.
    public static func blocks(_ loads: [LoadResult], memory: ((UInt64) -> Double?)? = nil) -> [LoadBlock] {
        var blocks: [LoadBlock] = []
        for load in loads where !load.windows.isEmpty {
            let starts = load.windows.map(\.startNs)
            let windowNs = zip(starts, starts.dropFirst()).map { $1 &- $0 }.filter { $0 > 0 }.min() ?? 100_000_000
            var index = 0
            while index < load.windows.count {
                let slice = load.windows[index..<min(index + blockWindows, load.windows.count)]
                index += blockWindows
                guard slice.count * 2 >= blockWindows else { continue }
                var counts: [UInt64] = []
                for window in slice {
                    if counts.count < window.log2Counts.count { counts += Array(repeating: 0, count: window.log2Counts.count - counts.count) }
                    for (bucket, count) in window.log2Counts.enumerated() { counts[bucket] += UInt64(count) }
                }
                let endNs = (slice.last?.startNs ?? 0) + windowNs
                blocks.append(LoadBlock(seconds: Double(slice.count) * Double(windowNs) / 1e9,
                                        responses: slice.reduce(0) { $0 + $1.responses },
                                        errors: slice.reduce(0) { $0 + $1.errors }, log2Counts: counts,
                                        memoryBytes: memory?(endNs)))
            }
        }
        return blocks
    }
}

/// Which series a value belongs to: one metric of one benchmark on one architecture (and one REST
/// endpoint, for per-endpoint latency).
public struct SeriesKey: Hashable, Codable, Sendable, Comparable {
    public var architecture: String
    public var benchmark: String
    public var metric: String
    /// "" for the benchmark's own figure.
    public var endpoint: String

    public init(architecture: String, benchmark: String, metric: String, endpoint: String = "") {
        self.architecture = architecture
        self.benchmark = benchmark
        self.metric = metric
        self.endpoint = endpoint
    }

    /// `api_response_times.latency_p95_ms` or `api_response_times.latency_p95_ms GET /api/users`.
    public var name: String { "\(benchmark).\(metric)" + (endpoint.isEmpty ? "" : " \(endpoint)") }

    /// The thresholds table's row for the metric, nil for a metric with none.
    public var threshold: String? {
        switch metric {
        case "throughput": "throughput"
        case "success_rate": "success_rate"
        case "memory_bytes": "memory"
        default: metric.hasPrefix("latency_") ? "latency" : nil
        }
    }

    public static func < (a: SeriesKey, b: SeriesKey) -> Bool {
        (a.architecture, a.benchmark, a.metric, a.endpoint) < (b.architecture, b.benchmark, b.metric, b.endpoint)
    }
}

/// One run's value of a series.
public struct SeriesPoint: Codable, Sendable, Equatable {
    /// The run's id in the history.
    public var run: Int64
    public var value: Double

    public init(run: Int64, value: Double) {
        self.run = run
        self.value = value
    }
}

public enum RegressionSeverity: String, Codable, Sendable {
    case warning, critical
}

/// A regression of this run against the history: a shift from the recent baseline, or a sustained trend.
public struct RegressionFinding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// This run's value against the median of the recent runs.
        case shift
        /// The last runs drift one way (Mann–Kendall), by more than the warning threshold in all.
        case trend
    }

    public var architecture: String
    public var benchmark: String
    public var metric: String
    public var endpoint: String?
    public var kind: Kind
    public var severity: RegressionSeverity
    /// This run's value (shift), or the fitted line at this run (trend).
    public var current: Double
    /// The recent baseline's median (shift), or the fitted line at the trend window's first run.
    public var reference: Double
    /// Runs the reference is made of.
    public var runs: Int
    /// Against `reference`, in percent, signed as the value moved.
    public var changePct: Double
    /// (current − median) / robust spread, signed so that positive is worse; nil for a trend.
    public var robustZ: Double?
    /// Mann–Kendall's p-value, for a trend.
    public var pValue: Double?
    public var warningPct: Double
    public var criticalPct: Double

    public var key: SeriesKey { SeriesKey(architecture: architecture, benchmark: benchmark, metric: metric, endpoint: endpoint ?? "") }
}

/// A change point in a series, by E-divisive means.
public struct SeriesChangePoint: Codable, Sendable, Equatable {
    public var architecture: String
    public var benchmark: String
    public var metric: String
    public var endpoint: String?
    /// The first run of the new level.
    public var run: Int64
    public var meanBefore: Double
    public var meanAfter: Double
    public var changePct: Double
    public var pValue: Double
    /// Set where series of several workloads are shown together (`archbench history`).
    public var workload: String? = nil
}

/// A monotonic trend over the last runs of a series (Mann–Kendall, Theil–Sen slope).
public struct SeriesTrend: Codable, Sendable, Equatable {
    public var architecture: String
    public var benchmark: String
    public var metric: String
    public var endpoint: String?
    public var runs: Int
    /// Theil–Sen slope per run, in percent of the window's median.
    public var slopePctPerRun: Double
    /// The Theil–Sen line at the window's first and last run.
    public var fittedFirst: Double
    public var fittedLast: Double
    public var pValue: Double
    /// `worsening`, `improving`, or `rising`/`falling` for a metric with no threshold.
    public var direction: String
    /// Set where series of several workloads are shown together (`archbench history`).
    public var workload: String? = nil
}

/// The regression section of the results: this run against the history of the same workload.
public struct RegressionAnalysis: Codable, Sendable, Equatable {
    /// Earlier runs of the same workload in the history.
    public var historyRuns: Int = 0
    public var findings: [RegressionFinding] = []
    public var changePoints: [SeriesChangePoint] = []
    public var trends: [SeriesTrend] = []
    public var notes: [String] = []

    public init() {}
}

/// Regression detection against a run history (docs/validation.md, "Regression detection"):
/// - **shift**: this run's value against the median of the recent baseline — the last
///   `baselineRuns` earlier runs after the last change point — by a robust z-score,
///   (value − median) / max(1.4826 · MAD, `spreadFloorPct`% of the median). A finding needs
///   z at or past `criticalZ(n)` in the worse direction *and* a change past the thresholds table's
///   warning (critical) row: unusual for this series and large enough to matter.
/// - **trend**: the last `trendRuns` runs (this one included) rise or fall monotonically by
///   Mann–Kendall at `trendPValue`; a warning when the Theil–Sen line moved by the warning threshold
///   or more over the window, in the worse direction.
/// - **change points** of each series (history and this run) by E-divisive means as Apache Otava
///   computes them (`Statistics.changePoints`).
public struct RegressionDetector: Sendable {
    public var baselineRuns = 10
    public var minBaselineRuns = 3
    /// The z a shift needs from a long history; a short one needs more (`criticalZ`).
    public var zThreshold = 3.0
    /// The one-sided false-alarm rate per series that `criticalZ` holds for a short history.
    public var falseAlarmRate = 0.001
    public var spreadFloorPct = 1.0
    public var trendRuns = 5
    public var trendPValue = 0.05
    public var changePointOptions = ChangePointOptions()

    public init() {}

    /// The run id of this run's points before the history has given it one.
    public static let thisRun: Int64 = -1

    /// `history[key]`: the earlier runs' values, oldest first; `current`: this run's, under `run`
    /// (nil when it was not recorded). `earlierRuns` counts the history's runs of this workload.
    public func analyse(history: [SeriesKey: [SeriesPoint]], current: [SeriesKey: Double], run: Int64?, earlierRuns: Int,
                        thresholds: [String: ThresholdSpec] = Thresholds.seed) -> RegressionAnalysis {
        var analysis = RegressionAnalysis()
        analysis.historyRuns = earlierRuns
        let table = Thresholds.seed.merging(thresholds) { $1 }
        var tooShort = 0
        for key in current.keys.sorted() {
            guard let value = current[key], value.isFinite else { continue }
            let earlier = history[key] ?? []
            let series = earlier + [SeriesPoint(run: run ?? Self.thisRun, value: value)]
            let points = changePoints(series, key: key)
            analysis.changePoints += points
            let trend = trend(series, key: key)
            if let trend { analysis.trends.append(trend) }
            guard let row = key.threshold, let threshold = table[row] else { continue }
            // The recent baseline starts at the last change point before this run.
            let lastChange = points.filter { $0.run != series.last!.run }.last.flatMap { point in earlier.firstIndex { $0.run == point.run } }
            let baseline = Array(earlier[(lastChange ?? 0)...].suffix(baselineRuns)).map(\.value)
            if baseline.count < minBaselineRuns {
                tooShort += 1
            } else if let finding = shift(value, baseline: baseline, key: key, threshold: threshold, row: row) {
                analysis.findings.append(finding)
            }
            if let trend, let finding = trendFinding(trend, key: key, threshold: threshold, row: row) {
                analysis.findings.append(finding)
            }
        }
        if tooShort > 0, earlierRuns > 0 {
            analysis.notes.append("\(tooShort) series have fewer than \(minBaselineRuns) earlier runs since their last change point:"
                + " no shift is judged for them yet")
        }
        analysis.findings.sort { ($0.severity == .critical ? 0 : 1, -abs($0.changePct)) < ($1.severity == .critical ? 0 : 1, -abs($1.changePct)) }
        return analysis
    }

    /// The robust z-score of `value` against `baseline`: (value − median) / max(1.4826 · MAD,
    /// `spreadFloorPct`% of |median|). Nil for an empty baseline or a zero median and spread.
    public func robustZ(_ value: Double, baseline: [Double]) -> (median: Double, spread: Double, z: Double)? {
        guard let median = Statistics.median(baseline),
              let mad = Statistics.median(baseline.map { abs($0 - median) }) else { return nil }
        let spread = max(1.4826 * mad, spreadFloorPct / 100 * abs(median))
        guard spread > 0 else { return nil }
        return (median, spread, (value - median) / spread)
    }

    /// The z a shift needs against `n` baseline runs: the bound of Student's t prediction interval
    /// for one new value, t(1 − `falseAlarmRate`, n − 1) · √(1 + 1/n), with the robust spread in
    /// place of the standard deviation; never below `zThreshold`. A median and MAD of three runs
    /// say little about the next one (25.7 for n = 3, 7.9 for 5, 4.5 for 10, 3.7 for 20).
    public func criticalZ(runs n: Int) -> Double {
        guard n >= 2 else { return .infinity }
        let t = Significance.studentQuantile(1 - falseAlarmRate, degreesOfFreedom: Double(n - 1))
        return max(zThreshold, t * (1 + 1 / Double(n)).squareRoot())
    }

    func shift(_ value: Double, baseline: [Double], key: SeriesKey, threshold: ThresholdSpec, row: String) -> RegressionFinding? {
        guard let (median, _, z) = robustZ(value, baseline: baseline), median != 0 else { return nil }
        let falls = Thresholds.falling.contains(row)
        let worseZ = falls ? -z : z
        let change = (value - median) / abs(median) * 100
        func reached(_ limit: Double) -> Bool { falls ? change <= limit : change >= limit }
        guard worseZ >= criticalZ(runs: baseline.count), reached(threshold.warning) else { return nil }
        return RegressionFinding(architecture: key.architecture, benchmark: key.benchmark, metric: key.metric,
                                 endpoint: key.endpoint.isEmpty ? nil : key.endpoint, kind: .shift,
                                 severity: reached(threshold.critical) ? .critical : .warning, current: value, reference: median,
                                 runs: baseline.count, changePct: change, robustZ: worseZ, pValue: nil,
                                 warningPct: threshold.warning, criticalPct: threshold.critical)
    }

    /// The Mann–Kendall trend of the last `trendRuns` values, when significant.
    public func trend(_ series: [SeriesPoint], key: SeriesKey) -> SeriesTrend? {
        guard series.count >= trendRuns else { return nil }
        let window = series.suffix(trendRuns).map(\.value)
        guard let test = Statistics.mannKendall(window), test.pValue <= trendPValue,
              let fit = Statistics.theilSen(x: window.indices.map(Double.init), y: window),
              let median = Statistics.median(window), median != 0 else { return nil }
        let slope = fit.slope / abs(median) * 100
        let direction: String
        if let row = key.threshold {
            direction = (slope < 0) == Thresholds.falling.contains(row) ? "worsening" : "improving"
        } else {
            direction = slope > 0 ? "rising" : "falling"
        }
        return SeriesTrend(architecture: key.architecture, benchmark: key.benchmark, metric: key.metric,
                           endpoint: key.endpoint.isEmpty ? nil : key.endpoint, runs: window.count, slopePctPerRun: slope,
                           fittedFirst: fit.intercept, fittedLast: fit.intercept + fit.slope * Double(window.count - 1),
                           pValue: test.pValue, direction: direction)
    }

    /// A worsening trend whose fitted line moved by the warning threshold or more over the window.
    func trendFinding(_ trend: SeriesTrend, key: SeriesKey, threshold: ThresholdSpec, row: String) -> RegressionFinding? {
        guard trend.direction == "worsening", trend.fittedFirst != 0 else { return nil }
        let total = (trend.fittedLast - trend.fittedFirst) / abs(trend.fittedFirst) * 100
        let falls = Thresholds.falling.contains(row)
        guard falls ? total <= threshold.warning : total >= threshold.warning else { return nil }
        return RegressionFinding(architecture: key.architecture, benchmark: key.benchmark, metric: key.metric,
                                 endpoint: key.endpoint.isEmpty ? nil : key.endpoint, kind: .trend, severity: .warning,
                                 current: trend.fittedLast, reference: trend.fittedFirst, runs: trend.runs, changePct: total,
                                 robustZ: nil, pValue: trend.pValue, warningPct: threshold.warning, criticalPct: threshold.critical)
    }

    /// The change points of `series`, oldest first.
    public func changePoints(_ series: [SeriesPoint], key: SeriesKey) -> [SeriesChangePoint] {
        Statistics.changePoints(series.map(\.value), options: changePointOptions).map { point in
            SeriesChangePoint(architecture: key.architecture, benchmark: key.benchmark, metric: key.metric,
                              endpoint: key.endpoint.isEmpty ? nil : key.endpoint, run: series[point.index].run,
                              meanBefore: point.meanBefore, meanAfter: point.meanAfter,
                              changePct: point.meanBefore != 0 ? (point.meanAfter - point.meanBefore) / abs(point.meanBefore) * 100 : 0,
                              pValue: point.pValue)
        }
    }
}

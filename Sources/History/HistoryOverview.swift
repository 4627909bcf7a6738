import Analysis
import ArchbenchCore

/// What `archbench history` shows: the runs, and per series its values, change points and trend.
public struct HistoryOverview: Codable, Sendable {
    public struct Series: Codable, Sendable {
        public var workload: String
        public var architecture: String
        public var benchmark: String
        public var metric: String
        public var endpoint: String?
        public var points: [SeriesPoint]

        public var key: SeriesKey { SeriesKey(architecture: architecture, benchmark: benchmark, metric: metric, endpoint: endpoint ?? "") }
    }

    public var history: String
    public var runs: [HistoryRun]
    /// The `--metric` asked for, if any.
    public var metric: String?
    /// The key metrics' series (`keyMetrics`), per architecture.
    public var keySeries: [Series]
    /// The series `--metric` names; empty without it.
    public var series: [Series]
    /// Change points of every series (or of the named ones), per workload.
    public var changePoints: [SeriesChangePoint]
    /// Significant trends over each series' last runs.
    public var trends: [SeriesTrend]

    /// The key metrics: what a glance at a run should show.
    public static let keyMetrics = [
        ("api_response_times", "latency_p95_ms"), ("websocket_latency", "latency_p99_ms"),
        ("concurrent_handling", "throughput"), ("training_throughput", "throughput"), ("memory_usage", "memory_bytes"),
    ]

    /// The overview of `store`, of one workload when given; `metric` selects series whose name
    /// (`benchmark.metric[ endpoint]`) equals it, or whose metric or `benchmark.metric` does.
    public static func of(_ store: HistoryStore, workload: String? = nil, metric: String? = nil,
                          detector: RegressionDetector = RegressionDetector()) throws(HistoryError) -> HistoryOverview {
        let runs = try store.runs(workload: workload)
        var all: [Series] = []
        for name in Set(runs.map(\.workload)).sorted() {
            for (key, points) in try store.series(workload: name).sorted(by: { $0.key < $1.key }) {
                all.append(Series(workload: name, architecture: key.architecture, benchmark: key.benchmark, metric: key.metric,
                                  endpoint: key.endpoint.isEmpty ? nil : key.endpoint, points: points))
            }
        }
        let keySeries = all.filter { series in
            series.endpoint == nil && keyMetrics.contains { $0 == (series.benchmark, series.metric) }
        }
        let selected: [Series]
        if let metric {
            selected = all.filter { series in
                [series.key.name, series.metric, "\(series.benchmark).\(series.metric)"].contains(metric)
            }
            guard !selected.isEmpty else {
                let known = Set(all.map { "\($0.benchmark).\($0.metric)" }).sorted()
                throw HistoryError(path: store.path, message: "no series is named \(metric); known: \(known.joined(separator: ", "))",
                                   exitCode: .usage)
            }
        } else {
            selected = []
        }
        let judged = metric == nil ? all : selected
        return HistoryOverview(history: store.path, runs: runs, metric: metric, keySeries: keySeries, series: selected,
                               changePoints: judged.flatMap { series in
                                   detector.changePoints(series.points, key: series.key).map { point in
                                       var point = point
                                       point.workload = series.workload
                                       return point
                                   }
                               },
                               trends: judged.compactMap { series in
                                   detector.trend(series.points, key: series.key).map { trend in
                                       var trend = trend
                                       trend.workload = series.workload
                                       return trend
                                   }
                               })
    }
}

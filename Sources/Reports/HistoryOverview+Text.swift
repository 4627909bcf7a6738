import Analysis
import ArchbenchCore
import Foundation
import History

extension HistoryOverview {
    public func json() throws -> String { try JSONCoding.string(self) }

    /// The runs as a table (date, commit, workload, rating, exit, and the key metrics as
    /// baseline / candidate), then each shown series run by run per architecture, the change points
    /// and the trends.
    public func text() -> String {
        var lines = ["archbench history \(history): \(runs.count) run(s)"]
        guard !runs.isEmpty else { return (lines + ["  no runs yet: archbench run records one per run"]).joined(separator: "\n") + "\n" }
        // series name → architecture → run → value
        var values: [String: [String: [Int64: Double]]] = [:]
        var order: [String] = []
        var metricOf: [String: String] = [:]
        for series in keySeries + series {
            let name = series.key.name
            if !order.contains(name) { order.append(name) }
            metricOf[name] = series.metric
            for point in series.points { values[name, default: [:]][series.architecture, default: [:]][point.run] = point.value }
        }
        let keyNames = Self.keyMetrics.map { "\($0.0).\($0.1)" }
        var rows = [["run", "date", "commit", "workload", "rating", "exit", "checks"]
            + Self.keyMetrics.map { Self.shortLabel($0.0, $0.1) }]
        for run in runs {
            let id = run.id ?? 0
            let cells = keyNames.map { name -> String in
                let pair = [run.baseline, run.candidate].map { values[name]?[$0]?[id].map { Self.short($0, metric: metricOf[name] ?? "") } ?? "-" }
                return pair == ["-", "-"] ? "-" : pair.joined(separator: " / ")
            }
            rows.append(["#\(id)", Self.date(run.startedAt), run.commit ?? "-", run.workload, run.rating, "\(run.exitCode)",
                         "\(run.checksPassed)/\(run.checksTotal)"] + cells)
        }
        lines.append("")
        lines += Figure.table(rows)
        lines.append("  (key metrics as baseline / candidate)")
        for name in order where series.contains(where: { $0.key.name == name }) {
            let architectures = Set(values[name]?.keys.map { $0 } ?? []).sorted()
            var table = [["run", "date", "commit"] + architectures]
            for run in runs {
                let id = run.id ?? 0
                let cells = architectures.map { values[name]?[$0]?[id].map { Figure.value($0, metric: metricOf[name] ?? "") } ?? "-" }
                if cells.allSatisfy({ $0 == "-" }) { continue }
                table.append(["#\(id)", Self.date(run.startedAt), run.commit ?? "-"] + cells)
            }
            lines.append("")
            lines.append(name)
            lines += Figure.table(table)
        }
        lines.append("")
        lines.append("CHANGE POINTS (E-divisive means as Apache Otava computes them)")
        if changePoints.isEmpty { lines.append("  none") }
        lines += changePoints.map { "  \($0.line)" }
        lines.append("")
        lines.append("TRENDS (each series' last runs, Mann–Kendall, Theil–Sen slope)")
        if trends.isEmpty { lines.append("  none") }
        lines += trends.map { "  \($0.line)" }
        return lines.map(Figure.plain).joined(separator: "\n") + "\n"
    }

    static func date(_ iso: String) -> String { String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ") }

    /// A key metric's column heading, with its unit.
    static func shortLabel(_ benchmark: String, _ metric: String) -> String {
        switch (benchmark, metric) {
        case ("api_response_times", "latency_p95_ms"): "api p95 ms"
        case ("websocket_latency", "latency_p99_ms"): "ws p99 ms"
        case ("concurrent_handling", "throughput"): "max req/s"
        case ("training_throughput", "throughput"): "models/s"
        case ("memory_usage", "memory_bytes"): "peak RSS MiB"
        default: "\(benchmark).\(metric)"
        }
    }

    /// A figure without its unit (the column says it).
    static func short(_ value: Double, metric: String) -> String {
        if metric.hasSuffix("bytes") { return String(format: "%.1f", value / 1_048_576) }
        if metric.hasSuffix("_ms") { return String(format: value < 10 ? "%.2f" : "%.1f", value) }
        return String(format: "%.1f", value)
    }
}

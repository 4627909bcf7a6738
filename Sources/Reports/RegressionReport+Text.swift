import Analysis
import Foundation

extension RegressionAnalysis {
    /// `regression_report_*.txt`: the candidate's regressions against the baseline in this run, then
    /// this run against the history (shifts and trends with their severity), the change points of
    /// each series, and recommendations citing the kernel-side root cause where one was found.
    public func text(_ context: GateContext, validation: ValidationOutcome, detector: RegressionDetector = RegressionDetector()) -> String {
        var lines = [
            "archbench regression report",
            "run \(context.timestamp), workload \(context.workload): \(context.candidate) (candidate) against \(context.baseline) (baseline)",
            "",
        ]
        let flagged = validation.checks.filter { $0.verdict != .pass }
        lines.append("AGAINST THE BASELINE IN THIS RUN (\(flagged.count) of \(validation.checks.count) checks flagged)")
        if flagged.isEmpty { lines.append("  none: every change is within its thresholds or within noise") }
        for check in flagged.sorted(by: { ($0.verdict == .critical ? 0 : 1) < ($1.verdict == .critical ? 0 : 1) }) {
            lines.append("  \(check.verdict == .critical ? "CRITICAL" : "WARNING ") \(check.sentence)")
            if let cause = context.cause(context.candidate, check.benchmark) { lines.append("           kernel: \(cause)") }
        }
        lines.append("")
        let where_ = context.historyPath.map { " in \($0)" } ?? ""
        lines.append("AGAINST THE HISTORY (\(historyRuns) earlier run(s) of workload \(context.workload)\(where_)"
            + (context.historyRun.map { "; this run is #\($0)" } ?? "") + ")")
        lines.append(String(format: "  method: robust z-score against the median of the last %d runs since the series' last change point"
            + " (spread 1.4826 × MAD, at least %.0f%% of the median); a finding needs, in the worse direction, z past Student's t"
            + " prediction bound for that many runs (%.1f for 3, %.1f for 5, %.1f for 10) and a change past the thresholds table",
            detector.baselineRuns, detector.spreadFloorPct, detector.criticalZ(runs: 3), detector.criticalZ(runs: 5),
            detector.criticalZ(runs: 10)))
        if historyRuns == 0 { lines.append("  no earlier runs: this run starts the history") }
        for finding in findings {
            lines.append("  \(finding.severity == .critical ? "CRITICAL" : "WARNING ") \(finding.sentence)")
            if let cause = context.cause(finding.architecture, finding.benchmark) { lines.append("           kernel: \(cause)") }
        }
        if findings.isEmpty && historyRuns > 0 { lines.append("  none") }
        lines += notes.map { "  note: \($0)" }
        lines.append("")
        lines.append("CHANGE POINTS (E-divisive means as Apache Otava computes them: window \(detector.changePointOptions.windowLength),"
            + " p ≤ \(detector.changePointOptions.maxPValue))")
        if changePoints.isEmpty { lines.append("  none") }
        for point in changePoints {
            lines.append("  \(point.line)" + (point.run == context.historyRun ? "  ← this run" : ""))
        }
        lines.append("")
        lines.append("TRENDS (last \(detector.trendRuns) runs, Mann–Kendall p ≤ \(detector.trendPValue), Theil–Sen slope)")
        if trends.isEmpty { lines.append("  none") }
        for trend in trends {
            lines.append("  \(trend.line)")
        }
        if !context.recommendations.isEmpty {
            lines.append("")
            lines.append("RECOMMENDATIONS")
            lines += context.recommendations.map { "  \($0)" }
        }
        return lines.map(Figure.plain).joined(separator: "\n") + "\n"
    }
}

extension RegressionFinding {
    /// "microservices api_response_times.latency_p95_ms GET /api/users: 31.400 ms against a median of
    /// 1.210 ms over 5 runs (+2495.0%, z 48.1; critical at +25%)".
    public var sentence: String {
        let name = "\(architecture) \(key.name)"
        switch kind {
        case .shift:
            return "\(name): \(Figure.value(current, metric: metric)) against a median of \(Figure.value(reference, metric: metric))"
                + " over \(runs) runs (\(Figure.percent(changePct)), z \(String(format: "%.1f", robustZ ?? 0));"
                + " warning at \(Figure.percent(warningPct)), critical at \(Figure.percent(criticalPct)))"
        case .trend:
            return "\(name): a sustained trend, fitted \(Figure.value(reference, metric: metric)) → \(Figure.value(current, metric: metric))"
                + " over the last \(runs) runs (\(Figure.percent(changePct)); Mann–Kendall p \(String(format: "%.2g", pValue ?? 1)))"
        }
    }
}

extension SeriesChangePoint {
    /// "candidate api_response_times.latency_p95_ms: from run #3, mean 19.9 ms → 39.2 ms (+97.0%, p 1e-05)".
    var line: String {
        (workload.map { "[\($0)] " } ?? "") + "\(architecture) "
            + SeriesKey(architecture: architecture, benchmark: benchmark, metric: metric, endpoint: endpoint ?? "").name
            + ": from " + (run == RegressionDetector.thisRun ? "this run (not recorded)" : "run #\(run)") + ", mean \(Figure.value(meanBefore, metric: metric)) → \(Figure.value(meanAfter, metric: metric))"
            + " (\(Figure.percent(changePct)), p \(String(format: "%.2g", pValue)))"
    }
}

extension SeriesTrend {
    /// "candidate api_response_times.latency_p95_ms: worsening +4.0% per run over the last 5 runs (p 0.028)".
    var line: String {
        (workload.map { "[\($0)] " } ?? "") + "\(architecture) "
            + SeriesKey(architecture: architecture, benchmark: benchmark, metric: metric, endpoint: endpoint ?? "").name
            + ": \(direction) \(Figure.percent(slopePctPerRun)) per run over the last \(runs) runs (p \(String(format: "%.2g", pValue)))"
    }
}

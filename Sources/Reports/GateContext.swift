import Analysis
import Foundation

/// What the gate's reports (validation, regression, JUnit, CI summary) say about the run besides
/// the validation and the regression analysis.
public struct GateContext: Sendable {
    public var timestamp: String
    public var workload: String
    public var baseline: String
    public var candidate: String
    public var exitCode: Int32
    /// Why the exit code is what it is ("2 critical check(s), 1 critical regression(s) against the history").
    public var exitReason: String
    /// Benchmark rounds that failed, with why.
    public var failures: [String]
    /// The analysis: root causes are cited next to the regressions they may explain.
    public var analysis: SuiteAnalysis
    public var regression: RegressionAnalysis?
    /// The history file and this run's id in it, when it was recorded.
    public var historyPath: String?
    public var historyRun: Int64?
    public var recommendations: [String]

    public init(timestamp: String, workload: String, baseline: String, candidate: String, exitCode: Int32, exitReason: String,
                failures: [String],
                analysis: SuiteAnalysis, regression: RegressionAnalysis?, historyPath: String?, historyRun: Int64?,
                recommendations: [String]) {
        self.timestamp = timestamp
        self.workload = workload
        self.baseline = baseline
        self.candidate = candidate
        self.exitCode = exitCode
        self.exitReason = exitReason
        self.failures = failures
        self.analysis = analysis
        self.regression = regression
        self.historyPath = historyPath
        self.historyRun = historyRun
        self.recommendations = recommendations
    }

    /// The top kernel-side cause of `benchmark`'s slow requests on `architecture`, as a sentence.
    func cause(_ architecture: String, _ benchmark: String) -> String? {
        analysis.rootCauses[architecture]?[benchmark]?.first.map { $0.sentence(benchmark: benchmark) }
    }
}

/// Figures as the reports print them, by metric.
enum Figure {
    /// A line of a text report with its control characters made visible (`\n`, `\u{1B}`): a name from
    /// the data (a process's comm, an endpoint, an architecture) cannot start a line of its own or
    /// send escape sequences to the terminal that shows the report.
    static func plain(_ line: String) -> String {
        // Controls, and the separators and bidi overrides that can split or reorder a line on screen.
        func hidden(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.generalCategory == .control || (0x2028...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value)
        }
        guard line.unicodeScalars.contains(where: hidden) else { return line }
        var out = ""
        for scalar in line.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where hidden(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func value(_ value: Double, metric: String) -> String {
        if metric.hasSuffix("_ms") { return String(format: value < 10 ? "%.3f ms" : "%.1f ms", value) }
        if metric == "success_rate" { return String(format: "%.2f%%", value * 100) }
        if metric.hasSuffix("bytes") { return ProbeReport.bytes(UInt64(max(0, value).rounded())) }
        return String(format: "%.1f/s", value)
    }

    static func percent(_ value: Double) -> String { String(format: "%+.1f%%", value) }

    static func interval(_ ci: [Double]?) -> String {
        guard let ci, ci.count == 2 else { return "n/a" }
        return "[\(percent(ci[0])), \(percent(ci[1]))]"
    }

    /// Columns padded to the widest cell of each.
    static func table(_ rows: [[String]], indent: String = "  ") -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            indent + row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}

extension ValidationCheck {
    /// `pass`, `pass (within noise)`, `warning`, `CRITICAL`.
    public var verdictText: String {
        switch verdict {
        case .pass: withinNoise ? "pass (within noise)" : "pass"
        case .warning: "warning"
        case .critical: "CRITICAL"
        }
    }

    /// "api_response_times latency_p95_ms GET /api/users: 1.210 ms → 31.4 ms (+2495.0%, 95% CI
    /// [+2100.3%, +2890.1%], judged +2100.3%; warning at +10.0%, critical at +25.0%)".
    public var sentence: String {
        let judged = withinNoise ? ", within noise" : ci95Pct == nil ? "" : ", judged \(Figure.percent(judgedPct))"
        return "\(name): \(Figure.value(baseline, metric: metric)) → \(Figure.value(candidate, metric: metric))"
            + " (\(Figure.percent(changePct)), 95% CI \(Figure.interval(ci95Pct))\(judged); warning at \(Figure.percent(warningPct)),"
            + " critical at \(Figure.percent(criticalPct)))"
    }
}

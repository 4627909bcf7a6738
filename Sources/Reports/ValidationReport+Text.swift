import Analysis
import Foundation

extension ValidationOutcome {
    /// `validation_report_*.txt`: the rating and its reason, the five requirements, then every check
    /// by requirement with its numbers, 95% interval, thresholds and verdict.
    public func text(_ context: GateContext, thresholds: [String: ThresholdSpec]) -> String {
        var lines = [
            "archbench validation report",
            "run \(context.timestamp), workload \(context.workload): \(context.candidate) (candidate) against \(context.baseline) (baseline)",
            "",
            "RATING   \(rating.rawValue): \(ratingReason)",
            String(format: "QUALITY  %.1f of 100 (passes count 1, warnings ½, critical 0)", qualityScore),
            "GATE     exit \(context.exitCode): \(context.exitReason)",
            "",
            "THRESHOLDS (change against the baseline, judged by its 95% interval's end nearest zero; warning / critical;"
                + " a change within noise passes)",
        ]
        let table = Thresholds.seed.merging(thresholds) { $1 }
        for metric in Thresholds.metrics {
            guard let row = table[metric] else { continue }
            lines.append("  \(metric.padding(toLength: 13, withPad: " ", startingAt: 0)) \(Figure.percent(row.warning)) / \(Figure.percent(row.critical))"
                + (Thresholds.falling.contains(metric) ? "  (a fall)" : "  (a rise)"))
        }
        lines.append("")
        lines.append("REQUIREMENTS (\(requirementsPassed) of \(requirementsMeasured) measured passed)")
        for requirement in requirements {
            let mark = requirement.passed.map { $0 ? "PASS" : "FAIL" } ?? "n/a "
            lines.append("  \(mark)  \(requirement.requirement.padding(toLength: 24, withPad: " ", startingAt: 0))"
                + "\(requirement.checks) checks, \(requirement.warnings) warning(s), \(requirement.critical) critical"
                + (requirement.passed == nil ? " (not measured in this run)" : ""))
        }
        for requirement in Requirement.allCases where requirement != .overallQuality {
            let own = checks.filter { $0.requirement == requirement.rawValue }
            guard !own.isEmpty else { continue }
            lines.append("")
            lines.append(requirement.rawValue.uppercased())
            var rows = [["benchmark", "metric", "baseline", "candidate", "change", "95% CI", "judged", "warn / crit", "verdict"]]
            for check in own {
                rows.append([check.benchmark, check.metric + (check.endpoint.map { " \($0)" } ?? ""),
                             Figure.value(check.baseline, metric: check.metric), Figure.value(check.candidate, metric: check.metric),
                             Figure.percent(check.changePct), Figure.interval(check.ci95Pct), Figure.percent(check.judgedPct),
                             "\(Figure.percent(check.warningPct)) / \(Figure.percent(check.criticalPct))", check.verdictText])
            }
            lines += Figure.table(rows)
        }
        let flagged = checks.filter { $0.verdict != .pass }
        if !flagged.isEmpty {
            lines.append("")
            lines.append("FLAGGED")
            for check in flagged {
                lines.append("  \(check.verdictText): \(check.sentence)")
                if let cause = context.cause(context.candidate, check.benchmark) { lines.append("    kernel: \(cause)") }
            }
        }
        if !context.failures.isEmpty {
            lines.append("")
            lines.append("FAILED ROUNDS")
            lines += context.failures.map { "  \($0)" }
        }
        return lines.map(Figure.plain).joined(separator: "\n") + "\n"
    }
}

import Analysis
import Foundation

/// `ci_summary_*.md`: the gate in Markdown for a CI step summary (GitHub's `$GITHUB_STEP_SUMMARY`,
/// a merge-request comment): the verdict, the requirements, what was flagged and why.
public enum CISummary {
    public static func markdown(_ validation: ValidationOutcome, context: GateContext, files: [String]) -> String {
        let passed = context.exitCode == 0
        var lines = [
            "## archbench: \(passed ? "✅ passed" : "❌ failed") — \(validation.rating.rawValue)",
            "",
            "`\(context.candidate)` (candidate) against `\(context.baseline)` (baseline), workload `\(context.workload)`, \(context.timestamp).",
            "Exit \(context.exitCode): \(context.exitReason). Rating \(validation.rating.rawValue): \(validation.ratingReason).",
            "",
            "| requirement | result | checks | warnings | critical |",
            "|---|---|---:|---:|---:|",
        ]
        for requirement in validation.requirements {
            let result = requirement.passed.map { $0 ? "✅ pass" : "❌ fail" } ?? "— not measured"
            lines.append("| \(requirement.requirement) | \(result) | \(requirement.checks) | \(requirement.warnings) | \(requirement.critical) |")
        }
        let flagged = validation.checks.filter { $0.verdict != .pass }
        lines.append("")
        if flagged.isEmpty {
            let noise = validation.checks.filter(\.withinNoise).count
            lines.append("No check flagged (\(validation.checks.count) checks, \(noise) of them within noise).")
        } else {
            lines.append("| verdict | check | baseline | candidate | change | 95% CI |")
            lines.append("|---|---|---:|---:|---:|---|")
            for check in flagged.sorted(by: { ($0.verdict == .critical ? 0 : 1) < ($1.verdict == .critical ? 0 : 1) }) {
                lines.append("| \(check.verdict == .critical ? "🔴 critical" : "🟡 warning") | \(cell(check.name)) |"
                    + " \(Figure.value(check.baseline, metric: check.metric)) | \(Figure.value(check.candidate, metric: check.metric)) |"
                    + " \(Figure.percent(check.changePct)) | \(Figure.interval(check.ci95Pct)) |")
            }
        }
        if let regression = context.regression {
            lines.append("")
            lines.append("**Against the history** (\(regression.historyRuns) earlier runs): "
                + (regression.findings.isEmpty ? "no regression." : "\(regression.findings.count) finding(s)."))
            for finding in regression.findings {
                lines.append("- \(finding.severity == .critical ? "🔴" : "🟡") \(cell(finding.sentence))")
            }
            lines += regression.notes.map { "- note: \(cell($0))" }
        }
        let causes = [context.baseline, context.candidate].compactMap { architecture in
            context.analysis.topCause(of: architecture).map { "- `\(architecture)`: \(cell($0.cause.sentence(benchmark: $0.benchmark)))" }
        }
        if !causes.isEmpty {
            lines.append("")
            lines.append("**Kernel-side causes of slow requests**")
            lines += causes
        }
        if !context.failures.isEmpty {
            lines.append("")
            lines.append("**Failed rounds**")
            lines += context.failures.map { "- \(cell($0))" }
        }
        if !context.recommendations.isEmpty {
            lines.append("")
            lines.append("**Recommendations**")
            lines += context.recommendations.map { "- \(cell($0))" }
        }
        if !files.isEmpty {
            lines.append("")
            lines.append("Files: " + files.map { "`\(($0 as NSString).lastPathComponent)`" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Safe inside a table cell.
    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}

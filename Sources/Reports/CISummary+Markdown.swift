import Analysis
import Foundation

/// `ci_summary_*.md`: the gate in Markdown for a CI step summary (GitHub's `$GITHUB_STEP_SUMMARY`,
/// a merge-request comment): the verdict, the requirements, what was flagged and why.
public enum CISummary {
    public static func markdown(_ validation: ValidationOutcome, context: GateContext, files: [String],
                                sections: [RenderedSection] = []) -> String {
        let passed = context.exitCode == 0
        var lines = [
            "## archbench: \(passed ? "✅ passed" : "❌ failed") — \(validation.rating.rawValue)",
            "",
            "\(code(context.candidate)) (candidate) against \(code(context.baseline)) (baseline), workload \(code(context.workload)), \(cell(context.timestamp)).",
            "Exit \(context.exitCode): \(cell(context.exitReason)). Rating \(validation.rating.rawValue): \(cell(validation.ratingReason)).",
            "",
            "| requirement | result | checks | warnings | critical |",
            "|---|---|---:|---:|---:|",
        ]
        for requirement in validation.requirements {
            let result = requirement.passed.map { $0 ? "✅ pass" : "❌ fail" } ?? "— not measured"
            lines.append("| \(cell(requirement.requirement)) | \(result) | \(requirement.checks) | \(requirement.warnings) | \(requirement.critical) |")
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
            context.analysis.topCause(of: architecture).map { "- \(code(architecture)): \(cell($0.cause.sentence(benchmark: $0.benchmark)))" }
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
        for section in sections {
            lines.append("")
            lines.append("**\(cell(section.title))**")
            if let error = section.error {
                lines.append("")
                lines.append("not computed: \(cell(error))")
                continue
            }
            lines.append("")
            lines.append("| " + section.header.map(cell).joined(separator: " | ") + " |")
            lines.append("|" + String(repeating: "---|", count: max(1, section.header.count)))
            lines += section.rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        }
        if !files.isEmpty {
            lines.append("")
            lines.append("Files: " + files.map { "`\(($0 as NSString).lastPathComponent)`" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Safe inside a table cell and as Markdown text: a CI renders Markdown to HTML, so a name from
    /// the data cannot open a tag, a link, a table cell or a code span. The backslash goes first, so
    /// that the escapes added after it stay escapes.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "[", with: "\\[")
            .replacingOccurrences(of: "]", with: "\\]")
            .replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "\n", with: " ")
    }

    /// A name as a code span; a backtick in it could not be escaped there, so it becomes a quote.
    static func code(_ text: String) -> String {
        "`" + text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "\n", with: " ") + "`"
    }
}

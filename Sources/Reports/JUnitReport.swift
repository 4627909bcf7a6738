import Analysis
import Foundation

/// `junit_*.xml`: the gate in the JUnit XML that CI servers (Jenkins, GitLab, GitHub Actions'
/// test reporters) read. One test suite per requirement and one test case per validation check,
/// failed when the check is critical, the failure's message holding the numbers; critical history
/// regressions are a suite of their own. Warnings and every check's figures go to the suite's
/// `system-out`. Written to the Ant/Jenkins JUnit schema (docs/validation.md says which).
public enum JUnitReport {
    public static func xml(_ validation: ValidationOutcome, context: GateContext, hostname: String) -> String {
        struct Case {
            var name: String
            var classname: String
            var failure: (message: String, type: String)?
            var note: String
        }
        var suites: [(name: String, cases: [Case])] = []
        for requirement in Requirement.allCases where requirement != .overallQuality {
            let cases = validation.checks.filter { $0.requirement == requirement.rawValue }.map { check in
                Case(name: check.metric + (check.endpoint.map { " \($0)" } ?? ""),
                     classname: "archbench.\(requirement.rawValue).\(check.benchmark)",
                     failure: check.verdict == .critical ? ("critical regression: \(check.sentence)", "critical") : nil,
                     note: "\(check.verdictText): \(check.sentence)")
            }
            suites.append((requirement.rawValue, cases))
        }
        let overall = Case(name: "quality rating", classname: "archbench.overall_quality",
                           failure: validation.rating == .poor ? ("rating POOR: \(validation.ratingReason)", "rating") : nil,
                           note: String(format: "%@: %@ (quality score %.1f)", validation.rating.rawValue, validation.ratingReason,
                                        validation.qualityScore))
        suites.append((Requirement.overallQuality.rawValue, [overall]))
        // What else decides the exit code: failed rounds, a history that could not be used.
        let historyTrouble = (context.regression?.notes ?? []).filter { $0.contains("could not be") }
        suites.append(("run", [
            Case(name: "benchmark rounds", classname: "archbench.run",
                 failure: context.failures.isEmpty ? nil : ("\(context.failures.count) round(s) failed: \(context.failures.joined(separator: "; "))", "rounds"),
                 note: context.failures.isEmpty ? "every round ran" : context.failures.joined(separator: "\n")),
            Case(name: "run history", classname: "archbench.run",
                 failure: historyTrouble.isEmpty ? nil : (historyTrouble.joined(separator: "; "), "history"),
                 note: context.historyPath.map { "recorded in \($0)" + (context.historyRun.map { " as run #\($0)" } ?? "") } ?? "no history"),
        ]))
        if let regression = context.regression {
            let cases = regression.findings.map { finding in
                Case(name: "\(finding.key.name) \(finding.kind.rawValue)", classname: "archbench.history.\(finding.architecture)",
                     failure: finding.severity == .critical ? ("critical regression against the history: \(finding.sentence)", "critical") : nil,
                     note: "\(finding.severity.rawValue): \(finding.sentence)")
            }
            suites.append(("history", cases))
        }
        let timestamp = String(context.timestamp.prefix(19))
        let tests = suites.reduce(0) { $0 + $1.cases.count }
        let failures = suites.reduce(0) { $0 + $1.cases.filter { $0.failure != nil }.count }
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<testsuites name="archbench" tests="\#(tests)" failures="\#(failures)" errors="0" time="0">"#,
        ]
        for (index, suite) in suites.enumerated() {
            let failed = suite.cases.filter { $0.failure != nil }.count
            let name = escape("archbench." + suite.name)
            lines.append(#"  <testsuite name="\#(name)" package="archbench" id="\#(index)""#
                + #" timestamp="\#(escape(timestamp))" hostname="\#(escape(hostname))" tests="\#(suite.cases.count)""#
                + #" failures="\#(failed)" errors="0" skipped="0" time="0">"#)
            lines.append("    <properties>")
            for (name, value) in [("workload", context.workload), ("baseline", context.baseline), ("candidate", context.candidate)] {
                lines.append(#"      <property name="\#(name)" value="\#(escape(value))"/>"#)
            }
            lines.append("    </properties>")
            for test in suite.cases {
                let open = #"    <testcase name="\#(escape(test.name))" classname="\#(escape(test.classname))" time="0""#
                if let failure = test.failure {
                    lines.append(open + ">")
                    lines.append(#"      <failure message="\#(escape(failure.message))" type="\#(failure.type)">\#(escape(failure.message))</failure>"#)
                    lines.append("    </testcase>")
                } else {
                    lines.append(open + "/>")
                }
            }
            lines.append("    <system-out>\(escape(suite.cases.map(\.note).joined(separator: "\n")))</system-out>")
            lines.append("    <system-err></system-err>")
            lines.append("  </testsuite>")
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// XML-escaped, with characters XML 1.0 cannot hold dropped (the HTML reports use it too).
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20, !(0xFFFE...0xFFFF).contains(scalar.value) { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

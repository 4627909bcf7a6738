@testable import Analysis
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reports
import TestSupport
import XCTest

/// The gate's reports: the JUnit XML against the Jenkins/Ant JUnit schema, and what the text and
/// Markdown reports must show of each check.
final class GateReportsTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func figure(_ requirement: Requirement, _ benchmark: String, _ metric: String, endpoint: String? = nil, threshold: String,
                _ baseline: Double, _ candidate: Double, _ verdict: DeltaVerdict) -> ValidationFigure {
        let change = (candidate - baseline) / baseline * 100
        return ValidationFigure(requirement: requirement, benchmark: benchmark, metric: metric, endpoint: endpoint, threshold: threshold,
                                baseline: baseline, candidate: candidate,
                                delta: Delta(benchmark: benchmark, metric: metric, baseline: baseline, candidate: candidate,
                                             changePct: change, ci95Pct: [change - 3, change + 3], effectSize: 0, pValue: 0.01,
                                             verdict: verdict, samples: [3, 3], method: "test", endpoint: endpoint))
    }

    /// One critical (an endpoint, with characters XML must escape in its name), one warning, one
    /// within noise, one clean pass; a critical history regression.
    func sample() -> (ValidationOutcome, GateContext) {
        let validation = Validation.judge([
            figure(.latencyAcceptability, "api_response_times", "latency_p95_ms", endpoint: "GET /api/items?limit=20&x=<1>",
                   threshold: "latency", 1.2, 31.4, .worse),
            figure(.noRegression, "api_response_times", "throughput", threshold: "throughput", 1000, 920, .worse),
            figure(.noRegression, "websocket_latency", "throughput", threshold: "throughput", 1000, 700, .withinNoise),
            figure(.memoryEfficiency, "memory_usage", "memory_bytes", threshold: "memory", Double(100 << 20), Double(101 << 20), .worse),
        ])
        var regression = RegressionAnalysis()
        regression.historyRuns = 5
        regression.findings = [RegressionFinding(architecture: "microservices", benchmark: "api_response_times", metric: "latency_p95_ms",
                                                 endpoint: nil, kind: .shift, severity: .critical, current: 31.4, reference: 1.2, runs: 5,
                                                 changePct: 2516.7, robustZ: 80, pValue: nil, warningPct: 10, criticalPct: 25)]
        let context = GateContext(timestamp: "2026-11-30T10:00:00Z", workload: "default", baseline: "monolithic", candidate: "microservices",
                                  exitCode: 1, exitReason: "1 critical check(s), 1 critical regression(s) against the history",
                                  failures: ["api_response_times on microservices, round 2: the architecture's processes died"], analysis: SuiteAnalysis(), regression: regression, historyPath: "h.sqlite",
                                  historyRun: 6, recommendations: ["🔴 fix it"])
        return (validation, context)
    }

    func testTheJUnitXMLValidatesAgainstTheJUnitSchemaWithOneCasePerCheck() throws {
        let (validation, context) = sample()
        let xml = JUnitReport.xml(validation, context: context, hostname: "host&1")
        let directory = try temporaryDirectory("ab-junit")
        let file = directory.appending(path: "junit.xml")
        try Data(xml.utf8).write(to: file)

        let schema = try shell(Self.repository.appending(path: "scripts/junit-schema.sh").path, [])
        guard schema.status == 0 else {
            throw XCTSkip("the JUnit schema could not be fetched from PyPI (scripts/junit-schema.sh): \(schema.stderr)")
        }
        let xmllint = ["/usr/bin/xmllint", "/bin/xmllint"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let lint = try XCTUnwrap(xmllint, "xmllint is missing (Debian: libxml2-utils; make test installs it)")
        let check = try shell(lint, ["--noout", "--schema", schema.stdout.trimmingCharacters(in: .whitespacesAndNewlines), file.path])
        XCTAssertEqual(check.status, 0, "junit.xml does not validate: \(check.stderr)\n\(xml)")
        let root = try shell(lint, ["--xpath", "local-name(/*)", file.path])
        XCTAssertEqual(root.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "testsuites")

        // Independently of the schema: one test case per check, the overall rating, the history finding.
        let document = try XMLDocument(data: Data(xml.utf8))
        let cases = try document.nodes(forXPath: "//testcase")
        XCTAssertEqual(cases.count, validation.checks.count + 1 + 2 + 1, "checks, the rating, rounds and history, the history finding")
        let failures = try document.nodes(forXPath: "//testcase/failure").compactMap { ($0 as? XMLElement)?.attribute(forName: "message")?.stringValue }
        XCTAssertEqual(failures.count, 4, "the critical check, POOR, the failed round, the critical history regression: \(failures)")
        XCTAssertTrue(failures.contains { $0.hasPrefix("1 round(s) failed: api_response_times on microservices, round 2") }, "\(failures)")
        XCTAssertTrue(failures.contains { $0.contains("GET /api/items?limit=20&x=<1>: 1.200 ms → 31.4 ms (+2516.7%") }, "\(failures)")
        let root0 = try XCTUnwrap(document.rootElement())
        XCTAssertEqual(root0.attribute(forName: "tests")?.stringValue, "\(cases.count)")
        XCTAssertEqual(root0.attribute(forName: "failures")?.stringValue, "4")
    }

    func testTheValidationReportListsEachCheckWithItsNumbersIntervalThresholdsAndVerdict() {
        let (validation, context) = sample()
        let text = validation.text(context, thresholds: [:])
        XCTAssertTrue(text.contains("RATING   POOR: 1 of 4 checks critical"), text)
        XCTAssertTrue(text.contains("GATE     exit 1: 1 critical check(s), 1 critical regression(s) against the history"), text)
        let lines = text.split(separator: "\n").map(String.init)
        let endpoint = lines.first { $0.contains("latency_p95_ms GET /api/items") && $0.contains("CRITICAL") }
        XCTAssertNotNil(endpoint, text)
        XCTAssertTrue(endpoint?.contains("1.200 ms") == true && endpoint?.contains("31.4 ms") == true, endpoint ?? "")
        XCTAssertTrue(endpoint?.contains("[+2513.7%, +2519.7%]") == true, endpoint ?? "")
        XCTAssertTrue(endpoint?.contains("+10.0% / +25.0%") == true, endpoint ?? "")
        XCTAssertTrue(lines.contains { $0.contains("websocket_latency") && $0.contains("-30.0%") && $0.contains("pass (within noise)") }, text)
        XCTAssertTrue(lines.contains { $0.contains("api_response_times") && $0.contains("throughput") && $0.hasSuffix("warning") }, text)
        XCTAssertTrue(lines.contains { $0.contains("FAIL  latency_acceptability") }, text)
        XCTAssertTrue(lines.contains { $0.contains("n/a   scalability_improvement") }, text)
    }

    func testTheRegressionReportAndTheMarkdownSummaryNameTheRegression() {
        let (validation, context) = sample()
        let report = context.regression!.text(context, validation: validation)
        XCTAssertTrue(report.contains("CRITICAL microservices api_response_times.latency_p95_ms: 31.4 ms against a median of 1.200 ms over 5 runs"),
                      report)
        XCTAssertTrue(report.contains("5 earlier run(s) of workload default in h.sqlite; this run is #6"), report)
        XCTAssertTrue(report.contains("  🔴 fix it"), report)
        let markdown = CISummary.markdown(validation, context: context, files: ["/x/junit_1.xml"])
        XCTAssertTrue(markdown.hasPrefix("## archbench: ❌ failed — POOR"), markdown)
        XCTAssertTrue(markdown.contains("| latency_acceptability | ❌ fail | 1 | 0 | 1 |"), markdown)
        XCTAssertTrue(markdown.contains("| 🔴 critical | api_response_times latency_p95_ms GET /api/items?limit=20&amp;x=&lt;1&gt; |"), markdown)
        XCTAssertFalse(markdown.contains("<1>"), "a name from the data is escaped: a CI renders Markdown as HTML")
        XCTAssertTrue(markdown.contains("Files: `junit_1.xml`"), markdown)
    }

    /// A name from the data with a newline and an escape sequence cannot forge a line of a text report
    /// or reach the terminal: its control characters are shown, on the line where the name is.
    func testTextReportsShowControlCharactersInNamesRatherThanObeyThem() {
        let hostile = "GET /x\nGATE: exit 0 \u{1B}[2J<script>"
        let validation = Validation.judge([
            figure(.latencyAcceptability, "api_response_times", "latency_p95_ms", endpoint: hostile, threshold: "latency", 1, 2, .worse),
        ])
        var (_, context) = sample()
        context.failures = ["round 1 of \u{1B}]0;title\u{7}: died"]
        for report in [validation.text(context, thresholds: [:]), context.regression!.text(context, validation: validation)] {
            XCTAssertFalse(report.contains("\u{1B}") || report.contains("\u{7}"), report)
            XCTAssertFalse(report.split(separator: "\n").contains { $0.hasPrefix("GATE: exit 0") }, report)
        }
        XCTAssertTrue(validation.text(context, thresholds: [:]).contains(#"GET /x\nGATE: exit 0 \u{1b}[2J<script>"#))
    }

    /// A name cannot make a link or break a table cell in the Markdown summary: `\` is escaped before
    /// the escapes added after it, and `[` `]` lose their meaning.
    func testMarkdownNamesCannotLinkOrBreakACell() {
        var (validation, context) = sample()
        context.failures = [#"x\|y [link](http://127.0.0.1:9/)"#]
        let markdown = CISummary.markdown(validation, context: context, files: [])
        XCTAssertTrue(markdown.contains(#"- x\\\|y \[link\](http://127.0.0.1:9/)"#), markdown)
        XCTAssertFalse(markdown.contains("[link]("), markdown)
    }

    func shell(_ program: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

import Foundation
import Reports
@testable import Suite
import TestSupport
import XCTest

/// A user's section: the throughput of every benchmark per architecture, with a hostile name in it.
struct ThroughputSection: ReportSection {
    let title = "Throughput <b>by</b> architecture"

    func table(_ results: SuiteResults) throws -> (header: [String], rows: [[String]]) {
        let rows = results.architectures.flatMap { architecture in
            (results.results[architecture] ?? [:]).keys.sorted().map { benchmark in
                [architecture, benchmark, String(format: "%.1f", results.results[architecture]![benchmark]!.throughput),
                 "<script>alert(1)</script>|`x`"]
            }
        }
        return (["architecture", "benchmark", "throughput", "note"], rows)
    }
}

struct FailingSection: ReportSection {
    struct Broken: Error, CustomStringConvertible { var description: String { "no data for this" } }
    let title = "Broken section"
    func table(_ results: SuiteResults) throws -> (header: [String], rows: [[String]]) { throw Broken() }
}

/// The custom-report hook, `--no-visualizations`, and `archbench report` regenerating the reports
/// from the results file alone.
final class ReportHookTests: XCTestCase {
    func run(visualizations: Bool) throws -> (directory: URL, outcome: SuiteOutcome) {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ab-hook-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let runner = try SuiteRunner.onlyBenchmark(CountingBenchmark(), resultsDirectory: directory)
        runner.options.visualizations = visualizations
        runner.options.reportSections = [ThroughputSection(), FailingSection()]
        return (directory, try runner.run())
    }

    func file(_ directory: URL, _ prefix: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let name = try XCTUnwrap(names.first { $0.hasPrefix(prefix) }, "no \(prefix)* in \(names)")
        return try String(contentsOf: directory.appending(path: name), encoding: .utf8)
    }

    func testACustomSectionLandsInTheCISummaryEscapedAndAFailingOneSaysWhy() throws {
        let (directory, outcome) = try run(visualizations: false)
        XCTAssertEqual(outcome.exitCode, 0)
        let markdown = try file(directory, "ci_summary_")
        XCTAssertTrue(markdown.contains("**Throughput &lt;b&gt;by&lt;/b&gt; architecture**"), markdown)
        XCTAssertTrue(markdown.contains("| monolithic | custom_counting | 100.0 | &lt;script&gt;alert(1)&lt;/script&gt;\\|'x' |"), markdown)
        XCTAssertFalse(markdown.contains("<script>"), markdown)
        XCTAssertTrue(markdown.contains("**Broken section**") && markdown.contains("not computed: no data for this"), markdown)
    }

    func testNoVisualizationsWritesNoHTMLOrPNG() throws {
        let (directory, _) = try run(visualizations: false)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertFalse(names.contains { $0.hasSuffix(".html") || $0.hasSuffix(".png") }, "\(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix("validation_report_") }, "\(names)")
    }

    func testTheReportsAreMadeAgainFromTheResultsFileAlone() throws {
        let (directory, outcome) = try run(visualizations: true)
        let again = directory.appending(path: "again")
        try FileManager.default.createDirectory(at: again, withIntermediateDirectories: true)
        let (written, unwritten) = try ReportSet.regenerate(from: outcome.resultsPath, into: again.path,
                                                            options: ReportSet.Options(sections: [ThroughputSection()])) { _ in }
        XCTAssertEqual(unwritten, [])
        for prefix in ["validation_report_", "regression_report_", "junit_"] {
            XCTAssertEqual(try file(again, prefix), try file(directory, prefix), "\(prefix) differs when made from the file")
        }
        let stamp = (outcome.resultsPath as NSString).lastPathComponent
            .replacingOccurrences(of: "comprehensive_results_", with: "").replacingOccurrences(of: ".json", with: "")
        let names = written.map { ($0 as NSString).lastPathComponent }.sorted()
        XCTAssertEqual(names, ["ci_summary", "dashboard", "execution_summary", "junit", "latency_heatmap", "memory_analysis",
                               "regression_report", "validation_report"].map { name in
                                   "\(name)_\(stamp).\(["ci_summary": "md", "dashboard": "html", "execution_summary": "json", "junit": "xml", "latency_heatmap": "png", "memory_analysis": "html"][name] ?? "txt")"
                               }.sorted(), "no trace without probes")
        let dashboard = try file(again, "dashboard_")
        XCTAssertTrue(dashboard.contains("Throughput &lt;b&gt;by&lt;/b&gt; architecture"), "the section is in the dashboard")
        XCTAssertFalse(dashboard.contains("<script>alert(1)</script>"))
    }

    func testAForeignOrDamagedResultsFileIsAUsageErrorNamingWhatIsWrong() throws {
        let directory = try temporaryDirectory("ab-report")
        let cases: [(String, String?, String)] = [
            ("missing.json", nil, "cannot read"),
            ("text.json", "not json at all", "is not JSON"),
            ("foreign.json", #"{"tool": "wrk", "results": {}}"#, "is not an archbench results file"),
            ("partial.json", #"{"tool": "archbench", "results": {}, "timestamp": "x"}"#, "is missing"),
        ]
        for (name, content, message) in cases {
            let path = directory.appending(path: name).path
            if let content { try content.write(toFile: path, atomically: true, encoding: .utf8) }
            let result = try runToCompletion(BuiltProducts.archbench, ["report", path, "--results-dir", directory.appending(path: "out").path])
            XCTAssertEqual(result.status, 2, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appending(path: "out").path) &&
                           !((try? FileManager.default.contentsOfDirectory(atPath: directory.appending(path: "out").path)) ?? []).isEmpty,
                           "\(name): nothing written")
        }
    }
}

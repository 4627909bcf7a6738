import Foundation
import Suite
import TestSupport
import XCTest

/// The CI gate end to end: two A/A runs pass with their differences within noise and land in the
/// history; a candidate with an injected fault fails the gate naming the slow endpoint; the
/// history lists all three runs. (Detection against the history, which needs more runs, is
/// tested end to end on the suite with a benchmark of known figures: HistoryGateTests.)
final class GateTests: XCTestCase {
    let archbench = BuiltProducts.archbench

    func config(_ directory: URL, name: String, candidateFlags: [String]) throws -> String {
        let ports = try freeLoopbackPorts(4)
        func architecture(_ port: UInt16, _ wsPort: UInt16, _ flags: [String]) -> [String: Any] {
            ["base_url": "http://127.0.0.1:\(port)", "websocket_url": "ws://127.0.0.1:\(wsPort)/ws", "connection_pool_size": 10,
             "command": [archbench, "serve", "microservices", "--port", "\(port)", "--ws-port", "\(wsPort)"] + flags]
        }
        // The same reference backend both sides: the names stay, so the history's series continue.
        let document: [String: Any] = ["baseline": architecture(ports[0], ports[1], []),
                                       "candidate": architecture(ports[2], ports[3], candidateFlags)]
        let path = directory.appending(path: name).path
        // Sorted keys: "baseline" comes first, and the first architecture in the file is the baseline.
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    func run(_ config: String, _ directory: URL) throws -> ProcessResult {
        // 2 s rounds: an endpoint's P95 is read from its share of a round's requests (a ninth for some).
        try runToCompletion(archbench, ["run", "--config", config, "--duration", "2", "--no-memory", "--no-probes",
                                        "--results-dir", directory.path], timeout: 400)
    }

    /// The newest file of `directory` named `prefix…suffix`.
    func newest(_ directory: URL, _ prefix: String, _ suffix: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }
        let name = try XCTUnwrap(names.sorted().last, "no \(prefix)*\(suffix) in \(directory.path)")
        return try String(contentsOf: directory.appending(path: name), encoding: .utf8)
    }

    func testAACleanRunsPassAndAFaultyCandidateFailsTheGateNamingTheEndpoint() throws {
        let directory = try temporaryDirectory("ab-gate")
        let history = directory.appending(path: "history.sqlite").path

        for attempt in 1...2 {
            let aa = try run(try config(directory, name: "aa\(attempt).json", candidateFlags: []), directory)
            XCTAssertEqual(aa.status, 0, "A/A run \(attempt) fails the gate:\n\(aa.stdout)\n\(aa.stderr)")
            let validation = try newest(directory, "validation_report_", ".txt")
            XCTAssertTrue(validation.contains("pass (within noise)"), validation)
            XCTAssertFalse(validation.contains("CRITICAL"), validation)
            // A moment apart, so each run's files have their own stamp.
            Thread.sleep(forTimeInterval: 1.1)
        }
        let list = try runToCompletion(archbench, ["history", "--history", history], timeout: 60)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("2 run(s)"), list.stdout)

        let faulty = try run(try config(directory, name: "fault.json",
                                        candidateFlags: ["--slow-ms", "users:30", "--slow-path", "/api/users"]), directory)
        XCTAssertEqual(faulty.status, 1, "the gate lets a 30 ms slower /api/users through:\n\(faulty.stdout)\n\(faulty.stderr)")
        let validation = try newest(directory, "validation_report_", ".txt")
        let critical = validation.split(separator: "\n").filter { $0.contains("CRITICAL") && $0.contains("latency_p95_ms GET /api/users") }
        XCTAssertFalse(critical.isEmpty, validation)
        let regression = try newest(directory, "regression_report_", ".txt")
        XCTAssertTrue(regression.contains("CRITICAL api_response_times latency_p95_ms GET /api/users"), regression)
        XCTAssertTrue(regression.contains("2 earlier run(s) of workload default"), regression)
        let junit = try newest(directory, "junit_", ".xml")
        XCTAssertTrue(junit.contains(#"<testcase name="latency_p95_ms GET /api/users" classname="archbench.latency_acceptability.api_response_times""#), junit)
        XCTAssertTrue(junit.contains("<failure message=\"critical regression: api_response_times latency_p95_ms GET /api/users"), junit)
        let markdown = try newest(directory, "ci_summary_", ".md")
        XCTAssertTrue(markdown.contains("## archbench: ❌ failed"), markdown)
        XCTAssertTrue(markdown.contains("🔴 critical | api_response_times latency_p95_ms GET /api/users"), markdown)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(newest(directory, "execution_summary_", ".json").utf8)) as? [String: Any])
        XCTAssertEqual(summary["exit_code"] as? Int, 1)
        XCTAssertEqual(summary["rating"] as? String, "POOR")

        let all = try runToCompletion(archbench, ["history", "--history", history, "--json"], timeout: 60)
        XCTAssertEqual(all.status, 0, all.stderr)
        let overview = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
        let runs = try XCTUnwrap(overview["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["exit_code"] as? Int }, [0, 0, 1])
        XCTAssertEqual(runs.map { $0["rating"] as? String }.last, "POOR")
        let table = try runToCompletion(archbench, ["history", "--history", history, "--metric", "api_response_times.latency_p95_ms GET /api/users"],
                                        timeout: 60)
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("3 run(s)"), table.stdout)
        XCTAssertTrue(table.stdout.contains("\napi_response_times.latency_p95_ms GET /api/users\n  run  date"), table.stdout)
        XCTAssertEqual(table.stdout.split(separator: "\n").filter { $0.hasPrefix("  #") }.count, 6, "3 runs, then the series' 3 rows")
        let unknown = try runToCompletion(archbench, ["history", "--history", history, "--metric", "no_such_metric"], timeout: 60)
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("no series is named no_such_metric"), unknown.stderr)
    }

    func testAHistoryThatIsNotADatabaseStopsTheRunBeforeAnythingRunsAndIsLeftAsItWas() throws {
        let directory = try temporaryDirectory("ab-gate")
        let history = directory.appending(path: "history.sqlite")
        let garbage = Data("this is not a database, but someone's notes\n".utf8) + Data(repeating: 7, count: 5000)
        try garbage.write(to: history)
        let result = try runToCompletion(archbench, ["run", "--no-probes", "--duration", "1", "--results-dir", directory.path], timeout: 120)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("run history \(history.path): not an SQLite database"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: history), garbage)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["history.sqlite"], "nothing else written")
        let list = try runToCompletion(archbench, ["history", "--history", history.path], timeout: 60)
        XCTAssertEqual(list.status, 3, list.stderr)
        let missing = try runToCompletion(archbench, ["history", "--history", directory.appending(path: "none.sqlite").path], timeout: 60)
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appending(path: "none.sqlite").path), "history creates nothing")
    }
}

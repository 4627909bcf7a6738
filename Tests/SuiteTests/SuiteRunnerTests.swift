@testable import Analysis
import CLoadGen
import Foundation
import History
import Load
import Recording
@testable import Suite
import TestSupport
import XCTest

/// A benchmark of the test's own: it counts its runs and reports fixed figures per architecture.
final class CountingBenchmark: Benchmark, @unchecked Sendable {
    let name = "custom_counting"
    private let lock = NSLock()
    private(set) var runs: [String] = []

    func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        lock.withLock { runs.append(context.target.architecture) }
        let candidate = context.target.architecture == "microservices"
        return BenchmarkResult(throughput: candidate ? 90 : 100,
                               latencyStats: BenchmarkLatency(mean: 1, p50: 1, p95: candidate ? 1.05 : 1, p99: 2, max: 3),
                               successRate: 1, metadata: ["unit": .text("things")])
    }
}

/// A benchmark whose every request failed, on both architectures: a server that answers nothing.
final class NothingSucceedsBenchmark: Benchmark, @unchecked Sendable {
    let name = "custom_nothing"

    func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        let none = LatencySummary(p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0)
        let load = LoadResult(url: "http://127.0.0.1/", threads: 1, connections: 1, mode: "closed", requests: 0, sent: 7,
                              durationS: 0.2, requestsPerS: 0, latencyUs: none, errors: ErrorCounts(connect: 3, timeout: 4),
                              statusCounts: [:], achievedRate: 0, lateSends: 0, droppedSends: 0, bytesRead: 0, bytesWritten: 0,
                              connects: 3, pingsAnswered: 0, serverCloses: 0, startNs: 0, endNs: 0, endpoints: [], windows: [],
                              slowRequests: [], slowRequestsDropped: 0, windowsDropped: 0, stoppedEarly: false)
        return BenchmarkResult(throughput: 0, latencyStats: BenchmarkLatency(mean: 0, p50: 0, p95: 0, p99: 0, max: 0),
                               successRate: 0, metadata: [:], loads: [load])
    }
}

extension SuiteRunner {
    /// A runner of `benchmark` alone, without probes, on the embedded default at free ports.
    static func onlyBenchmark(_ benchmark: any Benchmark, resultsDirectory: URL) throws -> SuiteRunner {
        let ports = try freeLoopbackPorts(3)
        let config = RunConfig.embedded(executable: BuiltProducts.archbench, monolithPort: ports[0],
                                        microservicesPort: ports[1], websocketPort: ports[2])
        let registry = BenchmarkRegistry()
        try registry.register(benchmark)
        var options = SuiteOptions()
        options.duration = 0.2
        options.probes = false
        options.resultsDirectory = resultsDirectory.path
        return SuiteRunner(config: config, options: options, registry: registry)
    }
}

final class SuiteRunnerTests: XCTestCase {
    func testACustomBenchmarkRunsInAlternatingRoundsAndLandsInTheResults() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ab-suite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let benchmark = CountingBenchmark()
        let outcome = try SuiteRunner.onlyBenchmark(benchmark, resultsDirectory: directory).run()

        XCTAssertEqual(benchmark.runs, ["monolithic", "microservices", "microservices", "monolithic", "monolithic", "microservices"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outcome.resultsPath)))
            as? [String: Any])
        let results = try XCTUnwrap(json["results"] as? [String: [String: [String: Any]]])
        XCTAssertEqual(results["monolithic"]?["custom_counting"]?["throughput"] as? Double, 100)
        XCTAssertEqual(results["microservices"]?["custom_counting"]?["throughput"] as? Double, 90)
        // −10% throughput is a warning (−5%) short of critical (−15%); +5% P95 passes (+10%).
        let checks = try XCTUnwrap((json["validation"] as? [String: Any])?["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.first { $0["metric"] as? String == "throughput" }?["verdict"] as? String, "warning")
        XCTAssertEqual(checks.first { $0["metric"] as? String == "latency_p95_ms" }?["verdict"] as? String, "pass")
        XCTAssertEqual(checks.first { $0["metric"] as? String == "throughput" }?["requirement"] as? String, "no_regression")
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(outcome.summary.rating, "FAIR", "a warning and nothing improved to weigh it")
    }

    /// Nothing to compare is no pass when nothing succeeded: each such round fails with the errors
    /// it met, the rating is POOR and the gate fails.
    func testARunInWhichNoRequestSucceededFailsTheGate() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ab-suite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let runner = try SuiteRunner.onlyBenchmark(NothingSucceedsBenchmark(), resultsDirectory: directory)
        runner.options.rounds = 1
        let outcome = try runner.run()

        XCTAssertEqual(outcome.exitCode, 1)
        XCTAssertEqual(outcome.summary.rating, "POOR")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outcome.resultsPath)))
            as? [String: Any])
        let rounds = try XCTUnwrap(json["rounds"] as? [[String: Any]])
        XCTAssertEqual(rounds.count, 2)
        for round in rounds {
            XCTAssertEqual(round["error"] as? String, "no request succeeded (connect 3, timeout 4)", "\(round)")
        }
        // The figures of what failed stay in the results.
        let results = try XCTUnwrap(json["results"] as? [String: [String: [String: Any]]])
        XCTAssertEqual(results["monolithic"]?["custom_nothing"]?["success_rate"] as? Double, 0)
    }

    /// One recommendation per benchmark with critical checks, citing the candidate's kernel-side
    /// cause for speed, not for a memory footprint.
    func testRecommendationsCiteTheCauseOncePerBenchmarkAndNotForMemory() {
        func figure(_ benchmark: String, _ metric: String, _ threshold: String, _ a: Double, _ b: Double) -> ValidationFigure {
            ValidationFigure(requirement: .noRegression, benchmark: benchmark, metric: metric, threshold: threshold, baseline: a, candidate: b)
        }
        let validation = Validation.judge([
            figure("api_response_times", "throughput", "throughput", 100, 50),
            figure("api_response_times", "latency_p95_ms", "latency", 1, 3),
            figure("memory_usage", "memory_bytes", "memory", 100, 300),
        ])
        var analysis = SuiteAnalysis()
        let cause = RootCause(cause: .pause, process: "orders", pid: 42, shareOfSlowRequests: 0.7, medianOverlapMs: 38,
                              chanceShare: 0.1, pValue: 0.001, slowRequests: 100)
        analysis.rootCauses["microservices"] = ["api_response_times": [cause], "memory_usage": [cause]]
        let lines = SuiteRunner.recommendations(validation, failures: [], candidate: "microservices", analysis: analysis)
        XCTAssertEqual(lines.filter { $0.hasPrefix("🔴") }, [
            "🔴 api_response_times: throughput -50.0%, latency_p95_ms +200.0% (critical): "
                + cause.sentence(benchmark: "api_response_times") + ": " + cause.advice,
            "🔴 memory_usage: memory_bytes +200.0% (critical): investigate before deploying",
        ])
    }

    func testRoundsAlternateSoDriftHitsBothArchitecturesAlike() {
        XCTAssertEqual(SuiteRunner.order(["a", "b"], rounds: 4).map { "\($0.architecture)\($0.round)" },
                       ["a1", "b1", "b2", "a2", "a3", "b3", "b4", "a4"])
    }
}

/// How an architecture's rounds become its result, and memory_usage's figures.
final class CombineTests: XCTestCase {
    func load(_ buckets: [[UInt64]], sum: UInt64, max: UInt64) -> LoadResult {
        let summary = LatencySummary(p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0)
        return LoadResult(url: "", threads: 1, connections: 1, mode: "", requests: 0, sent: 0, durationS: 1, requestsPerS: 0,
                          latencyUs: summary, errors: ErrorCounts(), statusCounts: [:], achievedRate: 0, lateSends: 0,
                          droppedSends: 0, bytesRead: 0, bytesWritten: 0, connects: 0, pingsAnswered: 0, serverCloses: 0,
                          startNs: 0, endNs: 0, endpoints: [], windows: [], slowRequests: [], slowRequestsDropped: 0,
                          windowsDropped: 0, stoppedEarly: false,
                          latencyHistogram: LatencyHistogramRecord(bits: 11, sumNs: sum, maxNs: max, buckets: buckets))
    }

    func result(throughput: Double, p99: Double, loads: [LoadResult], attempted: Double) -> BenchmarkResult {
        BenchmarkResult(throughput: throughput, latencyStats: BenchmarkLatency(mean: 1, p50: 1, p95: 1, p99: p99, max: p99),
                        successRate: 1, metadata: ["attempted": .number(attempted)], loads: loads)
    }

    func testRoundsOfOneLoadAreReadFromTheirMergedHistogram() throws {
        // Round 1: 99 requests at 1 ms; round 2: 1 request at 500 ms. Merged, P99 is 1 ms and max 500 ms.
        let first = load([[UInt64(ab_histogram__index(11, 1_000_000)), 99]], sum: 99_000_000, max: 1_000_000)
        let second = load([[UInt64(ab_histogram__index(11, 500_000_000)), 1]], sum: 500_000_000, max: 500_000_000)
        let combined = try XCTUnwrap(SuiteRunner.combine([result(throughput: 100, p99: 1, loads: [first], attempted: 99),
                                                          result(throughput: 300, p99: 500, loads: [second], attempted: 1)]))
        XCTAssertEqual(combined.throughput, 200)
        XCTAssertEqual(combined.latencyStats.p99, 1, accuracy: 0.001)
        XCTAssertEqual(combined.latencyStats.max, 500, accuracy: 0.001)
        XCTAssertEqual(combined.latencyStats.mean, 5.99, accuracy: 0.001)
        XCTAssertEqual(combined.metadata["attempted"], .number(100), "counts add up over the rounds")
        XCTAssertEqual(combined.metadata["rounds"], .number(2))
    }

    func testRoundsOfSeveralLoadsFallBackToTheMeansOfTheirFigures() throws {
        let some = load([[10, 1]], sum: 10, max: 10)
        let combined = try XCTUnwrap(SuiteRunner.combine([result(throughput: 1, p99: 2, loads: [some, some], attempted: 1),
                                                          result(throughput: 3, p99: 4, loads: [some, some], attempted: 1)]))
        XCTAssertEqual(combined.latencyStats.p99, 3)
    }

    func testMemoryFiguresSumTheProcessesPeaksAveragesAndSlopes() {
        func process(_ pid: Int32, _ timeline: [[UInt64]], rss: RSSSummary?) -> ProcessRecord {
            ProcessRecord(pid: pid, ppid: 1, comm: "p", label: "svc", startNs: 0, syscalls: [:], syscallTotal: 0,
                          syscallLatencyNs: [:], oncpuNs: 0, offcpuNs: 0, runqNs: 0, stolenNs: 0, threads: [],
                          pageFaults: 0, rssBytes: rss, rssTimeline: timeline)
        }
        // pid 1 grows 1000 bytes/s from 1000, a point every 0.5 s for 10 s; pid 2 never changed (its
        // size from /proc: 5000).
        let points = (0...20).map { [UInt64($0) * 500_000_000, 1000 + UInt64($0) * 500] }
        let growing = process(1, points, rss: RSSSummary(min: 1000, max: 11000, last: 11000))
        let steady = process(2, [], rss: nil)
        let report = ProbeAnalysis.report(of: ProbeRecording(
            startNs: 0, endNs: 10_000_000_000, endReason: "", processes: [growing, steady], command: nil, lostEvents: [:],
            offcpuIntervals: [], minOffcpuIntervalNs: 1, runtimePauses: [], runtimeProbedPids: [], runtimeProbes: [],
            families: []))
        var result = BenchmarkResult(throughput: 1, latencyStats: BenchmarkLatency(mean: 0, p50: 0, p95: 0, p99: 0, max: 0), successRate: 1)
        SuiteRunner.addMemory(report, to: &result, steadyRSS: [2: 5000])
        XCTAssertEqual(result.metadata["peak_rss_bytes"], .number(16000))
        XCTAssertEqual(result.metadata["average_rss_bytes"], .number(11000))
        guard case .number(let growth)? = result.metadata["rss_growth_bytes_per_s"] else { return XCTFail("no growth") }
        XCTAssertEqual(growth, 1000, accuracy: 1e-6, "the leak detector's slope of the floor")
        XCTAssertEqual(result.metadata["rss_peak_bytes.svc.2"], .number(5000))
    }
}

/// A benchmark whose figures the test sets: the same for both architectures, a little noise from
/// run to run, and a factor on latency that the test raises to make a regression.
final class ScriptedBenchmark: Benchmark, @unchecked Sendable {
    let name = "scripted"
    private let lock = NSLock()
    private var calls = 0
    var latencyFactor: Double {
        get { lock.withLock { factor } }
        set { lock.withLock { factor = newValue } }
    }
    private var factor = 1.0

    func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        let (call, factor) = lock.withLock { calls += 1; return (calls, self.factor) }
        let jitter = 1 + 0.01 * Double(call % 3 - 1)
        let p95 = 2.0 * jitter * factor
        return BenchmarkResult(throughput: 500 * jitter, latencyStats: BenchmarkLatency(mean: p95 / 2, p50: p95 / 2, p95: p95, p99: p95 * 1.5, max: p95 * 3),
                               successRate: 1, metadata: ["unit": .text("requests")])
    }
}

/// The history as the gate uses it, on the suite with a benchmark of known figures: five steady
/// runs, then one where both architectures got 50% slower — the same for both, so the validation
/// passes, and only the history can see it.
final class HistoryGateTests: XCTestCase {
    func testARegressionOnlyTheHistoryCanSeeFailsTheGate() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ab-history-gate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let benchmark = ScriptedBenchmark()
        let runner = try SuiteRunner.onlyBenchmark(benchmark, resultsDirectory: directory)
        func run() throws -> SuiteOutcome { try runner.run() }

        for index in 1...5 {
            let steady = try run()
            XCTAssertEqual(steady.exitCode, 0, "steady run \(index)")
            XCTAssertEqual(steady.summary.regressions, [], "steady run \(index)")
        }
        benchmark.latencyFactor = 1.5
        let slower = try run()
        XCTAssertEqual(slower.exitCode, 1)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: slower.resultsPath))) as? [String: Any])
        let checks = try XCTUnwrap((json["validation"] as? [String: Any])?["checks"] as? [[String: Any]])
        XCTAssertTrue(checks.allSatisfy { $0["verdict"] as? String == "pass" }, "the architectures did not differ: \(checks)")
        let regression = try XCTUnwrap(json["regression"] as? [String: Any])
        XCTAssertEqual(regression["history_runs"] as? Int, 5)
        let findings = try XCTUnwrap(regression["findings"] as? [[String: Any]])
        let p95 = findings.filter { $0["metric"] as? String == "latency_p95_ms" && $0["kind"] as? String == "shift" }
        XCTAssertEqual(Set(p95.compactMap { $0["architecture"] as? String }), ["monolithic", "microservices"], "\(findings)")
        for finding in p95 {
            XCTAssertEqual(finding["severity"] as? String, "critical", "+50% is past +25%: \(finding)")
            XCTAssertEqual(finding["change_pct"] as? Double ?? 0, 50, accuracy: 2, "\(finding)")
            XCTAssertEqual(finding["runs"] as? Int, 5)
        }
        XCTAssertFalse(findings.contains { $0["metric"] as? String == "throughput" }, "throughput did not move: \(findings)")
        let history = try XCTUnwrap(json["history"] as? [String: Any])
        XCTAssertEqual(history["run"] as? Int, 6)

        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let report = try String(contentsOf: directory.appending(path: try XCTUnwrap(names.filter { $0.hasPrefix("regression_report_") }.max())),
                                encoding: .utf8)
        XCTAssertTrue(report.contains("CRITICAL microservices scripted.latency_p95_ms: "), report)
        let validation = try String(contentsOf: directory.appending(path: try XCTUnwrap(names.filter { $0.hasPrefix("validation_report_") }.max())),
                                    encoding: .utf8)
        XCTAssertTrue(validation.contains("GATE     exit 1: 6 critical regression(s) against the history"), validation)  // P50, P95, P99 × 2
        let store = try HistoryStore(path: directory.appending(path: "history.sqlite").path, readOnly: true)
        XCTAssertEqual(try store.runs().map(\.exitCode), [0, 0, 0, 0, 0, 1])
    }
}

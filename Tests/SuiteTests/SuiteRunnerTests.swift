import Foundation
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

final class SuiteRunnerTests: XCTestCase {
    func testACustomBenchmarkRunsInAlternatingRoundsAndLandsInTheResults() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ab-suite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ports = try freeLoopbackPorts(3)
        let config = RunConfig.embedded(executable: BuiltProducts.archbench, monolithPort: ports[0],
                                        microservicesPort: ports[1], websocketPort: ports[2])
        let benchmark = CountingBenchmark()
        let registry = BenchmarkRegistry()
        try registry.register(benchmark)
        var options = SuiteOptions()
        options.duration = 0.2
        options.probes = false
        options.resultsDirectory = directory.path
        let outcome = try SuiteRunner(config: config, options: options, registry: registry).run()

        XCTAssertEqual(benchmark.runs, ["monolithic", "microservices", "microservices", "monolithic"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outcome.resultsPath)))
            as? [String: Any])
        let results = try XCTUnwrap(json["results"] as? [String: [String: [String: Any]]])
        XCTAssertEqual(results["monolithic"]?["custom_counting"]?["throughput"] as? Double, 100)
        XCTAssertEqual(results["microservices"]?["custom_counting"]?["throughput"] as? Double, 90)
        // −10% throughput is a warning (−5%) short of critical (−15%); +5% P95 passes (+10%).
        let checks = try XCTUnwrap((json["validation"] as? [String: Any])?["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.first { $0["metric"] as? String == "throughput" }?["verdict"] as? String, "warning")
        XCTAssertEqual(checks.first { $0["metric"] as? String == "latency" }?["verdict"] as? String, "pass")
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(outcome.summary.rating, "GOOD")
    }

    func testRoundsAlternateSoDriftHitsBothArchitecturesAlike() {
        XCTAssertEqual(SuiteRunner.order(["a", "b"], rounds: 4).map { "\($0.architecture)\($0.round)" },
                       ["a1", "b1", "b2", "a2", "a3", "b3", "b4", "a4"])
    }

    func testThresholdsAreFallsForThroughputAndRisesForLatency() throws {
        let threshold = ThresholdSpec(warning: -5, critical: -15)
        XCTAssertEqual(Validation.check(benchmark: "x", metric: "throughput", baseline: 100, candidate: 96, threshold: threshold)?.verdict, .pass)
        XCTAssertEqual(Validation.check(benchmark: "x", metric: "throughput", baseline: 100, candidate: 90, threshold: threshold)?.verdict, .warning)
        XCTAssertEqual(Validation.check(benchmark: "x", metric: "throughput", baseline: 100, candidate: 85, threshold: threshold)?.verdict, .critical)
        let latency = ThresholdSpec(warning: 10, critical: 25)
        XCTAssertEqual(Validation.check(benchmark: "x", metric: "latency", baseline: 10, candidate: 9, threshold: latency)?.verdict, .pass)
        XCTAssertEqual(Validation.check(benchmark: "x", metric: "latency", baseline: 10, candidate: 12, threshold: latency)?.verdict, .warning)
        XCTAssertEqual(Validation.check(benchmark: "x", metric: "latency", baseline: 10, candidate: 13, threshold: latency)?.verdict, .critical)
        XCTAssertNil(Validation.check(benchmark: "x", metric: "latency", baseline: 0, candidate: 13, threshold: latency), "no baseline")
    }

    func testRatings() {
        func outcome(_ changes: [(String, Double, ValidationCheck.Verdict)]) -> ValidationOutcome {
            ValidationOutcome(checks: changes.map { ValidationCheck(benchmark: "b", metric: $0.0, baseline: 1, candidate: 1,
                                                                    changePct: $0.1, warningPct: 0, criticalPct: 0, verdict: $0.2) })
        }
        XCTAssertEqual(Validation.rating(outcome([("throughput", 3, .pass), ("latency", 4, .pass)])), "EXCELLENT")
        XCTAssertEqual(Validation.rating(outcome([("throughput", -8, .warning), ("latency", 4, .pass)])), "GOOD")
        XCTAssertEqual(Validation.rating(outcome([("throughput", -20, .critical), ("latency", 4, .pass), ("latency", 1, .pass)])), "FAIR")
        XCTAssertEqual(Validation.rating(outcome([("throughput", -20, .critical), ("latency", 40, .critical)])), "POOR")
    }
}

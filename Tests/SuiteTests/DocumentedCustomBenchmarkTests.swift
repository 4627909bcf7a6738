import Foundation
import Load
import Suite
import TestSupport
import XCTest

// The custom benchmark of docs/suite.md and the README, word for word, so the example there compiles and runs.
struct HealthBenchmark: Benchmark {
    let name = "health_checks"

    func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        var target = context.target.baseURL
        target.path = "/health"
        var load = LoadConfig(target: target)
        load.duration = context.duration
        let result = try LoadGenerator.run(load, progress: context.progress)
        let us = result.latencyUs
        return BenchmarkResult(
            throughput: result.requestsPerS,
            latencyStats: BenchmarkLatency(mean: us.mean / 1000, p50: us.p50 / 1000, p95: us.p95 / 1000,
                                           p99: us.p99 / 1000, max: us.max / 1000),
            successRate: result.sent == 0 ? 0 : Double(result.requests - result.errors.status) / Double(result.sent),
            metadata: ["unit": .text("requests")], loads: [result])
    }
}

final class DocumentedCustomBenchmarkTests: XCTestCase {
    func testTheExampleHereIsTheOneInTheDocs() throws {
        let here = try String(contentsOfFile: #filePath, encoding: .utf8)
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "docs/suite.md")
        let start = try XCTUnwrap(here.range(of: "struct HealthBenchmark: Benchmark {"))
        let end = try XCTUnwrap(here.range(of: "\n}\n", range: start.upperBound..<here.endIndex))
        let example = String(here[start.lowerBound..<end.upperBound])
        XCTAssertTrue(try String(contentsOf: docs, encoding: .utf8).contains(example), "docs/suite.md has drifted from this copy")
        let readme = docs.deletingLastPathComponent().deletingLastPathComponent().appending(path: "README.md")
        XCTAssertTrue(try String(contentsOf: readme, encoding: .utf8).contains(example), "README.md has drifted from this copy")
    }

    func testTheDocumentedExampleRunsAgainstAServer() throws {
        let server = try RunningProcess(BuiltProducts.archbench, ["serve", "monolith", "--port", "0"])
        defer {
            kill(server.pid, SIGTERM)
            _ = server.finish(timeout: 10)
        }
        XCTAssertTrue(server.waitForStderr(containing: "monolith listening on 127.0.0.1:", timeout: 60), server.stderrSoFar)
        let line = server.stderrSoFar.components(separatedBy: "\n").first { $0.contains("listening on 127.0.0.1:") } ?? ""
        let port = try XCTUnwrap(line.range(of: "127.0.0.1:").flatMap { UInt16(line[$0.upperBound...].prefix { $0.isNumber }) })
        let target = BenchmarkTarget(architecture: "monolithic", baseURL: LoadTarget(host: "127.0.0.1", port: port),
                                     websocketURL: LoadTarget(host: "127.0.0.1", port: port, path: "/ws", websocket: true),
                                     connectionPoolSize: 4)
        let result = try HealthBenchmark().run(BenchmarkContext(target: target, profile: .default, duration: 0.5))
        XCTAssertGreaterThan(result.throughput, 0)
        XCTAssertEqual(result.successRate, 1)
        XCTAssertLessThanOrEqual(result.latencyStats.p50, result.latencyStats.p99)
        let registry = BenchmarkRegistry.standard
        try registry.register(HealthBenchmark())
        XCTAssertEqual(registry.names.last, "health_checks")
        XCTAssertThrowsError(try registry.register(HealthBenchmark()), "a name already registered is refused")
    }
}

import Backends
import Foundation
import Load
import Recording
import Suite
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `archbench serve ARGS` on free loopback ports, for the benchmarks to load.
private final class BenchmarkServer: @unchecked Sendable {
    let process: RunningProcess
    let port: UInt16
    let wsPort: UInt16

    init(_ arguments: [String]) throws {
        process = try RunningProcess(BuiltProducts.archbench, ["serve"] + arguments)
        let marker = "\(arguments[0]) listening on 127.0.0.1:"
        guard process.waitForStderr(containing: marker, timeout: 60) else {
            let result = process.finish(timeout: 5)
            throw XCTSkip("archbench serve \(arguments.joined(separator: " ")) did not start: \(result.stderr)")
        }
        let line = process.stderrSoFar.components(separatedBy: "\n").first { $0.contains(marker) } ?? ""
        func number(after text: String) -> UInt16? {
            guard let range = line.range(of: text) else { return nil }
            return UInt16(line[range.upperBound...].prefix { $0.isNumber })
        }
        port = number(after: marker) ?? 0
        wsPort = number(after: "ws://127.0.0.1:") ?? 0
    }

    func target(poolSize: Int = 8) -> BenchmarkTarget {
        BenchmarkTarget(architecture: "monolithic", baseURL: LoadTarget(host: "127.0.0.1", port: port, path: "/"),
                        websocketURL: LoadTarget(host: "127.0.0.1", port: wsPort, path: "/ws", websocket: true),
                        connectionPoolSize: poolSize)
    }

    func stop() {
        if process.process.isRunning { kill(process.pid, SIGTERM) }
        _ = process.finish(timeout: 10)
    }
}

/// The five benchmarks against the real reference backends (the debug `archbench serve monolith`),
/// each for 1–2 s: what they count is checked against the load's own counts and the server's
/// answers, never against a speed.
final class BenchmarkTests: XCTestCase {
    nonisolated(unsafe) private static var healthy: BenchmarkServer?

    override class func tearDown() {
        healthy?.stop()
        healthy = nil
        super.tearDown()
    }

    private func healthyServer() throws -> BenchmarkServer {
        if let server = Self.healthy { return server }
        let server = try BenchmarkServer(["monolith", "--port", "0"])
        Self.healthy = server
        return server
    }

    private func context(_ server: BenchmarkServer, _ profile: WorkloadProfile = .default,
                         duration: Double = 1) -> BenchmarkContext {
        BenchmarkContext(target: server.target(), profile: profile, duration: duration)
    }

    /// p50 ≤ p95 ≤ p99 ≤ max, and the mean within [min, max].
    private func assertOrdered(_ latency: BenchmarkLatency, _ what: String, file: StaticString = #filePath,
                               line: UInt = #line) {
        XCTAssertGreaterThan(latency.p50, 0, "\(what): \(latency)", file: file, line: line)
        XCTAssertLessThanOrEqual(latency.p50, latency.p95, "\(what): \(latency)", file: file, line: line)
        XCTAssertLessThanOrEqual(latency.p95, latency.p99, "\(what): \(latency)", file: file, line: line)
        XCTAssertLessThanOrEqual(latency.p99, latency.max, "\(what): \(latency)", file: file, line: line)
        XCTAssertLessThanOrEqual(latency.mean, latency.max, "\(what): \(latency)", file: file, line: line)
    }

    private func number(_ result: BenchmarkResult, _ key: String, file: StaticString = #filePath,
                        line: UInt = #line) throws -> Double {
        guard case .number(let value) = result.metadata[key] else {
            XCTFail("metadata[\(key)] is \(String(describing: result.metadata[key]))", file: file, line: line)
            throw XCTSkip("no \(key)")
        }
        return value
    }

    // MARK: - The registry and the profiles

    private struct Custom: Benchmark {
        var name = "custom_probe"
        func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
            BenchmarkResult(throughput: 1, latencyStats: BenchmarkLatency(mean: 1, p50: 1, p95: 1, p99: 1, max: 1),
                            successRate: 1, metadata: ["unit": .text("probes")])
        }
    }

    func testTheStandardRegistryHoldsTheFiveInTheSeedsOrderAndTakesCustomOnesAfterThem() throws {
        let registry = BenchmarkRegistry.standard
        XCTAssertEqual(registry.names, ["training_throughput", "websocket_latency", "api_response_times",
                                        "memory_usage", "concurrent_handling"])
        try registry.register(Custom())
        XCTAssertEqual(registry.names.last, "custom_probe")
        XCTAssertNotNil(registry.benchmark(named: "custom_probe"))
        XCTAssertEqual(BenchmarkRegistry.standard.names.count, 5, "each standard registry is a registry of its own")

        XCTAssertThrowsError(try registry.register(Custom(name: "memory_usage"))) { error in
            XCTAssertEqual(error as? BenchmarkError, .duplicateName("memory_usage"))
        }
        XCTAssertThrowsError(try registry.register(Custom(name: "custom_probe")))
        XCTAssertThrowsError(try registry.register(Custom(name: "")))
        XCTAssertThrowsError(try registry.register(Custom(name: "two words")))
        XCTAssertEqual(registry.names.count, 6, "a refused registration leaves the registry as it was")
    }

    func testTheFiveProfilesAreNamedBoundedAndWithinTheBackendsLimits() throws {
        XCTAssertEqual(WorkloadProfile.all.map(\.name),
                       ["default", "high_throughput", "low_latency", "memory_constrained", "stress_test"])
        XCTAssertNil(WorkloadProfile.named("turbo"))
        for profile in WorkloadProfile.all {
            XCTAssertEqual(WorkloadProfile.named(profile.name), profile)
            let job = profile.trainingJob
            XCTAssertTrue(TrainingJob.limits.samples.contains(job.samples), profile.name)
            XCTAssertTrue(TrainingJob.limits.features.contains(job.features), profile.name)
            XCTAssertTrue(TrainingJob.limits.epochs.contains(job.epochs), profile.name)
            XCTAssertLessThanOrEqual(job.samples * job.features, TrainingJob.maxDataPoints, profile.name)
            XCTAssertLessThanOrEqual(job.samples * job.features * job.epochs, TrainingJob.maxWork, profile.name)
            XCTAssertFalse(profile.concurrencySteps.isEmpty, profile.name)
            XCTAssertEqual(profile.concurrencySteps, profile.concurrencySteps.sorted(), profile.name)
            XCTAssertLessThanOrEqual(profile.concurrencySteps.max() ?? 0, 256, profile.name)
            XCTAssertLessThanOrEqual(profile.connections.resolved(poolSize: 20), 100, profile.name)
            XCTAssertGreaterThanOrEqual(profile.messageBytes, 24, "the sequence stamp fits: \(profile.name)")
            // The profile is plain data: it survives a JSON round trip.
            let decoded = try JSONDecoder().decode(WorkloadProfile.self, from: JSONEncoder().encode(profile))
            XCTAssertEqual(decoded, profile)
        }
        XCTAssertEqual(WorkloadProfile.memoryConstrained.memoryLimitBytes, 256 << 20)
        XCTAssertNil(WorkloadProfile.default.memoryLimitBytes)
        XCTAssertNil(WorkloadProfile.default.latencyRate, "default is closed loop")
        XCTAssertNotNil(WorkloadProfile.lowLatency.latencyRate, "low_latency is open loop")
        XCTAssertEqual(WorkloadProfile.Connections.poolSize(times: 0.5).resolved(poolSize: 1), 1, "never 0")
        XCTAssertEqual(WorkloadProfile.Connections.fixed(count: 4).resolved(poolSize: 20), 4)
    }

    // MARK: - Each benchmark against a healthy monolith

    func testTrainingThroughputIsModelsTrainedPerSecond() throws {
        let server = try healthyServer()
        let result = try TrainingThroughputBenchmark().run(context(server, duration: 1.5))
        let load = try XCTUnwrap(result.loads.first)
        let models = try XCTUnwrap(load.statusCounts["200"])
        XCTAssertGreaterThan(models, 0)
        XCTAssertEqual(load.statusCounts, ["200": models], "every job trained")
        print("measured: \(models) models in \(load.durationS) s at concurrency \(load.connections): \(result.throughput) models/s, job p50 \(result.latencyStats.p50) ms")
        XCTAssertEqual(result.throughput, Double(models) / load.durationS, accuracy: 1e-9)
        XCTAssertEqual(result.successRate, 1)
        XCTAssertEqual(load.connections, WorkloadProfile.default.trainingConcurrency, "the fixed concurrency")
        XCTAssertEqual(result.metadata["unit"], .text("models"))
        XCTAssertEqual(try number(result, "tolerance_pct"), 5)
        XCTAssertEqual(try number(result, "models"), Double(models))
        assertOrdered(result.latencyStats, "job latency")
        XCTAssertEqual(result.latencyStats.p99, load.latencyUs.p99 / 1_000, accuracy: 1e-9, "ms from µs")
    }

    func testWebSocketLatencyTimesEveryEcho() throws {
        let server = try healthyServer()
        let result = try WebSocketLatencyBenchmark().run(context(server))
        let load = try XCTUnwrap(result.loads.first)
        XCTAssertTrue(load.mode.hasPrefix("websocket"), load.mode)
        XCTAssertGreaterThan(load.requests, 0, "messages echoed")
        XCTAssertEqual(load.errors.total, 0, "no echo lost or out of order")
        XCTAssertEqual(load.statusCounts["101"], UInt64(WorkloadProfile.default.websocketConnections),
                       "each connection upgraded once")
        XCTAssertEqual(result.successRate, 1)
        XCTAssertEqual(result.throughput, Double(load.requests) / load.durationS, accuracy: 1e-9)
        XCTAssertEqual(result.metadata["unit"], .text("messages"))
        assertOrdered(result.latencyStats, "RTT")
    }

    func testWebSocketLatencyOpenLoopAtTheLowLatencyRate() throws {
        let server = try healthyServer()
        let result = try WebSocketLatencyBenchmark().run(context(server, .lowLatency))
        let load = try XCTUnwrap(result.loads.first)
        XCTAssertEqual(load.targetRate, WorkloadProfile.lowLatency.latencyRate)
        XCTAssertNotNil(load.uncorrectedLatencyUs, "open loop: corrected and uncorrected latency")
        XCTAssertTrue(load.mode.hasSuffix("open loop"), load.mode)
        XCTAssertGreaterThan(load.requests, 0)
        XCTAssertEqual(result.successRate, 1)
        XCTAssertEqual(try number(result, "target_rate"), WorkloadProfile.lowLatency.latencyRate)
        assertOrdered(result.latencyStats, "RTT")
    }

    func testAPIResponseTimesPerEndpointAndOverall() throws {
        let server = try healthyServer()
        let result = try APIResponseTimesBenchmark().run(context(server, duration: 1.5))
        let load = try XCTUnwrap(result.loads.first)
        XCTAssertEqual(load.connections, 8, "the architecture's pool size")
        XCTAssertEqual(load.endpoints.map { "\($0.method) \($0.path)" },
                       ["GET /api/users", "GET /api/items?limit=20", "GET /api/users/1", "GET /api/items/2",
                        "POST /api/orders"])
        for endpoint in load.endpoints {
            let label = "\(endpoint.method) \(endpoint.path)"
            XCTAssertGreaterThan(endpoint.requests, 0, label)
            XCTAssertEqual(endpoint.errors.total, 0, label)
            let p50 = try number(result, "endpoint.\(label).p50_ms")
            let p95 = try number(result, "endpoint.\(label).p95_ms")
            let p99 = try number(result, "endpoint.\(label).p99_ms")
            XCTAssertTrue(p50 > 0 && p50 <= p95 && p95 <= p99, "\(label): \(p50) \(p95) \(p99)")
            XCTAssertEqual(p95, endpoint.latencyUs.p95 / 1_000, accuracy: 1e-9, label)
            XCTAssertEqual(try number(result, "endpoint.\(label).success_rate"), 1, label)
        }
        XCTAssertEqual(load.endpoints.last?.statusCounts, ["201": load.endpoints.last?.requests ?? 0], "orders placed")
        XCTAssertEqual(result.successRate, 1)
        XCTAssertGreaterThan(result.throughput, 0)
        XCTAssertEqual(result.metadata["unit"], .text("requests"))
        assertOrdered(result.latencyStats, "overall")
        let measured = load.latencyUs
        XCTAssertTrue(measured.p90 <= measured.p95 && measured.p95 <= measured.p99, "the load's own p95: \(measured)")
        XCTAssertEqual(result.latencyStats.p95, measured.p95 / 1_000, accuracy: 1e-9)
    }

    func testMemoryUsageIsASteadyReadOnlyLoad() throws {
        let server = try healthyServer()
        let result = try MemoryUsageBenchmark().run(context(server))
        let load = try XCTUnwrap(result.loads.first)
        XCTAssertFalse(load.endpoints.contains { $0.method != "GET" }, "no order kept by the server")
        XCTAssertEqual(load.connections, 8)
        XCTAssertNil(load.targetRate, "closed loop")
        XCTAssertGreaterThan(result.throughput, 0)
        XCTAssertEqual(result.successRate, 1)
        XCTAssertEqual(result.metadata["unit"], .text("requests"))
        assertOrdered(result.latencyStats, "latency")
    }

    func testConcurrentHandlingStepsUpToAKneeThatIsOneOfItsSteps() throws {
        let server = try healthyServer()
        let started = Date()
        let result = try ConcurrentHandlingBenchmark().run(context(server, duration: 2))
        let elapsed = Date().timeIntervalSince(started)
        let steps = result.loads.map(\.connections)
        XCTAssertGreaterThanOrEqual(steps.count, 2, "\(result.metadata)")
        XCTAssertEqual(steps, Array(WorkloadProfile.default.concurrencySteps.prefix(steps.count)), "in order, from 1")
        XCTAssertEqual(try number(result, "steps"), Double(steps.count))
        let knee = Int(try number(result, "knee_connections"))
        print("measured: sweep \(steps) in \(elapsed) s, stopped by \(String(describing: result.metadata["stop_reason"])), knee \(knee), max \(result.throughput) req/s")
        XCTAssertTrue(steps.contains(knee), "knee \(knee) not among \(steps)")
        let rates = try steps.map { try number(result, "step.\($0).requests_per_s") }
        XCTAssertTrue(rates.allSatisfy { $0 > 0 }, "\(rates)")
        let within = steps.map { result.metadata["step.\($0).within_bounds"] == .flag(true) }
        XCTAssertTrue(within.first ?? false, "a healthy server's first step is sustainable")
        XCTAssertTrue(within.dropLast().allSatisfy { $0 }, "only the step that stopped the sweep may be out of bounds")
        let sustainable = zip(rates, within).filter(\.1).map(\.0)
        XCTAssertEqual(result.throughput, sustainable.max() ?? 0, accuracy: 1e-9, "the best step within the bounds")
        let kneeRate = try number(result, "step.\(knee).requests_per_s")
        XCTAssertGreaterThanOrEqual(kneeRate, 0.95 * result.throughput)
        XCTAssertEqual(result.successRate, 1)
        for load in result.loads {
            XCTAssertGreaterThanOrEqual(load.durationS, ConcurrentHandlingBenchmark.minimumStepSeconds * 0.9)
        }
        let stop = result.metadata["stop_reason"]
        XCTAssertTrue([.text("plateau"), .text("latency_bound"), .text("steps_exhausted")].contains(stop), "\(String(describing: stop))")
        assertOrdered(result.latencyStats, "the knee's latency")
        // 7 steps of at least 0.5 s: bounded whatever the server does (each step also drains).
        XCTAssertLessThan(elapsed, 7 * (0.5 + 2.5), "the sweep is bounded")
    }

    func testAnUnreachableTargetThrows() throws {
        let nobody = try BenchmarkTarget(architecture: "monolithic", baseURL: LoadTarget.parse("http://127.0.0.1:9/"),
                                         websocketURL: LoadTarget.parse("ws://127.0.0.1:9/ws"), connectionPoolSize: 4)
        for benchmark in BenchmarkRegistry.standard.benchmarks {
            XCTAssertThrowsError(try benchmark.run(BenchmarkContext(target: nobody, profile: .default, duration: 1)),
                                 benchmark.name) { error in
                XCTAssertTrue("\(error)".contains("127.0.0.1:9"), "\(error)")
            }
        }
    }

    // MARK: - A failing server

    func testHalfTheRequestsFailingShowsInTheSuccessRate() throws {
        let server = try BenchmarkServer(["monolith", "--port", "0", "--error-rate", "0.5"])
        defer { server.stop() }
        let api = try APIResponseTimesBenchmark().run(context(server))
        let load = try XCTUnwrap(api.loads.first)
        XCTAssertGreaterThan(load.requests, 100)
        XCTAssertEqual(api.successRate, 0.5, accuracy: 0.1, "each request fails with probability 0.5")
        XCTAssertEqual(Double(load.statusCounts["500"] ?? 0) / Double(load.requests), 1 - api.successRate, accuracy: 1e-9)
        XCTAssertLessThan(api.throughput, load.requestsPerS, "only the successful requests count")

        let sweep = try ConcurrentHandlingBenchmark().run(context(server))
        XCTAssertEqual(sweep.metadata["stop_reason"], .text("error_bound"))
        XCTAssertEqual(sweep.loads.count, 1, "the first step already fails more than 1%")
        XCTAssertEqual(sweep.throughput, 0, "no step is sustainable")
        XCTAssertEqual(try number(sweep, "knee_connections"), 0)
        XCTAssertLessThan(sweep.successRate, 0.7)
    }
}

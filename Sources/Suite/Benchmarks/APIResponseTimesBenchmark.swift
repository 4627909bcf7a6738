import Load
import Recording

/// `api_response_times`: the weighted REST mix (`BenchmarkLoad.restMix`: 4 GET /api/users, 2 GET
/// /api/items?limit=20, 1 GET /api/users/1, 1 GET /api/items/2, 1 POST /api/orders) over the profile's
/// connections, closed loop or at the profile's `latencyRate` open loop. Latency is overall in
/// `latencyStats` and per endpoint in the metadata, `endpoint.<METHOD PATH>.<figure>`: `p50_ms`,
/// `p95_ms`, `p99_ms`, `mean_ms`, `max_ms`, `requests`, `errors`, `success_rate`.
public struct APIResponseTimesBenchmark: Benchmark {
    public let name = "api_response_times"

    public init() {}

    public func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        let profile = context.profile
        let base = context.target.baseURL
        var config = BenchmarkLoad.config(
            base, connections: profile.connections.resolved(poolSize: context.target.connectionPoolSize),
            profile: profile, duration: context.duration, rate: profile.latencyRate)
        config.endpoints = BenchmarkLoad.restMix(under: base)
        let outcome = LoadOutcome(try LoadGenerator.run(config, progress: context.progress))
        var metadata = outcome.metadata(unit: "requests", profile: profile)
        for endpoint in outcome.result.endpoints {
            let key = "endpoint.\(endpoint.method) \(endpoint.path)."
            let latency = BenchmarkLatency(microseconds: endpoint.latencyUs)
            let failed = endpoint.errors.total
            let succeeded = endpoint.requests - Swift.min(endpoint.errors.status, endpoint.requests)
            let attempted = succeeded + failed
            metadata[key + "p50_ms"] = .number(latency.p50)
            metadata[key + "p95_ms"] = .number(latency.p95)
            metadata[key + "p99_ms"] = .number(latency.p99)
            metadata[key + "mean_ms"] = .number(latency.mean)
            metadata[key + "max_ms"] = .number(latency.max)
            metadata[key + "requests"] = .number(Double(endpoint.requests))
            metadata[key + "errors"] = .number(Double(failed))
            metadata[key + "success_rate"] = .number(attempted > 0 ? Double(succeeded) / Double(attempted) : 0)
        }
        return BenchmarkResult(throughput: outcome.throughput, latencyStats: outcome.latency,
                               successRate: outcome.successRate, metadata: metadata, loads: [outcome.result])
    }
}

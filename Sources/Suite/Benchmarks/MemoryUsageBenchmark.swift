import Load
import Recording

/// `memory_usage`: a steady load for the whole duration while the probes record every process's RSS:
/// the read-only REST mix (`BenchmarkLoad.readMix`) closed loop over the profile's connections (the
/// architecture's pool size by default). The client side of the result is throughput, latency and
/// success rate; the suite adds the memory figures from the probes (the architecture's peak and each
/// process's), which the leak analysis builds on.
public struct MemoryUsageBenchmark: Benchmark {
    public let name = "memory_usage"

    public init() {}

    public func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        let profile = context.profile
        let base = context.target.baseURL
        var config = BenchmarkLoad.config(
            base, connections: profile.connections.resolved(poolSize: context.target.connectionPoolSize),
            profile: profile, duration: context.duration)
        config.endpoints = BenchmarkLoad.readMix(under: base)
        let outcome = LoadOutcome(try LoadGenerator.run(config, progress: context.progress))
        var metadata = outcome.metadata(unit: "requests", profile: profile)
        if let limit = profile.memoryLimitBytes { metadata["memory_limit_bytes"] = .number(Double(limit)) }
        return BenchmarkResult(throughput: outcome.throughput, latencyStats: outcome.latency,
                               successRate: outcome.successRate, metadata: metadata, loads: [outcome.result])
    }
}

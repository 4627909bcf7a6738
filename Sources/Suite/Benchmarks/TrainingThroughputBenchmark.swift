import Load
import Recording

/// `training_throughput`: training jobs (`POST /train`, answered when the model is trained) at a fixed
/// concurrency, closed loop: each of the profile's `trainingConcurrency` connections submits the next
/// job as soon as its last one is answered. Throughput is models trained per second (responses with
/// status 200 over the run), latency is a job's, submission to answer.
public struct TrainingThroughputBenchmark: Benchmark {
    /// The seed's tolerance on models per second between two runs, in percent.
    public static let tolerancePercent = 5.0
    /// A job still unanswered after this long is a timeout (a job of the profiles takes well under 1 s).
    public static let jobTimeout = 30.0

    public let name = "training_throughput"

    public init() {}

    public func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        let profile = context.profile
        var target = context.target.baseURL
        target.path = BenchmarkLoad.path("/train", under: target)
        var config = BenchmarkLoad.config(target, connections: profile.trainingConcurrency, profile: profile,
                                          duration: context.duration,
                                          timeout: Swift.max(profile.requestTimeout, Self.jobTimeout))
        config.endpoints = [LoadEndpoint(method: "POST", path: target.path, headers: ["Content-Type: application/json"],
                                         body: profile.trainingJob.requestBody)]
        let outcome = LoadOutcome(try LoadGenerator.run(config, progress: context.progress))
        var metadata = outcome.metadata(unit: "models", profile: profile)
        metadata["tolerance_pct"] = .number(Self.tolerancePercent)
        metadata["concurrency"] = .number(Double(config.connections))
        metadata["job_samples"] = .number(Double(profile.trainingJob.samples))
        metadata["job_features"] = .number(Double(profile.trainingJob.features))
        metadata["job_epochs"] = .number(Double(profile.trainingJob.epochs))
        metadata["models"] = .number(Double(outcome.succeeded))
        return BenchmarkResult(throughput: outcome.throughput, latencyStats: outcome.latency,
                               successRate: outcome.successRate, metadata: metadata, loads: [outcome.result])
    }
}

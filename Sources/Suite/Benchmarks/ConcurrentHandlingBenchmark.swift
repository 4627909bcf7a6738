import Load
import Recording

/// `concurrent_handling`: the REST mix of `api_response_times`, closed loop, at each of the profile's
/// `concurrencySteps` connections in turn (1, 2, 4, … 64 by default), the duration split evenly among
/// the steps (each at least `minimumStepSeconds`). The sweep stops early when the throughput has
/// stopped rising (two steps in a row each less than 5% above the best before it), when a step's p99
/// crosses the latency bound (`latencyBoundFactor` × the first step's p99, but at least
/// `latencyBoundFloorMs` and at most `latencyBoundCeilingMs`), or when more than 1% of a step's
/// requests fail. Throughput is the maximum sustainable rate: the best step within the bounds. The
/// knee is the fewest connections that reach 95% of it; the result's latency is the knee step's.
///
/// Metadata: `knee_connections` (0 when no step stayed within the bounds), `stop_reason`
/// (`plateau`, `latency_bound`, `error_bound`, `steps_exhausted`, `interrupted`), `steps` (how many
/// ran), and per step `step.<N>.requests_per_s`, `step.<N>.p99_ms`, `step.<N>.error_rate`,
/// `step.<N>.within_bounds`.
public struct ConcurrentHandlingBenchmark: Benchmark {
    public static let minimumStepSeconds = 0.5
    /// A step must beat the best before it by this share to count as still rising.
    public static let risingGain = 0.05
    /// Steps in a row that did not rise before the sweep stops.
    public static let flatStepsToStop = 2
    /// The share of failed requests a step may have and still be sustainable.
    public static let errorBound = 0.01
    public static let latencyBoundFactor = 10.0
    public static let latencyBoundFloorMs = 10.0
    public static let latencyBoundCeilingMs = 1_000.0
    /// The knee: the fewest connections within this share of the maximum sustainable throughput.
    public static let kneeShare = 0.95

    public let name = "concurrent_handling"

    public init() {}

    /// One step of the sweep.
    struct Step {
        var connections: Int
        var outcome: LoadOutcome
        var withinBounds: Bool
    }

    enum StopReason: String {
        case plateau = "plateau"
        case latencyBound = "latency_bound"
        case errorBound = "error_bound"
        case stepsExhausted = "steps_exhausted"
        case interrupted = "interrupted"
    }

    /// The profile's steps as run: positive, ascending, each once.
    static func steps(_ profile: WorkloadProfile) -> [Int] {
        Array(Set(profile.concurrencySteps.filter { $0 > 0 })).sorted()
    }

    public func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        let profile = context.profile
        let base = context.target.baseURL
        let counts = Self.steps(profile)
        guard !counts.isEmpty else {
            throw BenchmarkError.badProfile(profile.name, "concurrency_steps has no positive connection count")
        }
        let stepSeconds = Swift.max(Self.minimumStepSeconds, context.duration / Double(counts.count))
        var steps: [Step] = []
        var best = 0.0
        var flat = 0
        var stop = StopReason.stepsExhausted
        var before = (elapsedSeconds: 0.0, sent: UInt64(0), completed: UInt64(0), errors: UInt64(0))
        for connections in counts {
            var config = BenchmarkLoad.config(base, connections: connections, profile: profile, duration: stepSeconds)
            config.endpoints = BenchmarkLoad.restMix(under: base)
            // The progress line sees one load from the first step to the last.
            let offset = before
            let result = try LoadGenerator.run(config) { progress in
                var whole = progress
                whole.elapsedSeconds += offset.elapsedSeconds
                whole.sent += offset.sent
                whole.completed += offset.completed
                whole.errors += offset.errors
                context.progress(whole)
            }
            before.elapsedSeconds += result.durationS
            before.sent += result.sent
            before.completed += result.requests
            before.errors += result.errors.total
            let outcome = LoadOutcome(result)
            let p99 = outcome.latency.p99
            let bound = Self.latencyBound(firstP99: steps.first?.outcome.latency.p99 ?? p99)
            let errorsWithin = outcome.errorRate <= Self.errorBound
            let latencyWithin = p99 <= bound
            steps.append(Step(connections: connections, outcome: outcome, withinBounds: errorsWithin && latencyWithin))
            if result.stoppedEarly {
                stop = .interrupted
                break
            }
            guard errorsWithin else {
                stop = .errorBound
                break
            }
            guard latencyWithin else {
                stop = .latencyBound
                break
            }
            flat = outcome.throughput >= best * (1 + Self.risingGain) ? 0 : flat + 1
            best = Swift.max(best, outcome.throughput)
            if flat >= Self.flatStepsToStop {
                stop = .plateau
                break
            }
        }
        return Self.result(steps, stop: stop, profile: profile)
    }

    /// The p99 (ms) a step may reach and still be sustainable, given the first step's.
    static func latencyBound(firstP99: Double) -> Double {
        Swift.min(latencyBoundCeilingMs, Swift.max(latencyBoundFloorMs, latencyBoundFactor * firstP99))
    }

    /// The sweep's result: the best step within the bounds, the knee, every step in the metadata.
    static func result(_ steps: [Step], stop: StopReason, profile: WorkloadProfile) -> BenchmarkResult {
        let sustainable = steps.filter(\.withinBounds)
        let maximum = sustainable.map(\.outcome.throughput).max() ?? 0
        let knee = sustainable.first { $0.outcome.throughput >= kneeShare * maximum }
        let reported = knee ?? steps.last!
        var metadata = reported.outcome.metadata(unit: "requests", profile: profile)
        metadata["knee_connections"] = .number(Double(knee?.connections ?? 0))
        metadata["stop_reason"] = .text(stop.rawValue)
        metadata["steps"] = .number(Double(steps.count))
        metadata["step_duration_s"] = .number(steps.first?.outcome.result.durationS ?? 0)
        for step in steps {
            let key = "step.\(step.connections)."
            metadata[key + "requests_per_s"] = .number(step.outcome.throughput)
            metadata[key + "p99_ms"] = .number(step.outcome.latency.p99)
            metadata[key + "error_rate"] = .number(step.outcome.errorRate)
            metadata[key + "within_bounds"] = .flag(step.withinBounds)
        }
        let succeeded = steps.map(\.outcome.succeeded).reduce(0, +)
        let attempted = steps.map(\.outcome.attempted).reduce(0, +)
        return BenchmarkResult(
            throughput: maximum, latencyStats: reported.outcome.latency,
            successRate: attempted > 0 ? Double(succeeded) / Double(attempted) : 0,
            metadata: metadata, loads: steps.map(\.outcome.result))
    }
}

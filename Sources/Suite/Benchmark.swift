import Load
// A custom benchmark names the result types (BenchmarkResult, BenchmarkLatency), which live in
// Recording so that Reports can read a results file without the suite: `import Suite` brings them.
@_exported import Recording

/// One architecture's endpoints, as a benchmark sees them.
public struct BenchmarkTarget: Sendable {
    /// The architecture's name in the config (`monolithic`, `microservices`).
    public var architecture: String
    /// `base_url`: where the REST API and `POST /train` are.
    public var baseURL: LoadTarget
    /// `websocket_url`: the echo endpoint.
    public var websocketURL: LoadTarget
    /// `connection_pool_size`: the connections a client of this architecture keeps.
    public var connectionPoolSize: Int

    public init(architecture: String, baseURL: LoadTarget, websocketURL: LoadTarget, connectionPoolSize: Int) {
        self.architecture = architecture
        self.baseURL = baseURL
        self.websocketURL = websocketURL
        self.connectionPoolSize = connectionPoolSize
    }
}

/// What one benchmark run is given.
public struct BenchmarkContext: Sendable {
    public var target: BenchmarkTarget
    public var profile: WorkloadProfile
    /// Seconds of load (`--duration`); a benchmark that steps (concurrency) divides it among steps.
    public var duration: Double
    /// Live counters of the load in progress, for the progress line.
    public var progress: @Sendable (LoadProgress) -> Void

    public init(target: BenchmarkTarget, profile: WorkloadProfile, duration: Double,
                progress: @escaping @Sendable (LoadProgress) -> Void = { _ in }) {
        self.target = target
        self.profile = profile
        self.duration = duration
        self.progress = progress
    }
}

/// A benchmark the suite runs against each architecture. The five of the seed are built in
/// (`BenchmarkRegistry.standard`); a custom one is registered next to them.
public protocol Benchmark: Sendable {
    /// Its key in the results (`training_throughput`, …).
    var name: String { get }
    /// Runs against one architecture and returns the seed's shape. Errors of the load (refused,
    /// reset, timed out) are counted in the result; a throw means the benchmark could not run.
    func run(_ context: BenchmarkContext) throws -> BenchmarkResult
}

/// How hard and in what shape the five benchmarks load an architecture (`archbench run --workload
/// NAME`). The seed's five profiles are built in; docs/suite.md has them side by side.
///
/// Every load a profile describes is bounded: in time (the benchmark's duration, split among the
/// concurrency steps), in count (connections, steps, job size within the backends' limits) and in
/// place (the architecture's loopback URLs). A profile only describes; the benchmarks read it, and
/// the suite applies what is not a load (`memoryLimitBytes`, `durationScale`).
public struct WorkloadProfile: Sendable, Codable, Equatable {
    /// How many connections a benchmark opens: a multiple of the architecture's
    /// `connection_pool_size` (the seed's meaning: the connections a client of it keeps), or a fixed
    /// number whatever the architecture.
    public enum Connections: Sendable, Codable, Equatable {
        case poolSize(times: Double)
        case fixed(count: Int)

        /// The number for an architecture whose pool size is `poolSize`: at least 1.
        public func resolved(poolSize: Int) -> Int {
            switch self {
            case .poolSize(let times): Swift.max(1, Int((Double(poolSize) * times).rounded()))
            case .fixed(let count): Swift.max(1, count)
            }
        }
    }

    /// One training job, as `POST /train` takes it (Sources/Backends/Training.swift): within its
    /// limits (samples × features ≤ 4 000 000, samples × features × epochs ≤ 200 000 000).
    public struct TrainingJobSize: Sendable, Codable, Equatable {
        public var samples: Int
        public var features: Int
        public var epochs: Int

        public init(samples: Int, features: Int, epochs: Int) {
            self.samples = samples
            self.features = features
            self.epochs = epochs
        }

        /// The request body: the job's size, the default learning rate and seed.
        public var requestBody: String {
            #"{"epochs":\#(epochs),"features":\#(features),"samples":\#(samples)}"#
        }
    }

    /// `default`, `high_throughput`, `low_latency`, `memory_constrained`, `stress_test`.
    public var name: String
    /// One line: what the profile is for.
    public var summary: String
    /// Load generator threads (each runs its own epoll loop); never more than the connections.
    public var loadThreads: Int
    /// Connections of `api_response_times` and `memory_usage` (HTTP keep-alive).
    public var connections: Connections
    /// Requests (messages) per second in total for the latency benchmarks, `api_response_times` and
    /// `websocket_latency`: open loop, latency measured from each request's intended start
    /// (coordinated-omission corrected). Nil: closed loop, each connection sends as soon as it has
    /// its answer.
    public var latencyRate: Double?
    /// `websocket_latency`'s connections, each with one message in flight (closed loop) or sharing
    /// `latencyRate`.
    public var websocketConnections: Int
    /// The payload of each WebSocket message (at least 24 bytes: the sequence stamp).
    public var messageBytes: Int
    /// `training_throughput`'s jobs in flight (one per connection, closed loop).
    public var trainingConcurrency: Int
    public var trainingJob: TrainingJobSize
    /// `concurrent_handling`'s connection counts, in order; the sweep stops early at the knee.
    public var concurrencySteps: [Int]
    /// A request (message, job) still unanswered this long is a `timeout` error.
    public var requestTimeout: Double
    /// The memory limit the suite puts the spawned targets under (cgroup v2 `memory.max`), or nil.
    public var memoryLimitBytes: UInt64?
    /// The suite runs each benchmark for `--duration` × this (the benchmarks take the duration they
    /// are given as is).
    public var durationScale: Double

    public init(name: String, summary: String, loadThreads: Int = 2, connections: Connections = .poolSize(times: 1),
                latencyRate: Double? = nil, websocketConnections: Int = 10, messageBytes: Int = 64,
                trainingConcurrency: Int = 2, trainingJob: TrainingJobSize = Self.standardJob,
                concurrencySteps: [Int] = [1, 2, 4, 8, 16, 32, 64], requestTimeout: Double = 2,
                memoryLimitBytes: UInt64? = nil, durationScale: Double = 1) {
        self.name = name
        self.summary = summary
        self.loadThreads = loadThreads
        self.connections = connections
        self.latencyRate = latencyRate
        self.websocketConnections = websocketConnections
        self.messageBytes = messageBytes
        self.trainingConcurrency = trainingConcurrency
        self.trainingJob = trainingJob
        self.concurrencySteps = concurrencySteps
        self.requestTimeout = requestTimeout
        self.memoryLimitBytes = memoryLimitBytes
        self.durationScale = durationScale
    }

    /// The training job of the default profile: large enough that the job, not the HTTP exchange, is
    /// what is timed (its cost is in docs/suite.md, training_throughput).
    public static let standardJob = TrainingJobSize(samples: 4_000, features: 32, epochs: 10)

    public static let `default` = WorkloadProfile(
        name: "default", summary: "balanced: every benchmark at the architecture's own pool size, closed loop")

    public static let highThroughput = WorkloadProfile(
        name: "high_throughput", summary: "maximum request and model rates: twice the pool, more jobs in flight",
        connections: .poolSize(times: 2), websocketConnections: 20, trainingConcurrency: 4,
        trainingJob: TrainingJobSize(samples: 1_000, features: 32, epochs: 10),
        concurrencySteps: [1, 2, 4, 8, 16, 32, 64, 128])

    public static let lowLatency = WorkloadProfile(
        name: "low_latency", summary: "response times at a modest fixed rate (open loop, corrected), few connections",
        loadThreads: 1, connections: .fixed(count: 4), latencyRate: 200, websocketConnections: 4,
        messageBytes: 32, trainingConcurrency: 1,
        trainingJob: TrainingJobSize(samples: 1_000, features: 16, epochs: 10),
        concurrencySteps: [1, 2, 4, 8, 16, 32])

    public static let memoryConstrained = WorkloadProfile(
        name: "memory_constrained", summary: "the targets under a 256 MiB memory limit, half the pool, smaller jobs",
        connections: .poolSize(times: 0.5), websocketConnections: 5, trainingConcurrency: 1,
        trainingJob: TrainingJobSize(samples: 1_000, features: 32, epochs: 20),
        concurrencySteps: [1, 2, 4, 8, 16, 32], memoryLimitBytes: 256 << 20)

    public static let stressTest = WorkloadProfile(
        name: "stress_test", summary: "maximum load: four times the pool, large messages and jobs, twice the duration",
        connections: .poolSize(times: 4), websocketConnections: 50, messageBytes: 4_096, trainingConcurrency: 4,
        trainingJob: TrainingJobSize(samples: 8_000, features: 64, epochs: 10),
        concurrencySteps: [1, 2, 4, 8, 16, 32, 64, 128, 256], requestTimeout: 5, durationScale: 2)

    /// The five, in the seed's order.
    public static let all: [WorkloadProfile] = [.default, .highThroughput, .lowLatency, .memoryConstrained, .stressTest]

    /// The profile called `name` (`--workload`), or nil.
    public static func named(_ name: String) -> WorkloadProfile? {
        all.first { $0.name == name }
    }
}

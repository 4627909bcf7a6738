import ArchbenchCore
import Foundation

/// The benchmarks `archbench run` runs against each architecture, in order: the seed's five
/// (`standard`), then any registered after them.
///
/// Thread-safe: registering and reading may happen from any thread. A name is a benchmark's key in
/// the results, so it must be unique: registering a second benchmark under a name already taken
/// throws (`BenchmarkError.duplicateName`) and leaves the registry as it was; nothing is replaced
/// silently.
public final class BenchmarkRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var registered: [any Benchmark]

    /// The seed's five, in its order: training_throughput, websocket_latency, api_response_times,
    /// memory_usage, concurrent_handling.
    public static let standardBenchmarks: [any Benchmark] = [
        TrainingThroughputBenchmark(), WebSocketLatencyBenchmark(), APIResponseTimesBenchmark(),
        MemoryUsageBenchmark(), ConcurrentHandlingBenchmark(),
    ]

    /// A new registry holding the five (each call gives a registry of its own, so registering a custom
    /// benchmark in one never shows in another).
    public static var standard: BenchmarkRegistry { BenchmarkRegistry(standardBenchmarks) }

    /// A registry of exactly these benchmarks (none by default); the names must be unique.
    public init(_ benchmarks: [any Benchmark] = []) {
        registered = []
        for benchmark in benchmarks {
            precondition(!registered.contains { $0.name == benchmark.name }, "benchmark \(benchmark.name) given twice")
            registered.append(benchmark)
        }
    }

    /// Every benchmark, in the order they run.
    public var benchmarks: [any Benchmark] { lock.withLock { registered } }

    public var names: [String] { benchmarks.map(\.name) }

    /// The benchmark called `name`, or nil.
    public func benchmark(named name: String) -> (any Benchmark)? {
        benchmarks.first { $0.name == name }
    }

    /// Adds a custom benchmark after those already registered. Throws `BenchmarkError.badName` for an
    /// empty name or one with whitespace or control characters, `BenchmarkError.duplicateName` when
    /// the name is taken.
    public func register(_ benchmark: any Benchmark) throws(BenchmarkError) {
        let name = benchmark.name
        guard !name.isEmpty, !name.unicodeScalars.contains(where: {
            CharacterSet.whitespacesAndNewlines.contains($0) || CharacterSet.controlCharacters.contains($0)
        }) else { throw .badName(name) }
        lock.lock()
        defer { lock.unlock() }
        guard !registered.contains(where: { $0.name == name }) else { throw .duplicateName(name) }
        registered.append(benchmark)
    }
}

/// Why a benchmark could not be registered or run.
public enum BenchmarkError: ArchbenchFailure, Equatable {
    /// A benchmark of that name is already registered.
    case duplicateName(String)
    /// The name is empty or holds whitespace or control characters.
    case badName(String)
    /// The profile (named) cannot drive this benchmark, and why.
    case badProfile(String, String)

    public var exitCode: ArchbenchExitCode { .usage }

    public var description: String {
        switch self {
        case .duplicateName(let name): "a benchmark named \(name) is already registered"
        case .badName(let name): "\"\(name)\" is not a benchmark name (it must be non-empty, without spaces)"
        case .badProfile(let profile, let why): "workload profile \(profile): \(why)"
        }
    }
}

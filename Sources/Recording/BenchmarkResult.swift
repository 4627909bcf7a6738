/// Latency of a benchmark's unit of work (a request, a message, a job), in milliseconds.
public struct BenchmarkLatency: Codable, Sendable, Equatable {
    public var mean: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double

    public init(mean: Double, p50: Double, p95: Double, p99: Double, max: Double) {
        self.mean = mean
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.max = max
    }
}

/// A metadata value: the seed's results carry free-form detail next to the headline numbers.
public enum MetadataValue: Codable, Sendable, Equatable {
    case number(Double)
    case text(String)
    case flag(Bool)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .flag(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        case .flag(let flag): try container.encode(flag)
        }
    }
}

/// The seed's result of one benchmark against one architecture: `{throughput, latency_stats,
/// success_rate, metadata}`, plus the load runs behind it (their windows, slow requests and
/// histogram summaries), so the analysis and the reports can be recomputed from the results file.
public struct BenchmarkResult: Codable, Sendable {
    /// Units of work per second (requests, messages, models), named in `metadata["unit"]`.
    public var throughput: Double
    public var latencyStats: BenchmarkLatency
    /// Completed without error, 0…1.
    public var successRate: Double
    public var metadata: [String: MetadataValue]
    public var loads: [LoadResult]

    public init(throughput: Double, latencyStats: BenchmarkLatency, successRate: Double,
                metadata: [String: MetadataValue] = [:], loads: [LoadResult] = []) {
        self.throughput = throughput
        self.latencyStats = latencyStats
        self.successRate = successRate
        self.metadata = metadata
        self.loads = loads
    }
}

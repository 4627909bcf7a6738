/// Latency percentiles in microseconds (0.1 µs resolution; the histograms keep 3 significant digits).
public struct LatencySummary: Codable, Sendable, Equatable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double
}

public struct ErrorCounts: Codable, Sendable, Equatable {
    public var connect: UInt64 = 0
    public var read: UInt64 = 0
    public var write: UInt64 = 0
    public var timeout: UInt64 = 0
    public var status: UInt64 = 0
    public var parse: UInt64 = 0

    public init(connect: UInt64 = 0, read: UInt64 = 0, write: UInt64 = 0, timeout: UInt64 = 0, status: UInt64 = 0,
                parse: UInt64 = 0) {
        self.connect = connect
        self.read = read
        self.write = write
        self.timeout = timeout
        self.status = status
        self.parse = parse
    }

    public var total: UInt64 { connect + read + write + timeout + status + parse }
}

/// The results for one endpoint of the mix.
public struct EndpointResult: Codable, Sendable {
    public var method: String
    public var path: String
    public var weight: UInt32
    public var sent: UInt64
    public var requests: UInt64
    public var requestsPerS: Double
    public var latencyUs: LatencySummary
    public var uncorrectedLatencyUs: LatencySummary?
    public var errors: ErrorCounts
    public var statusCounts: [String: UInt64]
}

/// One period of the run (100 ms by default), all threads merged; latency is the corrected one.
public struct LoadWindow: Codable, Sendable {
    public var startNs: UInt64
    public var responses: UInt64
    public var errors: UInt64
    public var p50Us: Double
    public var p90Us: Double
    public var p99Us: Double
    public var maxUs: Double
    /// Responses by latency: [i] counts [2^i, 2^(i+1)) µs, [0] also everything under 2 µs.
    public var log2Counts: [UInt32]
}

/// A request slower than the running p99 when it completed, with monotonic times for correlation.
public struct SlowRequest: Codable, Sendable {
    public var intendedNs: UInt64
    public var sentNs: UInt64
    public var endNs: UInt64
    public var connection: UInt32
    public var endpoint: Int
    public var status: Int
}

/// The DESIGN.md `archbench load --json` shape (snake_case keys), plus detail for the analysis.
public struct LoadResult: Codable, Sendable {
    public var url: String
    public var threads: Int
    public var connections: Int
    public var mode: String
    /// Completed requests (WebSocket: echoed messages).
    public var requests: UInt64
    public var sent: UInt64
    public var durationS: Double
    public var requestsPerS: Double
    /// Corrected for coordinated omission when `target_rate` is set.
    public var latencyUs: LatencySummary
    public var errors: ErrorCounts
    public var statusCounts: [String: UInt64]
    @NullEncoded public var targetRate: Double?
    @NullEncoded public var uncorrectedLatencyUs: LatencySummary?
    /// Sent per second over the sending period (open loop: compare with `target_rate`).
    public var achievedRate: Double
    public var sendLagUs: LatencySummary?
    public var lateSends: UInt64
    public var droppedSends: UInt64
    public var bytesRead: UInt64
    public var bytesWritten: UInt64
    public var connects: UInt64
    public var pingsAnswered: UInt64
    public var serverCloses: UInt64
    public var startNs: UInt64
    public var endNs: UInt64
    public var endpoints: [EndpointResult]
    public var windows: [LoadWindow]
    public var slowRequests: [SlowRequest]
    /// Slow requests not kept (beyond the cap) or windows lost: never hidden.
    public var slowRequestsDropped: UInt64
    public var windowsDropped: UInt64
    public var stoppedEarly: Bool
}

/// An optional that is written as `null` rather than left out, for keys DESIGN.md promises.
@propertyWrapper
public struct NullEncoded<Value: Codable & Sendable>: Codable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

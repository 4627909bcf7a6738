/// Latency percentiles in microseconds (0.1 µs resolution; the histograms keep 3 significant digits).
public struct LatencySummary: Codable, Sendable, Equatable {
    public var p50: Double
    public var p90: Double
    /// The seed's validation percentile (API response times are judged on it).
    public var p95: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double

    /// `p95` may be left out by a summary built by hand (a fixture); it is then taken as `p99`, the
    /// nearest figure known to bound it from above. The load generator always measures it.
    public init(p50: Double, p90: Double, p95: Double? = nil, p99: Double, p999: Double, max: Double, mean: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95 ?? p99
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }
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

    /// Each kind with its name, in the results file's order.
    public var byKind: [(kind: String, count: UInt64)] {
        [("connect", connect), ("read", read), ("write", write), ("timeout", timeout), ("status", status), ("parse", parse)]
    }

    public static func + (lhs: ErrorCounts, rhs: ErrorCounts) -> ErrorCounts {
        ErrorCounts(connect: lhs.connect + rhs.connect, read: lhs.read + rhs.read, write: lhs.write + rhs.write,
                    timeout: lhs.timeout + rhs.timeout, status: lhs.status + rhs.status, parse: lhs.parse + rhs.parse)
    }
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

    public init(method: String, path: String, weight: UInt32, sent: UInt64, requests: UInt64, requestsPerS: Double,
                latencyUs: LatencySummary, uncorrectedLatencyUs: LatencySummary? = nil, errors: ErrorCounts,
                statusCounts: [String: UInt64]) {
        self.method = method
        self.path = path
        self.weight = weight
        self.sent = sent
        self.requests = requests
        self.requestsPerS = requestsPerS
        self.latencyUs = latencyUs
        self.uncorrectedLatencyUs = uncorrectedLatencyUs
        self.errors = errors
        self.statusCounts = statusCounts
    }
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

    public init(startNs: UInt64, responses: UInt64, errors: UInt64, p50Us: Double, p90Us: Double, p99Us: Double,
                maxUs: Double, log2Counts: [UInt32]) {
        self.startNs = startNs
        self.responses = responses
        self.errors = errors
        self.p50Us = p50Us
        self.p90Us = p90Us
        self.p99Us = p99Us
        self.maxUs = maxUs
        self.log2Counts = log2Counts
    }
}

/// A request slower than the running p99 when it completed, with monotonic times for correlation.
public struct SlowRequest: Codable, Sendable {
    public var intendedNs: UInt64
    public var sentNs: UInt64
    public var endNs: UInt64
    public var connection: UInt32
    public var endpoint: Int
    public var status: Int

    public init(intendedNs: UInt64, sentNs: UInt64, endNs: UInt64, connection: UInt32, endpoint: Int, status: Int) {
        self.intendedNs = intendedNs
        self.sentNs = sentNs
        self.endNs = endNs
        self.connection = connection
        self.endpoint = endpoint
        self.status = status
    }
}

/// What the load generator recorded: the `archbench load --json` shape (docs/architecture.md;
/// snake_case keys), plus the detail the analysis needs (windows, slow requests).
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
    /// The whole run's (corrected) latency histogram, all endpoints: mergeable across runs.
    public var latencyHistogram: LatencyHistogramRecord?

    public init(url: String, threads: Int, connections: Int, mode: String, requests: UInt64, sent: UInt64,
                durationS: Double, requestsPerS: Double, latencyUs: LatencySummary, errors: ErrorCounts,
                statusCounts: [String: UInt64], targetRate: Double? = nil,
                uncorrectedLatencyUs: LatencySummary? = nil, achievedRate: Double, sendLagUs: LatencySummary? = nil,
                lateSends: UInt64, droppedSends: UInt64, bytesRead: UInt64, bytesWritten: UInt64, connects: UInt64,
                pingsAnswered: UInt64, serverCloses: UInt64, startNs: UInt64, endNs: UInt64,
                endpoints: [EndpointResult], windows: [LoadWindow], slowRequests: [SlowRequest],
                slowRequestsDropped: UInt64, windowsDropped: UInt64, stoppedEarly: Bool,
                latencyHistogram: LatencyHistogramRecord? = nil) {
        self.url = url
        self.threads = threads
        self.connections = connections
        self.mode = mode
        self.requests = requests
        self.sent = sent
        self.durationS = durationS
        self.requestsPerS = requestsPerS
        self.latencyUs = latencyUs
        self.errors = errors
        self.statusCounts = statusCounts
        self.targetRate = targetRate
        self.uncorrectedLatencyUs = uncorrectedLatencyUs
        self.achievedRate = achievedRate
        self.sendLagUs = sendLagUs
        self.lateSends = lateSends
        self.droppedSends = droppedSends
        self.bytesRead = bytesRead
        self.bytesWritten = bytesWritten
        self.connects = connects
        self.pingsAnswered = pingsAnswered
        self.serverCloses = serverCloses
        self.startNs = startNs
        self.endNs = endNs
        self.endpoints = endpoints
        self.windows = windows
        self.slowRequests = slowRequests
        self.slowRequestsDropped = slowRequestsDropped
        self.windowsDropped = windowsDropped
        self.stoppedEarly = stoppedEarly
        self.latencyHistogram = latencyHistogram
    }
}

/// An optional that is written as `null` rather than left out, for keys the JSON contract promises
/// (docs/architecture.md).
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

/// A load's latency histogram as the load generator kept it (log-linear buckets, bpf/log_linear.h,
/// three significant digits): only the non-empty buckets, as `[index, count]`. Histograms of the
/// same `bits` merge by adding counts, so percentiles over several rounds are exact to the bucket,
/// and can be recomputed from a results file alone.
public struct LatencyHistogramRecord: Codable, Sendable, Equatable {
    public var bits: UInt32
    public var sumNs: UInt64
    public var maxNs: UInt64
    public var buckets: [[UInt64]]

    public init(bits: UInt32, sumNs: UInt64, maxNs: UInt64, buckets: [[UInt64]]) {
        self.bits = bits
        self.sumNs = sumNs
        self.maxNs = maxNs
        self.buckets = buckets
    }

    public var count: UInt64 { buckets.reduce(0) { $0 + ($1.count > 1 ? $1[1] : 0) } }

    /// Several histograms of the same `bits` as one; nil for none or when their bits differ.
    public static func merging(_ histograms: [LatencyHistogramRecord]) -> LatencyHistogramRecord? {
        guard let first = histograms.first, histograms.allSatisfy({ $0.bits == first.bits }) else { return nil }
        var counts: [UInt64: UInt64] = [:]
        for histogram in histograms {
            for bucket in histogram.buckets where bucket.count > 1 { counts[bucket[0], default: 0] += bucket[1] }
        }
        return LatencyHistogramRecord(
            bits: first.bits, sumNs: histograms.reduce(0) { $0 &+ $1.sumNs }, maxNs: histograms.map(\.maxNs).max() ?? 0,
            buckets: counts.keys.sorted().map { [$0, counts[$0] ?? 0] })
    }
}

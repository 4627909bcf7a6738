import Load
import Recording

/// What every benchmark reads off a load run alike: which units of work succeeded, how many were
/// attempted, and the latency in the seed's milliseconds.
///
/// Every attempt ends either answered without error or as exactly one counted error (connect, read,
/// write, timeout, status, parse; docs/architecture.md#the-load-generator), so
/// `attempted = succeeded + errors`. An HTTP response with status ≥ 400 is both a response and a
/// `status` error: it is a failure. For WebSocket a `status` error is a refused upgrade, not a
/// message, so every echo counts as a success.
struct LoadOutcome {
    let result: LoadResult
    let websocket: Bool

    init(_ result: LoadResult, websocket: Bool = false) {
        self.result = result
        self.websocket = websocket
    }

    /// Units of work answered without error: responses below 400, or echoed messages.
    var succeeded: UInt64 {
        websocket ? result.requests : result.requests - Swift.min(result.errors.status, result.requests)
    }

    var failed: UInt64 { result.errors.total }

    var attempted: UInt64 { succeeded + failed }

    /// 0…1; 0 when nothing was attempted (nothing could be sent at all).
    var successRate: Double { attempted > 0 ? Double(succeeded) / Double(attempted) : 0 }

    /// Failed units of work, 0…1.
    var errorRate: Double { attempted > 0 ? Double(failed) / Double(attempted) : 0 }

    /// Successful units of work per second of the run (first connection to last answer).
    var throughput: Double { result.durationS > 0 ? Double(succeeded) / result.durationS : 0 }

    var latency: BenchmarkLatency { BenchmarkLatency(microseconds: result.latencyUs) }

    /// The figures every benchmark reports next to its own: how the load was shaped and what it counted.
    func metadata(unit: String, profile: WorkloadProfile) -> [String: MetadataValue] {
        var metadata: [String: MetadataValue] = [
            "unit": .text(unit),
            "profile": .text(profile.name),
            "mode": .text(result.mode),
            "connections": .number(Double(result.connections)),
            "threads": .number(Double(result.threads)),
            "duration_s": .number(result.durationS),
            "attempted": .number(Double(attempted)),
            "succeeded": .number(Double(succeeded)),
            "errors": .number(Double(failed)),
        ]
        if let rate = result.targetRate {
            metadata["target_rate"] = .number(rate)
            metadata["dropped_sends"] = .number(Double(result.droppedSends))
        }
        if result.stoppedEarly { metadata["stopped_early"] = .flag(true) }
        return metadata
    }
}

extension BenchmarkLatency {
    /// The load generator's summary (µs) in the seed's milliseconds.
    init(microseconds summary: LatencySummary) {
        self.init(mean: summary.mean / 1_000, p50: summary.p50 / 1_000, p95: summary.p95 / 1_000,
                  p99: summary.p99 / 1_000, max: summary.max / 1_000)
    }
}

/// Building the loads the benchmarks run.
enum BenchmarkLoad {
    /// A path under the base URL's own path (`http://host/app` + `/train` → `/app/train`).
    static func path(_ path: String, under base: LoadTarget) -> String {
        var prefix = String(base.path.prefix { $0 != "?" })
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return prefix + path
    }

    /// A closed-loop (or, with `rate`, open-loop) load on `target` with `connections` connections and
    /// at most the profile's threads.
    static func config(_ target: LoadTarget, connections: Int, profile: WorkloadProfile, duration: Double,
                       rate: Double? = nil, timeout: Double? = nil) -> LoadConfig {
        var config = LoadConfig(target: target)
        config.connections = Swift.max(1, connections)
        config.threads = Swift.max(1, Swift.min(profile.loadThreads, config.connections))
        config.duration = duration
        config.rate = rate
        config.timeout = timeout ?? profile.requestTimeout
        return config
    }

    /// The weighted REST mix of `api_response_times` and `concurrent_handling` (docs/suite.md has the
    /// weights; one look-up by id of each kind): reads of both catalogues and an order placed.
    static func restMix(under base: LoadTarget) -> [LoadEndpoint] {
        readMix(under: base) + [
            LoadEndpoint(method: "POST", path: path("/api/orders", under: base),
                         headers: ["Content-Type: application/json"],
                         body: #"{"user_id":1,"item_id":2,"quantity":1}"#, weight: 1),
        ]
    }

    /// The REST mix without the order: `memory_usage`'s, since every accepted order is kept by design
    /// (the order book grows with each), which would read as growth that is not a leak.
    static func readMix(under base: LoadTarget) -> [LoadEndpoint] {
        [
            LoadEndpoint(path: path("/api/users", under: base), weight: 4),
            LoadEndpoint(path: path("/api/items?limit=20", under: base), weight: 2),
            LoadEndpoint(path: path("/api/users/1", under: base), weight: 1),
            LoadEndpoint(path: path("/api/items/2", under: base), weight: 1),
        ]
    }
}

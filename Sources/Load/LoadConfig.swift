/// One request of the mix: a template sent as is, with its share of the traffic.
public struct LoadEndpoint: Sendable, Equatable, Codable {
    public var method: String
    public var path: String
    /// Extra header lines, "Name: value" each.
    public var headers: [String]
    public var body: String?
    public var weight: UInt32

    public init(method: String = "GET", path: String, headers: [String] = [], body: String? = nil, weight: UInt32 = 1) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.weight = weight
    }

    /// Parses "WEIGHT METHOD PATH [BODY]", e.g. `3 POST /api/orders {"item":1}`.
    public static func parse(_ text: String, headers: [String] = []) throws(LoadError) -> LoadEndpoint {
        let parts = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 3 else { throw .badEndpoint(text, "expected WEIGHT METHOD PATH [BODY]") }
        guard let weight = UInt32(parts[0]), weight > 0 else {
            throw .badEndpoint(text, "weight \(parts[0]) is not a positive integer")
        }
        guard parts[1].allSatisfy({ $0.isLetter && $0.isUppercase }) else {
            throw .badEndpoint(text, "method \(parts[1]) is not an HTTP method")
        }
        guard parts[2].hasPrefix("/") else { throw .badEndpoint(text, "path \(parts[2]) does not start with /") }
        return LoadEndpoint(method: parts[1], path: parts[2], headers: headers,
                            body: parts.count > 3 ? parts[3] : nil, weight: weight)
    }

    public var label: String { "\(method) \(path)" }
}

/// Everything one load run needs. Defaults are wrk's where wrk has one.
public struct LoadConfig: Sendable {
    public var target: LoadTarget
    public var threads = 2
    public var connections = 10
    public var duration = 10.0
    /// Requests (or messages) per second in total; nil runs closed loop.
    public var rate: Double?
    /// Stop after this many requests in total (the run also ends at `duration`).
    public var maxRequests: UInt64?
    public var timeout = 2.0
    public var pipelineDepth = 1
    /// Send `Connection: close` and reconnect after every response.
    public var closeEach = false
    /// The HTTP mix; empty means GET of the target's path.
    public var endpoints: [LoadEndpoint] = []
    public var websocket = false
    public var websocketText = false
    public var messageBytes = 64
    public var windowMilliseconds = 100.0
    public var slowCapacity = 100_000

    public init(target: LoadTarget) {
        self.target = target
        websocket = target.websocket
    }

    /// The mix as sent: the endpoints given, or one GET of the target's path.
    public var effectiveEndpoints: [LoadEndpoint] {
        endpoints.isEmpty ? [LoadEndpoint(path: target.path)] : endpoints
    }
}

import Load
import Recording

/// `websocket_latency`: the profile's `websocketConnections` WebSocket connections to the echo
/// endpoint, each message stamped with its sequence number and send time by the load generator, which
/// times every echo (an echo out of order is a `parse` error). Closed loop (each connection sends its
/// next message when the last is echoed) or, with the profile's `latencyRate`, open loop at that many
/// messages per second in total, the RTT then measured from each message's intended send time.
/// Throughput is messages echoed per second; latency is the round trip.
public struct WebSocketLatencyBenchmark: Benchmark {
    public let name = "websocket_latency"

    public init() {}

    public func run(_ context: BenchmarkContext) throws -> BenchmarkResult {
        let profile = context.profile
        var target = context.target.websocketURL
        target.websocket = true
        var config = BenchmarkLoad.config(target, connections: profile.websocketConnections, profile: profile,
                                          duration: context.duration, rate: profile.latencyRate)
        config.websocket = true
        config.messageBytes = profile.messageBytes
        let outcome = LoadOutcome(try LoadGenerator.run(config, progress: context.progress), websocket: true)
        var metadata = outcome.metadata(unit: "messages", profile: profile)
        metadata["message_bytes"] = .number(Double(config.messageBytes))
        metadata["messages"] = .number(Double(outcome.succeeded))
        metadata["server_closes"] = .number(Double(outcome.result.serverCloses))
        return BenchmarkResult(throughput: outcome.throughput, latencyStats: outcome.latency,
                               successRate: outcome.successRate, metadata: metadata, loads: [outcome.result])
    }
}

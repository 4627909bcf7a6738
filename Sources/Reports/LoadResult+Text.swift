import Foundation
import Recording

extension LoadResult {
    /// A wrk-like summary.
    public func text() -> String {
        var lines: [String] = []
        func row(_ label: String, _ text: String) {
            lines.append("  " + label.padding(toLength: 12, withPad: " ", startingAt: 0) + text)
        }
        lines.append("archbench load \(url): \(threads) threads, \(connections) connections, \(mode)"
            + (stoppedEarly ? " (stopped early)" : ""))
        row("requests", String(format: "%llu completed (%llu sent) in %.2f s: %.1f/s", requests, sent, durationS,
                               requestsPerS))
        row("latency", latencyUs.line)
        if let targetRate {
            row("uncorrected", (uncorrectedLatencyUs?.line ?? "-") + "  (from the actual send)")
            row("schedule", String(format: "target %.0f/s, achieved %.1f/s; ", targetRate, achievedRate)
                + "send lag p50 \(micros(sendLagUs?.p50 ?? 0)) p99 \(micros(sendLagUs?.p99 ?? 0)) "
                + "max \(micros(sendLagUs?.max ?? 0)); \(lateSends) late (>1 ms), \(droppedSends) dropped")
        }
        let statuses = statusCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        row("status", statuses.isEmpty ? "none" : statuses.joined(separator: ", "))
        row("errors", errors.line)
        row("transfer", "\(bytes(bytesRead)) read, \(bytes(bytesWritten)) written, \(connects) connections opened")
        if mode.hasPrefix("websocket") {
            row("websocket", "\(pingsAnswered) pings answered, \(serverCloses) closes by the server")
        }
        if endpoints.count > 1 {
            lines.append("  per endpoint:")
            for endpoint in endpoints {
                let name = "\(endpoint.method) \(endpoint.path)".padding(toLength: 28, withPad: " ", startingAt: 0)
                lines.append("    \(name) weight \(endpoint.weight)  \(endpoint.requests) done  "
                    + String(format: "%.1f/s  ", endpoint.requestsPerS)
                    + "\(endpoint.latencyUs.line)  errors \(endpoint.errors.total)")
            }
        }
        if slowRequestsDropped > 0 || windowsDropped > 0 {
            row("dropped", "\(slowRequestsDropped) slow-request records, \(windowsDropped) windows (memory caps)")
        }
        return lines.joined(separator: "\n")
    }

}

extension LatencySummary {
    var line: String {
        "p50 \(micros(p50))  p90 \(micros(p90))  p99 \(micros(p99))  p99.9 \(micros(p999))  max \(micros(max))  (mean \(micros(mean)))"
    }
}

extension ErrorCounts {
    var line: String {
        byKind.map { "\($0.kind) \($0.count)" }.joined(separator: ", ")
    }
}

/// A latency in µs, shown in the unit that keeps it short.
func micros(_ value: Double) -> String {
    if value >= 1_000_000 { return String(format: "%.2fs", value / 1_000_000) }
    if value >= 1000 { return String(format: "%.2fms", value / 1000) }
    return String(format: "%.1fµs", value)
}

func bytes(_ count: UInt64) -> String {
    let value = Double(count)
    let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
    if value >= gib { return String(format: "%.2f GiB", value / gib) }
    if value >= mib { return String(format: "%.2f MiB", value / mib) }
    if value >= kib { return String(format: "%.1f KiB", value / kib) }
    return "\(count) B"
}

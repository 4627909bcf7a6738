import CProbe
import Recording

/// bpf/memory.bpf.c: resident memory per process (min, max, last) with a timeline of its changes,
/// and user page faults.
final class MemoryProbe: FamilyProbe {
    static let family = ProbeFamily.memory
    private let session: ProbeSession
    private let points: ProcessEventRows<rss_event>
    var ringBuffer: String? { points.ringBuffer }
    /// The RSS timeline points delivered so far, by process: [CLOCK_MONOTONIC ns, bytes].
    var timelines: [Int32: [[UInt64]]] { points.rows }

    init(session: ProbeSession) {
        self.session = session
        points = ProcessEventRows("memory_events", session: session) { (Int32(bitPattern: $0.tgid), [$0.ts_ns, $0.rss_bytes]) }
    }

    func collect() throws(ProbeError) { try points.collect() }

    func drain() throws(ProbeError) { try points.drain() }

    /// Per process: its RSS summary (nil when its RSS never changed while probed) and page faults.
    func stats() throws(ProbeError) -> [Int32: (rss: RSSSummary?, pageFaults: UInt64)] {
        var stats: [Int32: (rss: RSSSummary?, pageFaults: UInt64)] = [:]
        for entry in try session.entries(of: "memory_stats", key: UInt32.self, value: memory_stats.self) {
            let value = entry.value
            stats[Int32(bitPattern: entry.key)] = (
                value.rss_last_ns == 0 ? nil
                    : RSSSummary(min: value.rss_min_bytes, max: value.rss_max_bytes, last: value.rss_last_bytes),
                value.page_faults)
        }
        return stats
    }
}

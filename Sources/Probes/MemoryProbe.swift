import CProbe
import Recording

/// bpf/memory.bpf.c: resident memory per process (min, max, last) with a timeline of its changes,
/// and user page faults.
final class MemoryProbe: FamilyProbe {
    static let family = ProbeFamily.memory
    private static let events = "memory_events"
    let ringBuffer: String? = events
    private let session: ProbeSession
    /// The RSS timeline points delivered so far, by process: [CLOCK_MONOTONIC ns, bytes].
    private(set) var timelines: [Int32: [[UInt64]]] = [:]

    init(session: ProbeSession) {
        self.session = session
    }

    func collect() throws(ProbeError) {
        try session.collect(Self.events, as: rss_event.self)
    }

    func drain() throws(ProbeError) {
        for event in try session.take(Self.events, as: rss_event.self) {
            timelines[Int32(bitPattern: event.tgid), default: []].append([event.ts_ns, event.rss_bytes])
        }
    }

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

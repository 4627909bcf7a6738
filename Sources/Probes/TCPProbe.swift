import ArchbenchCore
import CCommon
import CProbe
import Recording

/// bpf/tcp.bpf.c: retransmits, resets and drops on the targets' sockets, which it matches to their
/// owner itself (a target's connect or listen) or by the ports the targets listen on (`watch`); and
/// listen drops, which the kernel counts on the listener without an event (a SYN dropped at a full
/// accept queue is consumed, not freed as a drop): read from each listener at every scan.
final class TCPProbe: FamilyProbe {
    static let family = ProbeFamily.tcp
    /// Listen drops seen at one scan beyond this many become one count each but no event of their
    /// own (a SYN flood would otherwise fill memory with identical rows).
    static let listenDropEventsPerScan: UInt32 = 1000
    private let session: ProbeSession
    private let events: ProcessEventRows<tcp_event>
    var ringBuffer: String? { events.ringBuffer }
    /// Each listener's drop count when last read, by socket inode.
    private var listenerDrops: [UInt64: UInt32] = [:]
    private var scanned = false
    private var listenDrops: [Int32: UInt64] = [:]
    private var listenDropRows: [Int32: [[UInt64]]] = [:]
    private var listenDropRowsNotKept: UInt64 = 0

    /// The events delivered so far, by process, in time order: [CLOCK_MONOTONIC ns, kind (`TCPEventKind`)].
    /// A listen drop's time is the scan that saw it, up to a scan period late.
    var timelines: [Int32: [[UInt64]]] {
        events.rows.merging(listenDropRows) { kernel, scanned in (kernel + scanned).sorted { $0[0] < $1[0] } }
    }

    init(session: ProbeSession) {
        self.session = session
        events = ProcessEventRows("tcp_events", session: session) { (Int32(bitPattern: $0.tgid), [$0.ts_ns, UInt64($0.kind)]) }
    }

    func collect() throws(ProbeError) { try events.collect() }

    func drain() throws(ProbeError) { try events.drain() }

    /// Makes TCP events on the connections accepted on these listeners count for the pid holding
    /// each, and counts the listeners' new drops. A listener at the first scan may have dropped
    /// before the probes were attached, so its count then is the baseline; one opened later starts
    /// from zero. A listener shared by several targets (a pre-forked server) counts for the first.
    func watch(_ listeners: [(pid: Int32, socket: ListeningSocket)]) throws(ProbeError) {
        let nowNs = ab_monotonic_ns()
        var seen = Set<UInt64>()
        for (pid, socket) in listeners where seen.insert(socket.inode).inserted {
            try session.update(map: "tcp_ports", key: socket.port, value: UInt32(bitPattern: pid))
            guard let drops = socket.drops else { continue }
            let new = drops &- (listenerDrops[socket.inode] ?? (scanned ? 0 : drops))
            listenerDrops[socket.inode] = drops
            guard new > 0 else { continue }
            listenDrops[pid, default: 0] += UInt64(new)
            let rows = min(new, Self.listenDropEventsPerScan)
            listenDropRows[pid, default: []] += repeatElement([nowNs, TCPEventKind.listenOverflow.rawValue], count: Int(rows))
            listenDropRowsNotKept += UInt64(new - rows)
        }
        scanned = true
    }

    func lostEvents(in session: ProbeSession) throws(ProbeError) -> [String: UInt64] {
        var lost = try kernelLostEvents(in: session)
        if listenDropRowsNotKept > 0 { lost["tcp.listen_drop_events_not_kept"] = listenDropRowsNotKept }
        return lost
    }

    func trouble() throws(ProbeError) -> [Int32: TCPTrouble] {
        var trouble: [Int32: TCPTrouble] = [:]
        for entry in try session.entries(of: "tcp_stats", key: UInt32.self, value: tcp_stats.self) {
            let value = entry.value
            trouble[Int32(bitPattern: entry.key)] = TCPTrouble(
                retransmits: value.retransmits, resetsSent: value.resets_sent, resetsReceived: value.resets_received,
                listenOverflows: 0, drops: value.drops)
        }
        for (pid, drops) in listenDrops {
            let kernel = trouble[pid] ?? TCPTrouble(retransmits: 0, resetsSent: 0, resetsReceived: 0, listenOverflows: 0, drops: 0)
            trouble[pid] = TCPTrouble(retransmits: kernel.retransmits, resetsSent: kernel.resetsSent,
                                      resetsReceived: kernel.resetsReceived, listenOverflows: drops, drops: kernel.drops)
        }
        return trouble
    }
}

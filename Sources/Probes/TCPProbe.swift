import CProbe
import Recording

/// bpf/tcp.bpf.c: retransmits, resets, listen-queue overflows and drops on the targets' sockets,
/// which it matches by the ports the targets listen on (`watchPort`).
final class TCPProbe: FamilyProbe {
    static let family = ProbeFamily.tcp
    private let session: ProbeSession
    private let events: ProcessEventRows<tcp_event>
    var ringBuffer: String? { events.ringBuffer }
    /// The events delivered so far, by process: [CLOCK_MONOTONIC ns, kind (`TCPEventKind`)].
    var timelines: [Int32: [[UInt64]]] { events.rows }

    init(session: ProbeSession) {
        self.session = session
        events = ProcessEventRows("tcp_events", session: session) { (Int32(bitPattern: $0.tgid), [$0.ts_ns, UInt64($0.kind)]) }
    }

    func collect() throws(ProbeError) { try events.collect() }

    func drain() throws(ProbeError) { try events.drain() }

    /// Makes TCP events on sockets with this local or remote port count for `pid`.
    func watchPort(_ port: UInt16, of pid: Int32) throws(ProbeError) {
        try session.update(map: "tcp_ports", key: port, value: UInt32(bitPattern: pid))
    }

    func trouble() throws(ProbeError) -> [Int32: TCPTrouble] {
        var trouble: [Int32: TCPTrouble] = [:]
        for entry in try session.entries(of: "tcp_stats", key: UInt32.self, value: tcp_stats.self) {
            let value = entry.value
            trouble[Int32(bitPattern: entry.key)] = TCPTrouble(
                retransmits: value.retransmits, resetsSent: value.resets_sent, resetsReceived: value.resets_received,
                listenOverflows: value.listen_overflows, drops: value.drops)
        }
        return trouble
    }
}

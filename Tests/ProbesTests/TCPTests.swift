import ArchbenchCore
import Foundation
import Probes
import Recording
import TestSupport
import XCTest

/// TCP trouble on a target's sockets, caused in known numbers by ab-testhelper's `tcp-trouble` (the
/// target) against `tcp-resetter` (its peer, not probed): the target resets `count` connections it
/// accepted and is reset on `count` it opened, sends one SYN into its own full accept queue until it
/// is retransmitted, and bursts past a receive buffer it shrank, which the kernel drops. The peer's sockets see the mirror image of the resets, so a probe that gave a
/// socket to the process at the other end of the connection counts twice as many.
final class TCPTests: XCTestCase {
    /// The target and its peer causing `count` resets each way, under a probe attached to the target
    /// alone and ended while it lives (its listeners' drops are read once more at the end).
    private func probeTrouble(count: Int, ringBufferBytes: [String: UInt32] = [:])
        throws -> (report: ProbeRecording, target: Int32, output: String, span: ClosedRange<UInt64>, finished: UInt64) {
        let target = try RunningProcess(BuiltProducts.helper, ["tcp-trouble", "\(count)"])
        defer { _ = target.finish(timeout: 10) }
        let peer = try RunningProcess(BuiltProducts.helper, ["tcp-resetter", "\(count)"])
        defer { _ = peer.finish(timeout: 10) }
        let targetPort = try port(printedBy: target), peerPort = try port(printedBy: peer)
        var request = ProbeRequest(pids: [target.pid], duration: 60)
        request.ringBufferBytes = ringBufferBytes
        let live = try LiveProbe(request) { _ in }
        let start = MonotonicClock.nowNs
        target.write("\(peerPort)\n")
        peer.write("\(targetPort)\n")
        // The retransmit comes after the initial RTO (a second), the rest at once.
        XCTAssertTrue(target.waitForStdout(containing: "system_resets", timeout: 20), target.stderrSoFar)
        XCTAssertTrue(peer.waitForStdout(containing: "done", timeout: 20), peer.stderrSoFar)
        let end = MonotonicClock.nowNs
        let report = try live.finish()
        let finished = MonotonicClock.nowNs
        XCTAssertNil(report.processes.first { $0.pid == peer.pid }, "the peer is not a target")
        return (report, target.pid, target.stdoutSoFar, start...end, finished)
    }

    func testEachKindIsCountedExactlyAndOnlyForTheSocketsOwner() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let count = 5
        let (report, pid, output, span, finished) = try probeTrouble(count: count)
        XCTAssertEqual(report.lostEvents.filter { $0.key.hasPrefix("tcp") }, [:])

        let own = try figures(in: output)
        let retransmits = try XCTUnwrap(own["retransmits"]), systemRetransmits = try XCTUnwrap(own["system_retransmits"])
        let systemOverflows = try XCTUnwrap(own["system_overflows"]), systemResets = try XCTUnwrap(own["system_resets"])
        let synRetransmits = try XCTUnwrap(own["syn_retransmits"]), systemDrops = try XCTUnwrap(own["system_drops"])
        XCTAssertGreaterThanOrEqual(synRetransmits, 1, "the helper waits for its SYN's retransmit")
        XCTAssertGreaterThanOrEqual(systemDrops, 1, "the burst past the shrunk receive buffer is dropped")
        let process = try XCTUnwrap(report.processes.first { $0.pid == pid })
        let tcp = try XCTUnwrap(process.tcp, "no TCP counts for the target")
        XCTAssertEqual(tcp.resetsSent, UInt64(count), "\(tcp)")
        XCTAssertEqual(tcp.resetsReceived, UInt64(count), "\(tcp): the peer's resets received are its own")
        XCTAssertEqual(tcp.retransmits, retransmits, "\(tcp): the target's sockets' own tcpi_total_retrans, summed")
        // Each SYN (the first and every retransmit) found the queue full.
        XCTAssertEqual(tcp.listenOverflows, 1 + synRetransmits, "\(tcp)")
        XCTAssertEqual(tcp.drops, systemDrops, "\(tcp)")
        // The kernel's own counters over the same stretch hold ours and the peer's (whose only
        // trouble is the resets it sends), and whatever else the machine's sockets did meanwhile.
        XCTAssertGreaterThanOrEqual(systemRetransmits, retransmits)
        XCTAssertGreaterThanOrEqual(systemOverflows, tcp.listenOverflows)
        XCTAssertGreaterThanOrEqual(systemResets, tcp.resetsSent + UInt64(count))

        // Each one counted is also an event in time, inside the stretch that caused it: what the
        // root-cause analysis lines up with slow requests.
        let events = try XCTUnwrap(process.tcpEvents)
        for kind in TCPEventKind.allCases {
            let expected: UInt64 = switch kind {
            case .retransmit: tcp.retransmits
            case .resetSent: tcp.resetsSent
            case .resetReceived: tcp.resetsReceived
            case .listenOverflow: tcp.listenOverflows
            case .drop: tcp.drops
            }
            XCTAssertEqual(UInt64(events.filter { $0[1] == kind.rawValue }.count), expected, "\(kind): \(events)")
        }
        // A listen drop's time is the listener scan that saw it, the last one being at the end.
        let kernelEvents = events.filter { $0[1] != TCPEventKind.listenOverflow.rawValue }
        XCTAssertTrue(kernelEvents.allSatisfy { span.contains($0[0]) }, "\(events) not in \(span)")
        XCTAssertTrue(events.allSatisfy { $0[0] >= span.lowerBound && $0[0] <= finished }, "\(events) not by \(finished)")
        XCTAssertEqual(events.map { $0[0] }, events.map { $0[0] }.sorted(), "in time order")
    }

    /// A ring buffer of one page holds about 170 events; 600 resets come within tens of
    /// milliseconds, faster than the 100 ms between reads. The counters are exact all the same, and
    /// every event is either delivered or counted as lost.
    func testEventsTheRingBufferCannotHoldAreCountedAsLost() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let count = 300
        let (report, pid, output, _, _) = try probeTrouble(count: count, ringBufferBytes: ["tcp_events": 4096])
        let process = try XCTUnwrap(report.processes.first { $0.pid == pid })
        let tcp = try XCTUnwrap(process.tcp)
        XCTAssertEqual(tcp.resetsSent, UInt64(count), "\(tcp)")
        XCTAssertEqual(tcp.resetsReceived, UInt64(count), "\(tcp)")
        XCTAssertEqual(tcp.retransmits, try XCTUnwrap(try figures(in: output)["retransmits"]), "\(tcp)")
        let lost = try XCTUnwrap(report.lostEvents["tcp.ringbuf_full"], "\(report.lostEvents)")
        XCTAssertGreaterThan(lost, 0)
        let delivered = (process.tcpEvents ?? []).filter { $0[1] != TCPEventKind.listenOverflow.rawValue }.count
        XCTAssertEqual(UInt64(delivered) + lost, tcp.retransmits + tcp.resetsSent + tcp.resetsReceived + tcp.drops,
                       "every event the kernel side made is delivered or counted lost")
    }

    private func port(printedBy helper: RunningProcess) throws -> UInt16 {
        XCTAssertTrue(helper.waitForStdout(containing: "\n", timeout: 10), helper.stderrSoFar)
        let line = try XCTUnwrap(helper.stdoutSoFar.split(separator: "\n").first)
        return try XCTUnwrap(UInt16(line.dropFirst("port ".count)), String(line))
    }

    /// "tcp NAME VALUE NAME VALUE …" from the helper's output.
    private func figures(in output: String) throws -> [String: UInt64] {
        let line = try XCTUnwrap(output.split(separator: "\n").first { $0.hasPrefix("tcp ") }, output)
        let words = line.split(separator: " ").dropFirst().map(String.init)
        return Dictionary(uniqueKeysWithValues: stride(from: 0, to: words.count - 1, by: 2).compactMap { index in
            UInt64(words[index + 1]).map { (words[index], $0) }
        })
    }
}

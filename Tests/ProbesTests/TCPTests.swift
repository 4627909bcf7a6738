import ArchbenchCore
import Foundation
import Probes
import Recording
import TestSupport
import XCTest

/// TCP trouble on a target's sockets, caused in known numbers by ab-testhelper's `tcp-trouble` (the
/// target) against `tcp-resetter` (its peer, not probed): the target resets `count` connections it
/// accepted and is reset on `count` it opened, and sends one SYN into its own full accept queue until
/// it is retransmitted. The peer's sockets see the mirror image of the resets, so a probe that gave a
/// socket to the process at the other end of the connection counts twice as many.
final class TCPTests: XCTestCase {
    func testEachKindIsCountedExactlyAndOnlyForTheSocketsOwner() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let count = 5
        let target = try RunningProcess(BuiltProducts.helper, ["tcp-trouble", "\(count)"])
        defer { _ = target.finish(timeout: 10) }
        let peer = try RunningProcess(BuiltProducts.helper, ["tcp-resetter", "\(count)"])
        defer { _ = peer.finish(timeout: 10) }
        let targetPort = try port(printedBy: target), peerPort = try port(printedBy: peer)
        // Ended while the target lives: its listeners' drops are read once more at the end.
        let live = try LiveProbe(ProbeRequest(pids: [target.pid], duration: 60)) { _ in }
        let start = MonotonicClock.nowNs
        target.write("\(peerPort)\n")
        peer.write("\(targetPort)\n")
        // The retransmit comes after the initial RTO (a second), the rest at once.
        XCTAssertTrue(target.waitForStdout(containing: "system_resets", timeout: 20), target.stderrSoFar)
        XCTAssertTrue(peer.waitForStdout(containing: "done", timeout: 20), peer.stderrSoFar)
        let end = MonotonicClock.nowNs
        let report = try live.finish()
        let finished = MonotonicClock.nowNs
        target.closeStdin()
        XCTAssertEqual(report.lostEvents.filter { $0.key.hasPrefix("tcp.") }, [:])

        let own = try figures(in: target.stdoutSoFar)
        let retransmits = try XCTUnwrap(own["retransmits"]), systemRetransmits = try XCTUnwrap(own["system_retransmits"])
        let systemOverflows = try XCTUnwrap(own["system_overflows"]), systemResets = try XCTUnwrap(own["system_resets"])
        XCTAssertGreaterThanOrEqual(retransmits, 1, "the helper waits for its SYN's retransmit")
        let process = try XCTUnwrap(report.processes.first { $0.pid == target.pid })
        let tcp = try XCTUnwrap(process.tcp, "no TCP counts for the target")
        XCTAssertEqual(tcp.resetsSent, UInt64(count), "\(tcp)")
        XCTAssertEqual(tcp.resetsReceived, UInt64(count), "\(tcp): the peer's resets received are its own")
        XCTAssertEqual(tcp.retransmits, retransmits, "\(tcp): the socket's own tcpi_total_retrans")
        // Each SYN (the first and every retransmit) found the queue full.
        XCTAssertEqual(tcp.listenOverflows, 1 + retransmits, "\(tcp)")
        XCTAssertEqual(tcp.drops, 0, "\(tcp)")
        // The kernel's own counters over the same stretch: everything on this quiet machine is ours
        // and the peer's, whose only trouble is the resets it sends.
        XCTAssertEqual(systemRetransmits, retransmits)
        XCTAssertEqual(systemOverflows, tcp.listenOverflows)
        XCTAssertEqual(systemResets, tcp.resetsSent + UInt64(count))
        XCTAssertNil(report.processes.first { $0.pid == peer.pid }, "the peer is not a target")

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
        XCTAssertTrue(kernelEvents.allSatisfy { $0[0] >= start && $0[0] <= end }, "\(events) not in \(start)...\(end)")
        XCTAssertTrue(events.allSatisfy { $0[0] >= start && $0[0] <= finished }, "\(events) not in \(start)...\(finished)")
        XCTAssertEqual(events.map { $0[0] }, events.map { $0[0] }.sorted(), "in time order")
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

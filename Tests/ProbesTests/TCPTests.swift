import ArchbenchCore
import Foundation
import Load
import Probes
import Recording
import TestSupport
import XCTest

/// TCP trouble counted on a target's sockets, caused on purpose.
final class TCPTests: XCTestCase {
    func testResetsSentByTheServerAreCounted() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let server = try TestServer()
        defer { _ = server.stop() }
        let messages = MessageLog()
        let port = server.port
        let runner = RunnerThread {
            try ProbeRecorder.record(ProbeRequest(targets: [TargetSpec(.port(port), label: "server")], duration: 30)) {
                messages.add($0)
            }
        }
        XCTAssertTrue(messages.wait(containing: "probing pid"))
        // Each request's body is left unread by /reset: the server's close sends a reset.
        var config = LoadConfig(target: try LoadTarget.parse(server.url + "/reset"))
        config.threads = 1
        config.connections = 1
        config.maxRequests = 5
        config.endpoints = [LoadEndpoint(method: "POST", path: "/reset", body: String(repeating: "x", count: 8 << 20))]
        let loadStart = MonotonicClock.nowNs
        let load = try LoadGenerator.run(config)
        let loadEnd = MonotonicClock.nowNs
        XCTAssertEqual(load.errors.write + load.errors.read, 5)
        kill(server.process.pid, SIGTERM)
        let report = try runner.result()
        let tcp = try XCTUnwrap(report.processes.first { $0.pid == server.process.pid }?.tcp)
        XCTAssertGreaterThanOrEqual(tcp.resetsSent, 5, "\(tcp)")
        // The kernel may also answer the client's in-flight segments with more resets: a few per close.
        XCTAssertLessThanOrEqual(tcp.resetsSent, 25, "\(tcp)")
        // Each one counted is also an event in time, inside the load: what the root-cause analysis
        // lines up with slow requests.
        let events = try XCTUnwrap(report.processes.first { $0.pid == server.process.pid }?.tcpEvents)
        XCTAssertEqual(UInt64(events.filter { $0[1] == TCPEventKind.resetSent.rawValue }.count), tcp.resetsSent, "\(events)")
        XCTAssertEqual(UInt64(events.count), tcp.retransmits + tcp.resetsSent + tcp.resetsReceived + tcp.listenOverflows + tcp.drops)
        XCTAssertTrue(events.allSatisfy { $0[0] >= loadStart && $0[0] <= loadEnd }, "\(events) not in \(loadStart)...\(loadEnd)")
        XCTAssertEqual(events.map { $0[0] }, events.map { $0[0] }.sorted(), "in time order")
    }
}

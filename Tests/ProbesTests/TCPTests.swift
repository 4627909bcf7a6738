import Foundation
import Load
import Probes
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
        let load = try LoadGenerator.run(config)
        XCTAssertEqual(load.errors.write + load.errors.read, 5)
        kill(server.process.pid, SIGTERM)
        let report = try runner.result()
        let tcp = try XCTUnwrap(report.processes.first { $0.pid == server.process.pid }?.tcp)
        XCTAssertGreaterThanOrEqual(tcp.resetsSent, 5, "\(tcp)")
        // The kernel may also answer the client's in-flight segments with more resets: a few per close.
        XCTAssertLessThanOrEqual(tcp.resetsSent, 25, "\(tcp)")
    }
}

import Foundation
import TestSupport
import XCTest

/// The microservices gateway takes its services down with it, however it ends, and deals with a
/// service that dies as documented: 502 naming it, then a restart.
final class ShutdownTests: XCTestCase {
    private func startMicroservices() throws -> (ServerUnderTest, [Int32]) {
        let server = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0"])
        let children = server.liveDescendants().map(\.entry.pid)
        XCTAssertEqual(children.count, 4, "users, orders, training and ws")
        return (server, children)
    }

    private func assertNoneAlive(_ pids: [Int32], after what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(eventually(timeout: 10) { !pids.contains(where: isAlive) },
                      "still running after \(what): \(pids.filter(isAlive).map { "\($0) \(cmdline($0))" })",
                      file: file, line: line)
    }

    func testSIGTERMStopsEveryService() throws {
        let (server, children) = try startMicroservices()
        let result = server.stop(SIGTERM)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("SIGTERM: stopping the gateway and its services"), result.stderr)
        assertNoneAlive(children, after: "SIGTERM")
    }

    func testSIGINTStopsEveryService() throws {
        let (server, children) = try startMicroservices()
        let result = server.stop(SIGINT)
        XCTAssertEqual(result.status, 0, result.stderr)
        assertNoneAlive(children, after: "SIGINT")
    }

    func testSIGKILLOfTheGatewayTakesEveryServiceDown() throws {
        let (server, children) = try startMicroservices()
        let result = server.stop(SIGKILL)
        XCTAssertEqual(result.status, SIGKILL, "killed by the signal")
        assertNoneAlive(children, after: "SIGKILL of the gateway (PR_SET_PDEATHSIG)")
    }

    func testAServiceThatDiesIsAnswered502ThenRestarted() throws {
        let (server, _) = try startMicroservices()
        defer { server.stop() }
        let client = server.client()
        XCTAssertEqual(try client.get("/api/users/1").status, 200)
        let users = try XCTUnwrap(server.servicePid("users"))
        kill(users, SIGKILL)
        // The gateway reaps it (so it vanishes from /proc) and restarts it 0.5 s later.
        XCTAssertTrue(eventually(timeout: 5) { isReaped(users) }, "the gateway should reap the dead service")
        let down = try client.get("/api/users/1")
        XCTAssertEqual(down.status, 502, down.text)
        XCTAssertEqual(down.json?["service"] as? String, "users", down.text)
        XCTAssertTrue((down.json?["error"] as? String ?? "").contains("service users is unavailable"), down.text)
        // Orders depend on users: the orders service says which service failed.
        let order = try client.post("/api/orders", #"{"user_id": 1, "item_id": 1, "quantity": 1}"#)
        XCTAssertEqual(order.status, 502, order.text)
        XCTAssertEqual(order.json?["service"] as? String, "users", order.text)

        XCTAssertTrue(eventually(timeout: 15) { (try? client.get("/api/users/1").status) == 200 },
                      "the users service should be back: \(server.process.stderrSoFar)")
        let restarted = try XCTUnwrap(server.servicePid("users"))
        XCTAssertNotEqual(restarted, users)
        XCTAssertTrue(server.process.stderrSoFar.contains("service users (pid \(users)) was killed by SIGKILL"),
                      server.process.stderrSoFar)
        XCTAssertTrue(server.process.stderrSoFar.contains("service users restarted (pid \(restarted)"), server.process.stderrSoFar)
        XCTAssertEqual(try client.post("/api/orders", #"{"user_id": 1, "item_id": 1, "quantity": 1}"#).status, 201)
        XCTAssertEqual(server.liveDescendants().count, 4)
    }

    func testAServiceThatKeepsDyingMakesTheGatewayGiveUpWithExit3() throws {
        let (server, children) = try startMicroservices()
        defer { server.stop() }
        // Deaths 1 to 4 are restarted after 0.5, 1, 2 and 4 s; the fifth within a minute ends it all.
        var killed: [Int32] = []
        for death in 1...5 {
            var found: Int32?
            let restarted = eventually(timeout: 15) {
                found = server.servicePid("training").flatMap { killed.contains($0) ? nil : $0 }
                return found != nil
            }
            guard restarted, let training = found else {
                return XCTFail("no training service before death \(death): \(server.process.stderrSoFar)")
            }
            killed.append(training)
            kill(training, SIGKILL)
        }
        let result = server.process.finish(timeout: 20)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("service training crashed 5 times within 60 s; giving up"), result.stderr)
        assertNoneAlive(children + killed, after: "the gateway gave up")
    }

    func testTheMonolithStopsOnSIGTERMAndSIGINT() throws {
        for signal in [SIGTERM, SIGINT] {
            let server = try ServerUnderTest(["monolith", "--port", "0"])
            XCTAssertEqual(try server.client().get("/health").status, 200)
            let result = server.stop(signal)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("monolith stopping"), result.stderr)
        }
    }
}

/// Gone from /proc altogether: exited and reaped.
func isReaped(_ pid: Int32) -> Bool {
    !FileManager.default.fileExists(atPath: "/proc/\(pid)")
}

import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The gateway's upstream timeout (`--upstream-timeout-ms`): a service that does not answer makes the
/// gateway answer 504 naming it, once the timeout is up, instead of holding the client.
final class GatewayTimeoutTests: XCTestCase {
    /// Well below the client's own timeout and the default (60 s), well above a loaded machine's jitter.
    static let timeoutMs = 700

    /// Sends one request and returns the answer and how long it took, in seconds.
    private func timed(_ client: HTTPTestClient, _ method: String, _ path: String, body: String? = nil)
        throws -> (response: HTTPTestResponse, seconds: Double) {
        let start = now()
        let response = try client.request(method, path, body: body)
        return (response, now() - start)
    }

    private func assertTimedOut(_ answer: (response: HTTPTestResponse, seconds: Double), naming services: Set<String>,
                                _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let (response, seconds) = answer
        let limit = Double(Self.timeoutMs) / 1000
        XCTAssertEqual(response.status, 504, "\(what): \(response.text)", file: file, line: line)
        let service = response.json?["service"] as? String ?? ""
        XCTAssertTrue(services.contains(service), "\(what) should name \(services.sorted()): \(response.text)", file: file, line: line)
        let message = response.json?["error"] as? String ?? ""
        XCTAssertTrue(message.contains("service \(service) did not answer within \(Self.timeoutMs) ms"),
                      "\(what): \(response.text)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(seconds, limit - 0.05, "\(what) answered before the timeout", file: file, line: line)
        XCTAssertLessThan(seconds, limit + 2.5, "\(what) took \(seconds) s: the timeout did not apply", file: file, line: line)
    }

    func testAServiceThatNeverAnswersIsA504NamingItWithinTheTimeout() throws {
        // users answers /api/users* only after a minute: for this test, never.
        let server = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0",
                                          "--upstream-timeout-ms", "\(Self.timeoutMs)",
                                          "--slow-ms", "users:60000", "--slow-path", "/api/users"])
        defer { server.stop() }
        let client = server.client(timeout: 10)
        XCTAssertEqual(try client.get("/api/items/1").status, 200, "the set is up")

        assertTimedOut(try timed(client, "GET", "/api/users/1"), naming: ["users"], "GET /api/users/1")
        // The timed-out connection was dropped, not handed back to the pool: users' other paths answer.
        XCTAssertEqual(try client.get("/api/items/2").status, 200)
        // Orders waits on users: whichever of the two timeouts fires first is named, never a hang.
        assertTimedOut(try timed(client, "POST", "/api/orders", body: #"{"user_id": 1, "item_id": 1, "quantity": 1}"#),
                       naming: ["orders", "users"], "POST /api/orders")

        // A stopped process answers nothing at all, not even late; the kernel still accepts for it.
        let training = try XCTUnwrap(server.servicePid("training"))
        XCTAssertEqual(kill(training, SIGSTOP), 0)
        defer { kill(training, SIGCONT) }
        assertTimedOut(try timed(client, "POST", "/train", body: #"{"samples": 100, "features": 4, "epochs": 1}"#),
                       naming: ["training"], "POST /train to a stopped service")
        kill(training, SIGCONT)
        XCTAssertEqual(try client.post("/train", #"{"samples": 100, "features": 4, "epochs": 1}"#).status, 200,
                       "the service answers again once it runs")
    }
}

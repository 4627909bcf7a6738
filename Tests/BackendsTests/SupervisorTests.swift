import ArchbenchCore
@testable import Backends
import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The gateway's supervisor on the way out: SIGTERM is passed on to every service, and one that does
/// not stop is SIGKILLed once `Supervisor.stopGrace` has passed — not before, and not much after.
final class SupervisorTests: XCTestCase {
    func testAServiceThatIgnoresSIGTERMIsKilledAfterTheGracePeriod() throws {
        let server = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0"])
        let stubborn = try XCTUnwrap(server.servicePid("users"), server.process.stderrSoFar)
        let obedient = ["orders", "training", "ws"].compactMap(server.servicePid)
        XCTAssertEqual(obedient.count, 3, server.process.stderrSoFar)
        defer {
            // Whatever failed: no gateway, and no stopped service, left behind.
            if isAlive(stubborn) && cmdline(stubborn).contains("serve service users ") { kill(stubborn, SIGKILL) }
            server.stop(SIGKILL, timeout: 5)
        }

        // A stopped process does not act on SIGTERM: the services block it and take it with
        // sigtimedwait, so it stays pending, exactly as for a service that ignores it.
        kill(stubborn, SIGSTOP)
        XCTAssertTrue(eventually(timeout: 5) { ProcessTable.entry(pid: stubborn)?.state == "T" }, "users should be stopped")

        let grace = Double(Supervisor.stopGrace.components.seconds)
        let sent = now()
        kill(server.pid, SIGTERM)
        // Watched from outside on the monotonic clock: the gateway reaps each service as it goes, so a
        // service vanishing from /proc is the gateway having seen it end.
        var obedientGone: Double?
        var stubbornGone: Double?
        while stubbornGone == nil && now() - sent < grace + 5 {
            if obedientGone == nil && obedient.allSatisfy(isReaped) { obedientGone = now() - sent }
            if isReaped(stubborn) { stubbornGone = now() - sent }
            usleep(10_000)
        }
        let result = server.process.finish(timeout: 5)

        let gone = try XCTUnwrap(stubbornGone, "the stopped service was not killed within \(grace + 5) s of SIGTERM: "
                                 + "state \(ProcessTable.entry(pid: stubborn).map { String($0.state) } ?? "gone"); \(result.stderr)")
        XCTAssertGreaterThanOrEqual(gone, grace, "killed before the grace period was over")
        XCTAssertLessThanOrEqual(gone, grace + 5)
        let others = try XCTUnwrap(obedientGone, "the services that obey SIGTERM should be gone: \(result.stderr)")
        XCTAssertLessThan(others, grace, "the services that obey SIGTERM should not wait for the SIGKILL")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("SIGTERM: stopping the gateway and its services"), result.stderr)
    }
}

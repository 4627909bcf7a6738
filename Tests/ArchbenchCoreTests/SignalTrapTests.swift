#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import Foundation
import XCTest

/// Traps nest: the suite's trap around each load's own. SIGUSR1 stands in for SIGINT here, so the
/// test process is never at risk.
final class SignalTrapTests: XCTestCase {
    final class Hits: @unchecked Sendable {
        let lock = NSLock()
        var outer = 0, inner = 0
        let arrived = DispatchSemaphore(value: 0)
    }

    func testNestedTrapsAllRunAndTheOuterKeepsItsSignalAfterTheInnerEnds() {
        let hits = Hits()
        let outer = SignalTrap(signals: [SIGUSR1]) { _ in
            hits.lock.withLock { hits.outer += 1 }
            hits.arrived.signal()
        }
        defer { outer.cancel() }
        let inner = SignalTrap(signals: [SIGUSR1]) { _ in
            hits.lock.withLock { hits.inner += 1 }
            hits.arrived.signal()
        }
        kill(getpid(), SIGUSR1)
        XCTAssertEqual(hits.arrived.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(hits.arrived.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(hits.lock.withLock { (hits.outer, hits.inner) }.0, 1)
        XCTAssertEqual(hits.lock.withLock { hits.inner }, 1)

        inner.cancel()
        kill(getpid(), SIGUSR1)
        XCTAssertEqual(hits.arrived.wait(timeout: .now() + 5), .success, "the outer trap still receives the signal")
        XCTAssertEqual(hits.lock.withLock { hits.outer }, 2)
        XCTAssertEqual(hits.lock.withLock { hits.inner }, 1, "a cancelled trap's handler no longer runs")
    }
}

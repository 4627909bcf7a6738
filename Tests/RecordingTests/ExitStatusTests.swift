#if canImport(Glibc)
import Glibc
#endif
import Recording
import XCTest

final class ExitStatusTests: XCTestCase {
    func testWaitStatusDecoding() {
        XCTAssertEqual(ExitStatus(waitStatus: 3 << 8).code, 3)
        XCTAssertNil(ExitStatus(waitStatus: 3 << 8).signal)
        XCTAssertEqual(ExitStatus(waitStatus: 9).signal, 9)
        XCTAssertEqual(ExitStatus(waitStatus: 9).description, "killed by signal 9")
    }
}

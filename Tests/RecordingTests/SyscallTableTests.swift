import Recording
import XCTest

/// The one syscall table: the kernel's x86_64 numbers (linux-libc-dev's unistd_64.h) both ways.
final class SyscallTableTests: XCTestCase {
    func testNumbersAndNamesRoundTrip() {
        XCTAssertEqual(SyscallTable.name(of: 0), "read")
        XCTAssertEqual(SyscallTable.name(of: 202), "futex")
        XCTAssertEqual(SyscallTable.name(of: 230), "clock_nanosleep")
        XCTAssertEqual(SyscallTable.number(of: "getppid"), 110)
        XCTAssertEqual(SyscallTable.number(of: "epoll_wait"), 232)
        for number: Int32 in [0, 1, 39, 202, 231, 435] {
            XCTAssertEqual(SyscallTable.number(of: SyscallTable.name(of: number)), number)
        }
    }

    func testUnknownNumbersAndNamesAreNotInvented() {
        XCTAssertEqual(SyscallTable.name(of: 9999), "syscall_9999")
        XCTAssertEqual(SyscallTable.name(of: -1), "syscall_-1")
        XCTAssertNil(SyscallTable.number(of: "no_such_syscall"))
        XCTAssertNil(SyscallTable.number(of: ""))
    }
}

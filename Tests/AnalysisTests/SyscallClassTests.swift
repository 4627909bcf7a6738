import Analysis
import XCTest

/// The wait classes the pause detector uses, named once and numbered through the syscall table.
final class SyscallClassTests: XCTestCase {
    func testClassesResolveToTheKernelsNumbers() {
        XCTAssertEqual(SyscallClass.stopping.numbers, [202, 449, 34, 130, 65, 220])
        XCTAssertEqual(SyscallClass.idle.numbers,
                       [0, 19, 7, 23, 270, 271, 232, 281, 441, 43, 288, 45, 47, 299, 35, 230, 128, 426])
        XCTAssertEqual(SyscallClass.stopping.numbers.count, SyscallClass.stopping.names.count, "every name is in the table")
        XCTAssertEqual(SyscallClass.idle.numbers.count, SyscallClass.idle.names.count, "every name is in the table")
        XCTAssertTrue(SyscallClass.stopping.numbers.isDisjoint(with: SyscallClass.idle.numbers))
        XCTAssertEqual(PauseDetector().stoppingSyscalls, SyscallClass.stopping.numbers)
    }
}

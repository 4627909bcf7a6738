#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import XCTest

/// The one /proc/PID/maps parser.
final class MemoryMapTests: XCTestCase {
    func testMapsParseAndRegionLookup() {
        let map = MemoryMap(parsing: """
            55d0c0000000-55d0c0001000 r--p 00000000 fe:01 1234                       /usr/bin/thing
            55d0c0001000-55d0c0005000 r-xp 00001000 fe:01 1234                       /usr/bin/thing
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
            7ffd00030000-7ffd00031000 rw-p 00000000 00:00 0
            """)
        XCTAssertEqual(map.regions.count, 4)
        XCTAssertEqual(map.region(containing: 0x55d0c0001234)?.offset, 0x1000)
        XCTAssertEqual(map.region(containing: 0x55d0c0001234)?.inode, 1234)
        XCTAssertEqual(map.region(containing: 0x55d0c0001234)?.path, "/usr/bin/thing")
        XCTAssertNil(map.region(containing: 0x55d0c0005000))
        XCTAssertEqual(map.region(containing: 0x7ffd00030010)?.path, "")
    }

    func testThisProcessesMapHoldsItsOwnCode() throws {
        let map = try XCTUnwrap(ProcessTable.memoryMap(pid: getpid()))
        let here = UInt64(UInt(bitPattern: unsafeBitCast(getpid as @convention(c) () -> pid_t, to: UnsafeRawPointer.self)))
        let region = try XCTUnwrap(map.region(containing: here), "getpid's code is mapped")
        XCTAssertTrue(region.path.contains("libc"), region.path)
        XCTAssertNil(ProcessTable.memoryMap(pid: Int32.max), "no such process")
    }
}

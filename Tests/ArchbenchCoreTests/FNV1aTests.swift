import ArchbenchCore
import XCTest

/// FNV-1a 64 against the published test vectors (the empty string is the offset basis).
final class FNV1aTests: XCTestCase {
    func testPublishedVectors() {
        XCTAssertEqual(FNV1a.hash(""), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(FNV1a.hash("a"), 0xAF63_DC4C_8601_EC8C)
        XCTAssertEqual(FNV1a.hash("foobar"), 0x8594_4171_F739_67E8)
        XCTAssertEqual(FNV1a.digest(Array("a".utf8)), "fnv1a64:af63dc4c8601ec8c")
        XCTAssertEqual(FNV1a.digest([UInt8]()), "fnv1a64:cbf29ce484222325")
    }
}

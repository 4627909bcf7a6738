import CProbe
import XCTest

/// The structs bpf/NAME.h shares between the kernel side and Swift, as Swift imports them: each
/// size must be the one the header's `_Static_assert` fixes for C and the BPF objects.
final class SharedLayoutTests: XCTestCase {
    func testEveryFamilysStructsHaveTheHeadersSizes() {
        XCTAssertEqual(MemoryLayout<syscall_start>.size, 24)
        XCTAssertEqual(MemoryLayout<syscall_latency>.size, 32 + 4 * Int(AB_LATENCY_SLOTS))
        XCTAssertEqual(MemoryLayout<thread_sched>.size, 40)
        XCTAssertEqual(MemoryLayout<thread_state>.size, 56)
        XCTAssertEqual(MemoryLayout<offcpu_event>.size, 40)
        XCTAssertEqual(MemoryLayout<memory_stats>.size, 48)
        XCTAssertEqual(MemoryLayout<rss_event>.size, 24)
        XCTAssertEqual(MemoryLayout<tcp_stats>.size, 32)
        XCTAssertEqual(MemoryLayout<tcp_event>.size, 16)
        XCTAssertEqual(MemoryLayout<slow_syscall>.size, 24)
        XCTAssertEqual(MemoryLayout<gc_event>.size, 24)
        XCTAssertEqual(MemoryLayout<target_proc>.size, 40)
        XCTAssertEqual(MemoryLayout<syscall_key>.size, 8)
    }
}

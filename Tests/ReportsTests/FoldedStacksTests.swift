import Recording
@testable import Reports
import XCTest

/// Outstanding allocations as folded stacks (flamegraph.pl, speedscope).
final class FoldedStacksTests: XCTestCase {
    func record(_ stacks: [AllocationStack], notShown: Int = 0, total: UInt64) -> AllocationRecord {
        AllocationRecord(sampleEvery: 1, alwaysSampledBytes: 0, probes: "malloc", error: nil, stacks: stacks, stacksNotShown: notShown,
                         totals: AllocationStack(estimatedBytes: total, estimatedCount: 1, sampledBytes: total, sampledCount: 1, frames: []))
    }

    func stack(_ bytes: UInt64, _ frames: [String]) -> AllocationStack {
        AllocationStack(estimatedBytes: bytes, estimatedCount: 1, sampledBytes: bytes, sampledCount: 1, frames: frames)
    }

    func testAStackIsOneLineOutermostFirstWithItsOutstandingBytes() {
        let frames = ["malloc+0x1a (libc.so.6)", "Cache.add(_:)+0x20 (orders)", "main;odd\nname+0x5 (orders)",
                      "0x7f00dead (libx.so+0x1234)"]
        let text = FoldedStacks.text([(comm: "orders", allocations: record([stack(4096, frames)], total: 4096))])
        XCTAssertEqual(text, "orders;0x7f00dead (libx.so+0x1234);main:odd name (orders);Cache.add(_:) (orders);malloc (libc.so.6) 4096\n")
    }

    func testStacksBeyondThoseListedKeepTheProcessAsWideAsWhatItHolds() {
        let listed = record([stack(300, ["malloc+0x1 (libc.so.6)"]), stack(0, ["free+0x1 (libc.so.6)"]), stack(200, [])],
                            notShown: 7, total: 1_000)
        let text = FoldedStacks.text([(comm: "a;b", allocations: listed),
                                      (comm: "idle", allocations: record([], total: 0))])
        XCTAssertEqual(text.split(separator: "\n"), [
            "a:b;malloc (libc.so.6) 300",
            "a:b;[stack not captured] 200",
            "a:b;[7 more stacks] 500",
        ])
    }
}

import Analysis
import Recording
import XCTest

/// Where the runtime's own word and the scheduler's view meet.
final class PauseConfirmationTests: XCTestCase {
    let runtimePauses = [RuntimePause(pid: 10, tid: 11, startNs: 1_000, endNs: 3_000)]

    func detected(_ pid: Int32, _ start: UInt64, _ duration: UInt64) -> DetectedPause {
        DetectedPause(pid: pid, startNs: start, durationNs: duration, stoppedThreads: [1, 2])
    }

    func testTheRuntimesPausesAreConfirmedWithItsTimesAndCollector() {
        let merged = PauseConfirmation.merge([], with: runtimePauses)
        XCTAssertEqual(merged, [DetectedPause(pid: 10, startNs: 1_000, durationNs: 2_000, kind: .confirmed,
                                              stoppedThreads: [], runningThread: 11)])
    }

    func testInAProcessWithoutRuntimeProbesOnlyOverlappingDetectionsGo() {
        let overlapping = detected(10, 2_500, 1_000), apart = detected(10, 5_000, 500), other = detected(20, 1_500, 100)
        let merged = PauseConfirmation.merge([apart, overlapping, other], with: runtimePauses)
        XCTAssertEqual(merged.map(\.startNs), [1_000, 1_500, 5_000], "by start time")
        XCTAssertFalse(merged.contains(overlapping))
        XCTAssertTrue(merged.contains(apart))
        XCTAssertTrue(merged.contains(other), "another process's pause stays")
    }

    func testInAProcessWithRuntimeProbesTheRuntimeAloneSpeaks() {
        let apart = detected(10, 5_000, 500), other = detected(20, 5_000, 500)
        let merged = PauseConfirmation.merge([apart, other], with: runtimePauses, runtimeProbed: [10])
        XCTAssertEqual(merged.filter { $0.pid == 10 }.map(\.kind), [.confirmed])
        XCTAssertTrue(merged.contains(other))
    }
}

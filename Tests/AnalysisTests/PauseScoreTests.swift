import Analysis
import XCTest

/// The scoring rule on pauses whose matches, figures and medians are worked out by hand.
final class PauseScoreTests: XCTestCase {
    func detected(_ from: Double, _ to: Double, pid: Int32 = 100) -> DetectedPause {
        DetectedPause(pid: pid, startNs: at(from), durationNs: at(to) - at(from), stoppedThreads: [1, 2])
    }

    func known(_ from: Double, _ to: Double, pid: Int32? = 100) -> KnownPause {
        KnownPause(pid: pid, startNs: at(from), endNs: at(to))
    }

    func testRecallPrecisionAndMedianErrorsWithKnownAnswers() {
        let score = PauseScore(
            detected: [detected(10.5, 20.2), detected(49, 60), detected(150, 160), detected(200.9, 202)],
            known: [known(10, 20), known(50, 60), known(100, 110), known(200, 202)])
        // 10–20 ↔ 10.5–20.2 (duration error 0.3 ms), 50–60 ↔ 49–60 (1.0), 200–202 ↔ 200.9–202 (0.9:
        // the overlap 1.1 ms is at least half the shorter, 1.1 ms); 100–110 is missed, 150–160 false.
        XCTAssertEqual(score.matches.map(\.known), [0, 1, 3])
        XCTAssertEqual(score.matches.map(\.detected), [0, 1, 3])
        XCTAssertEqual(score.recall, 0.75)
        XCTAssertEqual(score.precision, 0.75)
        XCTAssertEqual(score.medianDurationErrorNs, nanoseconds(0.9))
        // Start errors 0.5, 1.0, 0.9 ms.
        XCTAssertEqual(score.medianStartErrorNs, nanoseconds(0.9))
    }

    func testAnEvenNumberOfMatchesTakesTheMeanOfTheMiddleTwo() {
        let score = PauseScore(detected: [detected(0, 11), detected(20, 22)], known: [known(0, 10), known(20, 24)])
        XCTAssertEqual(score.medianDurationErrorNs, nanoseconds(1.5))
    }

    func testAGrazingOverlapIsNoMatchAndEachPauseMatchesOnce() {
        // 9–20 covers 1 ms of the 10 ms pause 0–10: less than half the shorter.
        XCTAssertEqual(PauseScore(detected: [detected(9, 20)], known: [known(0, 10)]).matches, [])
        // Two detections inside one known pause: the larger overlap wins, the other is a false one.
        let split = PauseScore(detected: [detected(5, 10), detected(0, 6)], known: [known(0, 10)])
        XCTAssertEqual(split.matches, [PauseScore.Match(known: 0, detected: 1, overlapNs: nanoseconds(6))])
        XCTAssertEqual(split.recall, 1)
        XCTAssertEqual(split.precision, 0.5)
    }

    func testTheProcessMustAgreeUnlessTheKnownPauseNamesNone() {
        XCTAssertEqual(PauseScore(detected: [detected(0, 10, pid: 200)], known: [known(0, 10)]).recall, 0)
        XCTAssertEqual(PauseScore(detected: [detected(0, 10, pid: 200)], known: [known(0, 10, pid: nil)]).recall, 1)
    }

    func testEmptyListsScoreOneAndHaveNoMedian() {
        let score = PauseScore(detected: [], known: [])
        XCTAssertEqual(score.recall, 1)
        XCTAssertEqual(score.precision, 1)
        XCTAssertNil(score.medianDurationErrorNs)
        XCTAssertEqual(PauseScore(detected: [], known: [known(0, 10)]).recall, 0)
        XCTAssertEqual(PauseScore(detected: [detected(0, 10)], known: []).precision, 0)
    }

    func testTheInjectorsScheduleParses() throws {
        let schedule = try PauseSchedule(parsing: """
            pid 41 collector 45 workers 42 43 44
            pause 1000 3000 1500
            pause 5000 7500
            done pauses 2 skipped 1

            """)
        XCTAssertEqual(schedule.pid, 41)
        XCTAssertEqual(schedule.collector, 45)
        XCTAssertEqual(schedule.workers, [42, 43, 44])
        XCTAssertEqual(schedule.pauses, [KnownPause(pid: 41, startNs: 1000, endNs: 3000),
                                         KnownPause(pid: 41, startNs: 5000, endNs: 7500)])
        XCTAssertEqual(schedule.collectorCpuNs, [1500, nil])
        XCTAssertEqual(schedule.doneCount, 2)
        XCTAssertEqual(schedule.skipped, 1)
        XCTAssertNil(try PauseSchedule(parsing: "pid 1 collector 2 workers 3\ndone pauses 0\n").skipped)
        XCTAssertThrowsError(try PauseSchedule(parsing: "pause 1 2\n")) {
            XCTAssertEqual($0 as? PauseScheduleError, .noThreadLine)
        }
        XCTAssertThrowsError(try PauseSchedule(parsing: "pid 1 collector 2 workers 3\npause 9 x\n")) {
            XCTAssertEqual($0 as? PauseScheduleError, .badLine("pause 9 x"))
        }
    }
}

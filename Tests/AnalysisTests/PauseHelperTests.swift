import Analysis
import Foundation
import TestSupport
import XCTest

/// ab-pausehelper's own truth must be sane before anything is scored against it: as many pauses as
/// its arguments ask for, each as long as asked, its threads named.
final class PauseHelperTests: XCTestCase {
    static var helper: String { BuiltProducts.directory.appending(path: "ab-pausehelper").path }

    func testTheScheduleMatchesTheArguments() throws {
        let (threads, everyMs, pauseMs, durationMs) = (3, 50, 10, 2_000)
        let process = try RunningProcess(Self.helper, [
            "--threads", "\(threads)", "--every-ms", "\(everyMs)", "--pause-ms", "\(pauseMs)",
            "--duration-ms", "\(durationMs)",
        ])
        let result = process.finish(timeout: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        let schedule = try PauseSchedule(parsing: result.stdout)

        XCTAssertEqual(schedule.pid, process.pid)
        XCTAssertEqual(Set(schedule.workers).count, threads)
        XCTAssertFalse(schedule.workers.contains(schedule.collector))
        XCTAssertFalse(schedule.workers.contains(schedule.pid), "workers are threads of their own")

        // Pauses are due at P, 2P, … ms and each ends by D; a start already past when the previous
        // pause ends (the collector starved for P − M) is skipped, and counted.
        let due = (durationMs - pauseMs) / everyMs
        let skipped = try XCTUnwrap(schedule.skipped)
        XCTAssertEqual(schedule.pauses.count + skipped, due)
        XCTAssertEqual(schedule.doneCount, schedule.pauses.count)
        XCTAssertLessThanOrEqual(skipped, due / 10)

        // Each lasts M within 2 ms, apart from the time the collector was kept off the CPU as M ran
        // out: on a shared machine many pauses run over by more than 2 ms that way (docs/accuracy.md),
        // so each is checked with that time taken out (never less than M, and the collector worked
        // no more than M + 2 ms: its CPU clock, the task clock, may run a little apart from
        // CLOCK_MONOTONIC), and the median as it is.
        let pauseNs = UInt64(pauseMs) * 1_000_000, slackNs: UInt64 = 2_000_000
        for (pause, cpu) in zip(schedule.pauses, schedule.collectorCpuNs) {
            let cpu = try XCTUnwrap(cpu)
            XCTAssertGreaterThanOrEqual(pause.durationNs, pauseNs)
            XCTAssertLessThanOrEqual(cpu, pauseNs + slackNs, "the collector worked past M")
        }
        let durations = schedule.pauses.map(\.durationNs).sorted()
        XCTAssertLessThanOrEqual(durations[durations.count / 2], pauseNs + slackNs, "durations: \(durations)")

        // In order, apart, and P apart in the median.
        let starts = schedule.pauses.map(\.startNs)
        for (pause, next) in zip(schedule.pauses, schedule.pauses.dropFirst()) {
            XCTAssertLessThan(pause.endNs, next.startNs)
        }
        let gaps = zip(starts, starts.dropFirst()).map { $1 - $0 }.sorted()
        let everyNs = UInt64(everyMs) * 1_000_000
        XCTAssertLessThanOrEqual(absolute(gaps[gaps.count / 2], everyNs), slackNs, "gaps: \(gaps)")
    }

    func testOutWritesTheScheduleToAFile() throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "ab-pausehelper-\(getpid()).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runToCompletion(Self.helper, [
            "--threads", "2", "--every-ms", "50", "--pause-ms", "5", "--duration-ms", "300", "--out", path,
        ], timeout: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "")
        let schedule = try PauseSchedule(parsing: String(contentsOfFile: path, encoding: .utf8))
        XCTAssertEqual(schedule.workers.count, 2)
        XCTAssertEqual(schedule.pauses.count + (schedule.skipped ?? -1), 5)
        XCTAssertEqual(schedule.doneCount, schedule.pauses.count)
    }

    func testBadArgumentsExitTwoNamingTheProblem() throws {
        let missing = try runToCompletion(Self.helper, ["--threads", "2"], timeout: 10)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("usage:"), missing.stderr)
        let notANumber = try runToCompletion(Self.helper, [
            "--threads", "two", "--every-ms", "50", "--pause-ms", "5", "--duration-ms", "100",
        ], timeout: 10)
        XCTAssertEqual(notANumber.status, 2)
        XCTAssertTrue(notANumber.stderr.contains("--threads"), notANumber.stderr)
        let tooLong = try runToCompletion(Self.helper, [
            "--threads", "2", "--every-ms", "50", "--pause-ms", "50", "--duration-ms", "100",
        ], timeout: 10)
        XCTAssertEqual(tooLong.status, 2)
        XCTAssertTrue(tooLong.stderr.contains("--pause-ms"), tooLong.stderr)
    }

    func absolute(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }
}

import Analysis
import Foundation
import Probes
import TestSupport
import XCTest

/// The pause detector fed by the real kernel probes, scored against ab-pausehelper's own schedule.
final class PauseDetectionTests: XCTestCase {
    func testInjectedPausesAreFoundWithRecallAndPrecision() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let output = FileManager.default.temporaryDirectory.appending(path: "ab-pauses-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let helper = BuiltProducts.directory.appending(path: "ab-pausehelper").path
        let report = ProbeAnalysis.report(of: try ProbeRecorder.record(ProbeRequest(command: [
            helper, "--threads", "4", "--every-ms", "100", "--pause-ms", "10", "--duration-ms", "3000", "--out", output,
        ])) { _ in })
        XCTAssertEqual(report.command?.exit?.code, 0)
        let schedule = try PauseSchedule(parsing: String(contentsOfFile: output, encoding: .utf8))
        XCTAssertGreaterThanOrEqual(schedule.pauses.count, 20)
        XCTAssertTrue(report.lostEvents.isEmpty, "\(report.lostEvents)")
        let score = PauseScore(detected: report.pauses, known: schedule.pauses)
        print("pause score: \(score.knownCount) injected, \(score.detectedCount) detected, recall \(score.recall),"
              + " precision \(score.precision), median duration error \(score.medianDurationErrorNs ?? 0) ns")
        XCTAssertGreaterThanOrEqual(score.recall, 0.9, "found \(score.detectedCount) of \(score.knownCount)")
        XCTAssertGreaterThanOrEqual(score.precision, 0.9)
        XCTAssertLessThanOrEqual(try XCTUnwrap(score.medianDurationErrorNs), 1_000_000)
        let collectorRan = report.pauses.filter { $0.runningThread == schedule.collector }.count
        XCTAssertGreaterThan(collectorRan, report.pauses.count / 2, "the collector is the thread that ran")
    }
}

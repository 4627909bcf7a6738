@testable import Analysis
import XCTest

/// Regression detection against a history: the robust z-score, the severity rule (unusual *and*
/// past the thresholds table), the recent baseline starting at the last change point, and trends.
final class RegressionDetectorTests: XCTestCase {
    let latency = SeriesKey(architecture: "microservices", benchmark: "api_response_times", metric: "latency_p95_ms", endpoint: "GET /api/users")
    let throughput = SeriesKey(architecture: "microservices", benchmark: "concurrent_handling", metric: "throughput")

    func points(_ values: [Double]) -> [SeriesPoint] {
        values.enumerated().map { SeriesPoint(run: Int64($0.offset + 1), value: $0.element) }
    }

    func analyse(_ key: SeriesKey, history: [Double], current: Double, detector: RegressionDetector = RegressionDetector()) -> RegressionAnalysis {
        detector.analyse(history: [key: points(history)], current: [key: current], run: Int64(history.count + 1), earlierRuns: history.count)
    }

    func testTheRobustZScoreIsTheDistanceFromTheMedianInScaledMADs() throws {
        let detector = RegressionDetector()
        // median 10, |deviations| 0 0 1 1 2 → MAD 1 → spread 1.4826.
        let (median, spread, z) = try XCTUnwrap(detector.robustZ(16, baseline: [10, 9, 11, 12, 8]))
        XCTAssertEqual(median, 10)
        XCTAssertEqual(spread, 1.4826, accuracy: 1e-12)
        XCTAssertEqual(z, 6 / 1.4826, accuracy: 1e-12)
        // An outlier in the baseline moves neither the median nor the MAD much.
        XCTAssertEqual(try XCTUnwrap(detector.robustZ(16, baseline: [10, 9, 11, 12, 800])).median, 11)
        // Identical runs: the spread is floored at 1% of the median, not zero.
        let flat = try XCTUnwrap(detector.robustZ(10.5, baseline: [10, 10, 10]))
        XCTAssertEqual(flat.spread, 0.1, accuracy: 1e-12)
        XCTAssertEqual(flat.z, 5, accuracy: 1e-9)
        XCTAssertNil(detector.robustZ(1, baseline: []))
        XCTAssertNil(detector.robustZ(1, baseline: [0, 0]))
    }

    func testSeverityNeedsAnUnusualValueAndAChangePastTheThresholds() throws {
        let history = [1.00, 1.02, 0.98, 1.01, 0.99]
        // +40%: far outside the runs' spread and past critical (+25%).
        let critical = try XCTUnwrap(analyse(latency, history: history, current: 1.40).findings.first)
        XCTAssertEqual(critical.severity, .critical)
        XCTAssertEqual(critical.kind, .shift)
        XCTAssertEqual(critical.endpoint, "GET /api/users")
        XCTAssertEqual(critical.reference, 1.00)
        XCTAssertEqual(critical.changePct, 40, accuracy: 1e-9)
        XCTAssertEqual(critical.runs, 5)
        // +15%: a warning (+10%) short of critical.
        XCTAssertEqual(analyse(latency, history: history, current: 1.15).findings.first?.severity, .warning)
        // +8%: unusual (z > 3) but under the warning threshold: nothing.
        XCTAssertEqual(analyse(latency, history: history, current: 1.08).findings, [])
        // Better by 40%: not a regression.
        XCTAssertEqual(analyse(latency, history: history, current: 0.60).findings, [])
        // +30% in a series that swings ±30% from run to run: not unusual, nothing.
        XCTAssertEqual(analyse(latency, history: [1.0, 1.3, 0.7, 1.25, 0.75], current: 1.3).findings, [])
        // Throughput regresses by falling.
        XCTAssertEqual(analyse(throughput, history: [1000, 1010, 990, 1005, 995], current: 800).findings.first?.severity, .critical)
        XCTAssertEqual(analyse(throughput, history: [1000, 1010, 990, 1005, 995], current: 1300).findings, [])
    }

    func testTooShortAHistoryJudgesNoShiftAndSaysSo() {
        let two = analyse(latency, history: [1.0, 1.0], current: 5.0)
        XCTAssertEqual(two.findings, [])
        XCTAssertTrue(two.notes.first?.contains("fewer than 3 earlier runs") == true, "\(two.notes)")
        XCTAssertEqual(analyse(latency, history: [1.0, 1.0, 1.0], current: 5.0).findings.count, 1)
        XCTAssertEqual(analyse(latency, history: [], current: 5.0).notes, [], "the first run needs no note")
    }

    func testTheRecentBaselineStartsAtTheLastChangePoint() throws {
        // Fifteen runs near 1.0, then three near 2.0 (a change point at run 16), now 2.05: against
        // the runs since the change, +2.5% is no regression; against the last ten runs it would be.
        let history = (0..<15).map { 1.0 + 0.01 * Double($0 % 3) } + [2.0, 2.02, 1.99]
        let analysis = analyse(latency, history: history, current: 2.05)
        XCTAssertEqual(analysis.changePoints.map(\.run), [16], "\(analysis.changePoints)")
        XCTAssertEqual(analysis.findings, [])
        var unsegmented = RegressionDetector()
        unsegmented.changePointOptions = ChangePointOptions(windowLength: 50, maxPValue: 1e-300, minMagnitude: 0)
        let blind = analyse(latency, history: history, current: 2.05, detector: unsegmented)
        XCTAssertEqual(blind.changePoints, [])
        XCTAssertEqual(blind.findings.first?.severity, .critical, "\(blind.findings)")
    }

    func testASustainedTrendOverTheLastRunsIsAWarning() throws {
        // Each run 4% slower than the last: no single step is unusual, five in a row are.
        let history = [1.00, 1.04, 1.08, 1.12]
        let analysis = analyse(latency, history: history, current: 1.16)
        let trend = try XCTUnwrap(analysis.trends.first)
        XCTAssertEqual(trend.direction, "worsening")
        XCTAssertEqual(trend.runs, 5)
        XCTAssertEqual(trend.slopePctPerRun, 0.04 / 1.08 * 100, accuracy: 1e-9)
        let finding = try XCTUnwrap(analysis.findings.first { $0.kind == .trend })
        XCTAssertEqual(finding.severity, .warning)
        XCTAssertLessThanOrEqual(try XCTUnwrap(finding.pValue), 0.05)
        // Falling latency is an improving trend, and no finding.
        let better = analyse(latency, history: [1.16, 1.12, 1.08, 1.04], current: 1.0)
        XCTAssertEqual(better.trends.first?.direction, "improving")
        XCTAssertEqual(better.findings, [])
        // Four runs are too few to call a trend.
        XCTAssertEqual(analyse(latency, history: [1.00, 1.04, 1.08], current: 1.12).trends, [])
    }

    func testAStepIsFoundAtTheRunItBegan() {
        let history = [10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 10.1, 9.9, 10.0, 10.1]
        let analysis = analyse(latency, history: history + [20.0, 20.1, 19.9], current: 20.0)
        XCTAssertEqual(analysis.changePoints.map(\.run), [11])
    }
}

/// The z a shift needs: Student's t prediction bound for one new value, by the number of runs.
final class CriticalZTests: XCTestCase {
    func testAShortHistoryNeedsAFarLargerZ() {
        let detector = RegressionDetector()
        // t(0.999, n − 1) · √(1 + 1/n): scipy.stats.t.ppf(0.999, [2, 4, 9]) = 22.327, 7.173, 4.297.
        XCTAssertEqual(detector.criticalZ(runs: 3), 22.327 * (4.0 / 3).squareRoot(), accuracy: 0.01)
        XCTAssertEqual(detector.criticalZ(runs: 5), 7.173 * 1.2.squareRoot(), accuracy: 0.01)
        XCTAssertEqual(detector.criticalZ(runs: 10), 4.297 * 1.1.squareRoot(), accuracy: 0.01)
        XCTAssertEqual(detector.criticalZ(runs: 1000), 3.1, accuracy: 0.01)
        XCTAssertEqual(detector.criticalZ(runs: 1), .infinity)
        // The same +15% against a tight three-run history is no finding, against five it warns.
        let key = SeriesKey(architecture: "a", benchmark: "b", metric: "latency_p95_ms")
        func findings(_ history: [Double]) -> [RegressionFinding] {
            detector.analyse(history: [key: history.enumerated().map { SeriesPoint(run: Int64($0.offset + 1), value: $0.element) }],
                             current: [key: 1.15], run: 99, earlierRuns: history.count).findings
        }
        XCTAssertEqual(findings([1.0, 1.01, 0.99]), [])
        XCTAssertEqual(findings([1.0, 1.01, 0.99, 1.0, 1.005]).map(\.severity), [.warning])
    }
}

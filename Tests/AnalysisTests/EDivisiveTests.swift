@testable import Analysis
import XCTest

/// E-divisive change points against Apache Otava's own output (ChangePointVectors.swift, written by
/// scripts/gen-otava-vectors.py), and against small cases worked by hand. Indices must be exactly
/// Otava's; p-values agree to a relative 1e-9 and the segments' statistics to 1e-12 (on the Linux
/// the vectors were made on they are bit-identical, the integer-ties vector depending on it).
final class EDivisiveTests: XCTestCase {
    // MARK: Otava's vectors

    func testChangePointsMatchOtava() {
        for v in ChangePointVectors.otava {
            let options = ChangePointOptions(windowLength: v.windowLength, maxPValue: v.maxPValue, minMagnitude: v.minMagnitude)
            let points = Statistics.changePoints(v.series, options: options)
            XCTAssertEqual(points.map(\.index), v.indices, v.name)
            guard points.map(\.index) == v.indices else { continue }
            for (i, point) in points.enumerated() {
                let label = "\(v.name), change point \(point.index)"
                assertClose(point.pValue, v.pValues[i], relative: 1e-9, label + " p")
                assertClose(point.meanBefore, v.meansBefore[i], label + " mean before")
                assertClose(point.meanAfter, v.meansAfter[i], label + " mean after")
                assertClose(point.standardDeviationBefore, v.standardDeviationsBefore[i], label + " sd before")
                assertClose(point.standardDeviationAfter, v.standardDeviationsAfter[i], label + " sd after")
                assertClose(point.forwardChangePercent, v.forwardChangePercents[i], label + " forward %")
                assertClose(point.magnitude, v.magnitudes[i], label + " magnitude")
            }
        }
    }

    func testStudentTCDFMatchesScipyStdtr() {
        for v in ChangePointVectors.studentTCDF {
            assertClose(Statistics.studentTCDFAsScipy(v.t, degreesOfFreedom: v.df), v.cdf, relative: 1e-12, "stdtr(\(v.df), \(v.t))")
        }
    }

    /// With n = 1 + 3, t² = 9/8 and ν = 2, p = 1 − |t|/√(2 + t²) = 0.4 exactly; scipy rounds it to
    /// 0.4 itself, so Otava's first pass at max_pvalue 0.2 (0.4) keeps such a split.
    func testPValueAtAnExactThresholdIsScipys() {
        let point = Statistics.segmentTest([9.0][...], [11.0, 10, 9][...], index: 1)
        XCTAssertEqual(point.pValue, 0.4)
        XCTAssertLessThanOrEqual(point.pValue, ChangePointOptions(maxPValue: 0.2).firstPassPValue)
    }

    // MARK: By hand

    func testNothingInEmptyShortOrConstantSeries() {
        XCTAssertEqual(Statistics.changePoints([]), [])
        XCTAssertEqual(Statistics.changePoints([4.2]), [])
        // Two points in all: Otava's t test gives p = 1.
        XCTAssertEqual(Statistics.changePoints([1, 2]), [])
        XCTAssertEqual(Statistics.changePoints([Double](repeating: 7, count: 120)), [])
    }

    func testAStepBetweenConstantLevelsIsOneChangePoint() throws {
        let points = Statistics.changePoints([Double](repeating: 1, count: 20) + [Double](repeating: 2, count: 20))
        XCTAssertEqual(points.map(\.index), [20])
        let point = try XCTUnwrap(points.first)
        // Both sides constant and different: the pooled variance is 0, t = −∞, p = 0.
        XCTAssertEqual(point.pValue, 0)
        XCTAssertEqual(point.meanBefore, 1)
        XCTAssertEqual(point.meanAfter, 2)
        XCTAssertEqual(point.standardDeviationBefore, 0)
        XCTAssertEqual(point.forwardChangePercent, 100)
        // max(|2/1 − 1|, |1/2 − 1|)
        XCTAssertEqual(point.magnitude, 1)
    }

    func testANoisyStepIsFoundAtItsFirstNewPoint() {
        let before = (0..<30).map { 10 + ($0 % 2 == 0 ? 0.2 : -0.2) }
        let after = (0..<30).map { 13 + ($0 % 3 == 0 ? 0.3 : -0.15) }
        XCTAssertEqual(Statistics.changePoints(before + after).map(\.index), [30])
        XCTAssertEqual(Statistics.changePoints(after + before).map(\.index), [30])
    }

    func testSmallChangesAreDroppedBelowTheMinimumMagnitude() {
        let before = (0..<40).map { 100 + ($0 % 2 == 0 ? 0.1 : -0.1) }
        let after = (0..<40).map { 102 + ($0 % 2 == 0 ? 0.1 : -0.1) }
        XCTAssertEqual(Statistics.changePoints(before + after).map(\.index), [40])
        XCTAssertEqual(Statistics.changePoints(before + after, options: .init(minMagnitude: 0.05)), [])
    }

    func testRelativeChangeFromZeroIsZeroForwards() {
        let point = ChangePoint(index: 5, pValue: 0, meanBefore: 0, meanAfter: 4,
                                standardDeviationBefore: 0, standardDeviationAfter: 0)
        XCTAssertEqual(point.forwardChangePercent, 0)
        XCTAssertEqual(point.backwardRelativeChange, -1)
        XCTAssertEqual(point.magnitude, 1)
    }

    func testOptionsDefaultToOtavasAndRelaxTheFirstPass() {
        let options = ChangePointOptions()
        XCTAssertEqual(options.windowLength, 50)
        XCTAssertEqual(options.maxPValue, 0.001)
        XCTAssertEqual(options.minMagnitude, 0)
        XCTAssertEqual(options.firstPassPValue, 0.01)
        XCTAssertEqual(ChangePointOptions(maxPValue: 0.1).firstPassPValue, 0.2)
        XCTAssertEqual(ChangePointOptions(maxPValue: 0.6).firstPassPValue, 0.6)
    }

    /// Otava's merge step re-tests the two change points after a dropped one, not the one before
    /// it, whose following segment grew: its reported mean after can be over a segment that no
    /// longer exists. Reproduced, not fixed.
    func testMergeKeepsOtavasStaleStatistics() throws {
        let v = try XCTUnwrap(ChangePointVectors.otava.first { $0.name == "merge leaves stale statistics" })
        let point = try XCTUnwrap(Statistics.changePoints(v.series).first)
        XCTAssertEqual(point.index, 16)
        let rest = v.series[16...]
        let freshMeanAfter = rest.reduce(0, +) / Double(rest.count)
        XCTAssertGreaterThan(abs(point.meanAfter - freshMeanAfter), 1)
        XCTAssertEqual(point.meanAfter, v.meansAfter[0])
    }

    func testNumpySumIsPairwise() {
        // Eight running sums over the first 32, combined pairwise, then the tail one by one.
        let values: [Double] = (0..<37).map { (i: Int) -> Double in 0.1 * Double(i) + 1e-3 / Double(i + 1) }
        var p = Array(values[0..<8])
        for i in stride(from: 8, to: 32, by: 8) { for j in 0..<8 { p[j] += values[i + j] } }
        let left: Double = (p[0] + p[1]) + (p[2] + p[3]), right: Double = (p[4] + p[5]) + (p[6] + p[7])
        var expected = left + right
        for v in values[32...] { expected += v }
        XCTAssertEqual(expected, 66.60420158622384)  // numpy.sum; a left-to-right sum gives …382
        XCTAssertEqual(Statistics.numpySum(values[...]), expected)
        XCTAssertEqual(Statistics.numpySum([1, 2, 3][...]), 6)
        XCTAssertEqual(Statistics.numpySum([][...]), 0)
    }

    // MARK: Helpers

    private func assertClose(_ actual: Double, _ expected: Double, relative: Double = 1e-12, _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        if actual == expected || (actual.isNaN && expected.isNaN) { return }
        let error = abs(actual - expected), scale = max(abs(actual), abs(expected))
        XCTAssertLessThanOrEqual(error, relative * scale, "\(label): \(actual) vs \(expected)", file: file, line: line)
    }
}

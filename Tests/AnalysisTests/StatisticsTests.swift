@testable import Analysis
import XCTest

/// The statistics routines against scipy and numpy (StatisticsVectors.swift, written by
/// scripts/gen-stat-vectors.py), and against small cases worked by hand. Statistics agree to a
/// relative 1e-9; p-values to 1e-9 absolute and, in the tails, 1e-6 relative.
final class StatisticsTests: XCTestCase {
    // MARK: The normal distribution

    func testNormalCDFAndSurvivalMatchScipy() {
        for v in StatisticsVectors.normal {
            assertClose(Statistics.normalCDF(v.x), v.cdf, relative: 1e-12, "cdf(\(v.x))")
            assertClose(Statistics.normalSurvival(v.x), v.sf, relative: 1e-12, "sf(\(v.x))")
        }
    }

    func testNormalQuantileMatchesScipy() {
        for v in StatisticsVectors.normalQuantile {
            assertClose(Statistics.normalQuantile(v.p), v.z, relative: 1e-12, "ppf(\(v.p))")
        }
    }

    func testNormalQuantileAtAndBeyondItsDomain() {
        XCTAssertEqual(Statistics.normalQuantile(0), -.infinity)
        XCTAssertEqual(Statistics.normalQuantile(1), .infinity)
        XCTAssertTrue(Statistics.normalQuantile(1.5).isNaN)
        XCTAssertTrue(Statistics.normalQuantile(-0.1).isNaN)
        XCTAssertEqual(Statistics.normalQuantile(0.5), 0)
    }

    // MARK: Ranks

    func testRanksAndTieGroupsMatchScipy() {
        for v in StatisticsVectors.ranks {
            XCTAssertEqual(Statistics.ranks(v.values), v.ranks, "\(v.values)")
            XCTAssertEqual(Statistics.tieGroupSizes(v.values), v.tieGroups, "\(v.values)")
        }
        XCTAssertEqual(Statistics.ranks([]), [])
    }

    // MARK: Mann–Whitney

    func testMannWhitneyMatchesScipy() throws {
        for v in StatisticsVectors.mannWhitney {
            let result = try XCTUnwrap(Statistics.mannWhitney(v.x, v.y), v.name)
            assertClose(result.u, v.u, v.name)
            assertP(result.pValue, v.p, v.name)
        }
    }

    func testMannWhitneyZIsSignedByWhichSampleIsLarger() throws {
        let larger = [10.0, 11, 12.5, 9], smaller = [1.0, 2, 3]
        let forward = try XCTUnwrap(Statistics.mannWhitney(larger, smaller))
        let backward = try XCTUnwrap(Statistics.mannWhitney(smaller, larger))
        XCTAssertEqual(forward.u, 12)
        XCTAssertEqual(backward.u, 0)
        XCTAssertGreaterThan(forward.z, 0)
        XCTAssertEqual(backward.z, -forward.z)
        XCTAssertEqual(backward.pValue, forward.pValue)
        // U = 12 of mean 6; σ² = 12/12·8 = 8 with no ties: z = (6 − ½)/√8.
        XCTAssertEqual(forward.z, 5.5 / 8.0.squareRoot(), accuracy: 1e-15)
    }

    func testMannWhitneyOfIdenticalValuesIsNoEvidence() throws {
        let result = try XCTUnwrap(Statistics.mannWhitney([2, 2, 2], [2, 2]))
        XCTAssertEqual(result, MannWhitneyResult(u: 3, z: 0, pValue: 1))
    }

    func testMannWhitneyNeedsTwoSamples() {
        XCTAssertNil(Statistics.mannWhitney([], [1]))
        XCTAssertNil(Statistics.mannWhitney([1], []))
        XCTAssertNil(Statistics.mannWhitney([.nan], [1]))
    }

    // MARK: Hodges–Lehmann

    func testHodgesLehmannShiftMatchesNumpy() throws {
        for v in StatisticsVectors.hodgesLehmannShift {
            let estimate = try XCTUnwrap(Statistics.hodgesLehmann(v.x, v.y), v.name)
            assertClose(estimate.shift, v.shift, v.name)
        }
    }

    /// m = n = 5: 25 differences, σ = √(25·11/12) = 4.787, z·σ = 9.383, so k = ⌈12.5 − 0.5 − 9.383⌉ = 3.
    /// The differences y − x, sorted: −4 −3 −2 −1 0 | 6…10 | 16…20 | 26…30 | 36…40; d₍₃₎ = −2,
    /// d₍₂₃₎ = 38, the median d₍₁₃₎ = 18.
    func testHodgesLehmannByHand() throws {
        let estimate = try XCTUnwrap(Statistics.hodgesLehmann([0, 1, 2, 3, 4], [0, 10, 20, 30, 40]))
        XCTAssertEqual(estimate.shift, 18)
        XCTAssertEqual(estimate.low, -2)
        XCTAssertEqual(estimate.high, 38)
    }

    /// Ties within a sample shrink σ, which moves k: x = [1, 1, 1, 1, 2, 2], y = [2, 3, 3, 4, 4, 4, 5].
    /// 42 differences, sorted: 0 ×2, 1 ×8, 2 ×14, 3 ×14, 4 ×4. Ties Σ(t³ − t) = (60 + 6) + (6 + 24) = 96,
    /// so σ² = 42/12·(14 − 96/156) = 46.846 (49 untied). At 95%, z·σ = 13.415 and
    /// k = ⌈21 − 0.5 − 13.415⌉ = 8: d₍₈₎ = 1, d₍₃₅₎ = 3; median (d₍₂₁₎ + d₍₂₂₎)/2 = 2. With z = 2.67,
    /// z·σ = 18.275 and k = 3: d₍₃₎ = 1; untied, z·7 = 18.69 would give k = 2 and d₍₂₎ = 0.
    func testHodgesLehmannWithTiesByHand() throws {
        let x: [Double] = [1, 1, 1, 1, 2, 2], y: [Double] = [2, 3, 3, 4, 4, 4, 5]
        let estimate = try XCTUnwrap(Statistics.hodgesLehmann(x, y))
        XCTAssertEqual(estimate.shift, 2)
        XCTAssertEqual(estimate.low, 1)
        XCTAssertEqual(estimate.high, 3)
        let wide = try XCTUnwrap(Statistics.hodgesLehmann(x, y, confidence: 1 - 2 * Statistics.normalSurvival(2.67)))
        XCTAssertEqual(wide.low, 1)  // d₍₃₎
        XCTAssertEqual(wide.high, 4)  // d₍₄₀₎
    }

    /// The interval is the set of shifts the Mann–Whitney test does not reject. Between two adjacent
    /// values of the differences y − x: just outside a bound the test rejects (p < α); just inside it
    /// does not (p ≥ α) — unless the interval is a single tied value, which has no inside. Without
    /// ties, p at a bound itself is close to α in a large sample.
    func testHodgesLehmannIntervalIsWhereMannWhitneyStopsRejecting() throws {
        var checked = 0
        for v in StatisticsVectors.hodgesLehmannShift {
            let differences = v.y.flatMap { yj in v.x.map { yj - $0 } }
            let distinct = Set(differences).count == differences.count
            // The distinct values, taking values that differ only by rounding (0.3 − 0.1 and 0.4 − 0.2)
            // as one.
            var values: [Double] = []
            for d in differences.sorted() where values.last.map({ !nearlyEqual($0, d) }) ?? true { values.append(d) }
            func p(_ shift: Double) throws -> Double {
                try XCTUnwrap(Statistics.mannWhitney(v.x, v.y.map { $0 - shift })).pValue
            }
            for confidence in [0.95, 0.9, 0.99] {
                let alpha = 1 - confidence
                let label = "\(v.name) at \(confidence)"
                let estimate = try XCTUnwrap(Statistics.hodgesLehmann(v.x, v.y, confidence: confidence), label)
                guard estimate.low.isFinite else { continue }
                let low = try XCTUnwrap(values.firstIndex { nearlyEqual($0, estimate.low) }, label)
                let high = try XCTUnwrap(values.firstIndex { nearlyEqual($0, estimate.high) }, label)
                if low > 0 { XCTAssertLessThan(try p((values[low - 1] + values[low]) / 2), alpha, "\(label): below low") }
                if high + 1 < values.count { XCTAssertLessThan(try p((values[high] + values[high + 1]) / 2), alpha, "\(label): above high") }
                if low < high {
                    XCTAssertGreaterThanOrEqual(try p((values[low] + values[low + 1]) / 2), alpha, "\(label): above low")
                    XCTAssertGreaterThanOrEqual(try p((values[high - 1] + values[high]) / 2), alpha, "\(label): below high")
                }
                if v.x.count >= 100, distinct {
                    XCTAssertEqual(try p(estimate.low), alpha, accuracy: 0.05 * alpha, "\(label): at low")
                    XCTAssertEqual(try p(estimate.high), alpha, accuracy: 0.05 * alpha, "\(label): at high")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 15)
    }

    private func nearlyEqual(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))
    }

    func testHodgesLehmannIsUnboundedWhenNoShiftCanBeRejected() throws {
        let estimate = try XCTUnwrap(Statistics.hodgesLehmann([1, 2], [3, 4]))
        XCTAssertEqual(estimate.shift, 2)
        XCTAssertEqual(estimate.low, -.infinity)
        XCTAssertEqual(estimate.high, .infinity)
        XCTAssertNil(Statistics.hodgesLehmann([], [1]))
        XCTAssertNil(Statistics.hodgesLehmann([1], [2], confidence: 1))
    }

    // MARK: Theil–Sen

    func testTheilSenMatchesScipy() throws {
        for v in StatisticsVectors.theilSen {
            let label = "\(v.name) at \(v.confidence)"
            let fit = try XCTUnwrap(Statistics.theilSen(x: v.x, y: v.y, confidence: v.confidence), label)
            assertClose(fit.slope, v.slope, label)
            assertClose(fit.intercept, v.intercept, label)
            assertClose(fit.lowSlope, v.lowSlope, label)
            assertClose(fit.highSlope, v.highSlope, label)
        }
    }

    func testTheilSenIgnoresOutliers() throws {
        // y = 3 + 2x, with two wild points: the median slope is still exactly 2.
        var y = (0..<11).map { 3 + 2 * Double($0) }
        y[4] = 1e9
        y[9] = -1e9
        let fit = try XCTUnwrap(Statistics.theilSen(x: (0..<11).map(Double.init), y: y))
        XCTAssertEqual(fit.slope, 2)
        XCTAssertEqual(fit.intercept, 13 - 2 * 5)
    }

    func testTheilSenNeedsTwoDistinctX() {
        XCTAssertNil(Statistics.theilSen(x: [1, 1, 1], y: [1, 2, 3]))
        XCTAssertNil(Statistics.theilSen(x: [1], y: [1]))
        XCTAssertNil(Statistics.theilSen(x: [1, 2], y: [1]))
    }

    // MARK: Mann–Kendall

    func testMannKendallMatchesScipyAndTheTextbook() throws {
        for v in StatisticsVectors.mannKendall {
            let result = try XCTUnwrap(Statistics.mannKendall(v.y), v.name)
            XCTAssertEqual(result.s, v.s, v.name)
            assertClose(result.varianceS, v.varianceS, v.name)
            assertClose(result.z, v.z, v.name)
            assertP(result.pValue, v.p, v.name)
            // scipy.stats.kendalltau leaves the continuity correction out:
            assertP(2 * Statistics.normalSurvival(abs(result.s) / result.varianceS.squareRoot()), v.scipyUncorrectedP, v.name)
        }
    }

    /// y = [1, 3, 2, 4]: five rising pairs, one falling: S = 4; Var(S) = 4·3·13/18 = 26/3;
    /// z = 3/√(26/3). With ties, y = [1, 2, 2, 3]: S = 5 − 0 = 5 (one tied pair),
    /// Var(S) = (4·3·13 − 2·1·9)/18 = 138/18.
    func testMannKendallByHand() throws {
        let plain = try XCTUnwrap(Statistics.mannKendall([1, 3, 2, 4]))
        XCTAssertEqual(plain.s, 4)
        XCTAssertEqual(plain.varianceS, 26.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(plain.z, 3 / (26.0 / 3).squareRoot(), accuracy: 1e-15)
        let tied = try XCTUnwrap(Statistics.mannKendall([1, 2, 2, 3]))
        XCTAssertEqual(tied.s, 5)
        XCTAssertEqual(tied.varianceS, 138.0 / 18, accuracy: 1e-15)
        let falling = try XCTUnwrap(Statistics.mannKendall([4, 3, 2, 1]))
        XCTAssertEqual(falling.s, -6)
        XCTAssertEqual(falling.z, -5 / (26.0 / 3).squareRoot(), accuracy: 1e-15)
        // Two values: S = ±1, which the continuity correction takes to z = 0.
        XCTAssertEqual(Statistics.mannKendall([1, 2]), MannKendallResult(s: 1, varianceS: 1, z: 0, pValue: 1))
        XCTAssertNil(Statistics.mannKendall([5, 5, 5]))
        XCTAssertNil(Statistics.mannKendall([5]))
    }

    func testFallingPairsCountsStrictInversions() {
        var generator = SystemRandomNumberGenerator()
        for n in [0, 1, 2, 7, 64, 301] {
            let y = (0..<n).map { _ in Double(Int.random(in: 0..<20, using: &generator)) }
            var slow = 0
            for i in y.indices {
                for j in y.indices where j > i && y[i] > y[j] { slow += 1 }
            }
            XCTAssertEqual(Statistics.fallingPairs(y), slow, "\(y)")
        }
    }

    // MARK: Spearman

    func testSpearmanMatchesScipy() throws {
        for v in StatisticsVectors.spearman {
            let result = try XCTUnwrap(Statistics.spearman(v.x, v.y), v.name)
            assertClose(result.rho, v.rho, v.name)
            assertP(result.pValue, v.p, v.name)
        }
    }

    func testSpearmanIsUndefinedForShortOrConstantSeries() {
        XCTAssertNil(Statistics.spearman([1, 2], [2, 1]))
        XCTAssertNil(Statistics.spearman([1, 2, 3], [4, 4, 4]))
        XCTAssertNil(Statistics.spearman([7, 7, 7], [1, 2, 3]))
        XCTAssertNil(Statistics.spearman([1, 2, 3], [1, 2]))
    }

    func testStudentTSurvivalMatchesScipy() {
        for v in StatisticsVectors.studentT {
            assertP(Statistics.studentTSurvival(v.t, degreesOfFreedom: v.df), v.sf, "t = \(v.t), df = \(v.df)")
        }
        XCTAssertEqual(Statistics.studentTSurvival(.infinity, degreesOfFreedom: 3), 0)
        XCTAssertEqual(Statistics.studentTSurvival(-.infinity, degreesOfFreedom: 3), 1)
    }

    func testIncompleteBetaMatchesScipy() {
        for v in StatisticsVectors.incompleteBeta {
            assertClose(Statistics.regularizedIncompleteBeta(a: v.a, b: v.b, x: v.x), v.value, relative: 1e-10,
                        "I(\(v.x); \(v.a), \(v.b))")
        }
    }

    // MARK: Binomial

    func testBinomialUpperTailMatchesScipy() {
        for v in StatisticsVectors.binomialUpperTail {
            assertP(Statistics.binomialUpperTail(successes: v.k, trials: v.n, probability: v.p), v.tail,
                    "P(X ≥ \(v.k)), n = \(v.n), p = \(v.p)")
        }
    }

    func testBinomialUpperTailByHand() {
        // P(X ≥ 2) for Binomial(3, ½) = (3 + 1)/8.
        XCTAssertEqual(Statistics.binomialUpperTail(successes: 2, trials: 3, probability: 0.5), 0.5, accuracy: 1e-15)
        XCTAssertEqual(Statistics.binomialUpperTail(successes: 0, trials: 3, probability: 0.2), 1)
        XCTAssertEqual(Statistics.binomialUpperTail(successes: 4, trials: 3, probability: 0.2), 0)
        XCTAssertEqual(Statistics.binomialUpperTail(successes: 1, trials: 3, probability: 0), 0)
        XCTAssertEqual(Statistics.binomialUpperTail(successes: 3, trials: 3, probability: 1), 1)
    }

    // MARK: Median and quantiles

    func testMedianAndQuantilesMatchNumpy() throws {
        for v in StatisticsVectors.quantiles {
            XCTAssertEqual(Statistics.median(v.values), v.median, "\(v.values.count) values")
            for (q, expected) in zip(v.qs, v.quantiles) {
                assertClose(try XCTUnwrap(Statistics.quantile(v.values, q)), expected, relative: 1e-15, "q = \(q)")
            }
        }
    }

    func testMedianAndQuantileOfNothing() {
        XCTAssertNil(Statistics.median([]))
        XCTAssertNil(Statistics.quantile([], 0.5))
        XCTAssertNil(Statistics.quantile([1, 2], 1.5))
        XCTAssertNil(Statistics.median([1, .nan]))
    }

    // MARK: Tolerances

    private func assertClose(_ actual: Double, _ expected: Double, relative: Double = 1e-9, _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        if actual == expected || (actual.isNaN && expected.isNaN) { return }
        let error = abs(actual - expected), scale = max(abs(actual), abs(expected))
        XCTAssertLessThanOrEqual(error, relative * scale, "\(label): \(actual) vs \(expected)", file: file, line: line)
    }

    /// Within 1e-9 absolute, and, for p-values small enough that that says little, 1e-6 relative.
    private func assertP(_ actual: Double, _ expected: Double, _ label: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        let error = abs(actual - expected)
        XCTAssertLessThanOrEqual(error, 1e-9, "\(label): p \(actual) vs \(expected)", file: file, line: line)
        if expected > 1e-300 {
            XCTAssertLessThanOrEqual(error, 1e-6 * expected + 1e-300, "\(label): p \(actual) vs \(expected)", file: file, line: line)
        }
    }
}

import ArchbenchCore
import Foundation
@testable import Analysis
import Recording
import XCTest

final class SignificanceTests: XCTestCase {
    /// Inside a power-of-two bucket the quantile is interpolated on a log scale.
    func testLog2PercentileInterpolatesInsideTheBucket() throws {
        XCTAssertEqual(try XCTUnwrap(Significance.log2Percentile([0, 10], 0.5)), 2 * 2.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(Significance.log2Percentile([10, 0, 10], 0.5)), 2, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(Significance.log2Percentile([0, 0, 0, 4], 1)), 16, accuracy: 1e-9)
        XCTAssertNil(Significance.log2Percentile([0, 0], 0.5))
    }

    /// Blocks of five 100 ms windows; a last block under half full is left out.
    func testLoadsAreCutIntoBlocksOfFiveWindows() {
        let windows = (0..<12).map { LoadWindow(startNs: UInt64($0) * 100_000_000, responses: 10, errors: 1, p50Us: 0, p90Us: 0,
                                                  p99Us: 0, maxUs: 0, log2Counts: [0, 10]) }
        let blocks = Significance.blocks([Synthetic.load(p99Ms: 1, slow: [], windows: windows)]) { Double($0) }
        XCTAssertEqual(blocks.map(\.responses), [50, 50])
        XCTAssertEqual(blocks.map(\.errors), [5, 5])
        XCTAssertEqual(blocks.map(\.seconds), [0.5, 0.5])
        XCTAssertEqual(blocks.map(\.log2Counts), [[0, 50], [0, 50]])
        XCTAssertEqual(blocks.map(\.memoryBytes), [500_000_000, 1_000_000_000])
    }

    /// Rounds of blocks whose latency is spread around `medianUs` and whose throughput around `rate`.
    func rounds(_ count: Int, medianUs: Double, rate: Double, seed: UInt64) -> [[LoadBlock]] {
        var generator = SplitMix64(seed: seed)
        func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }
        return (0..<count).map { _ in
            (0..<10).map { _ in
                var counts = [UInt64](repeating: 0, count: 24)
                for _ in 0..<200 {
                    let latency = medianUs * exp2((uniform() - 0.5) * 2)
                    counts[Int(log2(latency))] += 1
                }
                let responses = UInt64(rate * 0.5 * (0.9 + 0.2 * uniform()))
                return LoadBlock(seconds: 0.5, responses: responses, errors: 0, log2Counts: counts)
            }
        }
    }

    func testTheSameDistributionIsWithinNoiseAndADoubledLatencyIsWorse() throws {
        let significance = Significance()
        let a = rounds(2, medianUs: 1000, rate: 5000, seed: 1), same = rounds(2, medianUs: 1000, rate: 5000, seed: 2)
        let slower = rounds(2, medianUs: 2000, rate: 5000, seed: 3)
        for metric in [DeltaMetric.latencyP50, .latencyP99, .throughput] {
            let full = { (rounds: [[LoadBlock]]) in metric.pooled(rounds.flatMap { $0 })! }
            let aa = try XCTUnwrap(significance.delta(benchmark: "b", metric: metric, baseline: full(a), candidate: full(same),
                                                      baselineRounds: a, candidateRounds: same))
            XCTAssertEqual(aa.verdict, .withinNoise, "\(aa)")
            XCTAssertLessThan(aa.ci95Pct[0], aa.changePct)
            XCTAssertGreaterThan(aa.ci95Pct[1], aa.changePct)
        }
        let p50 = DeltaMetric.latencyP50
        let ab = try XCTUnwrap(significance.delta(benchmark: "b", metric: p50, baseline: p50.pooled(a.flatMap { $0 })!,
                                                  candidate: p50.pooled(slower.flatMap { $0 })!, baselineRounds: a, candidateRounds: slower))
        XCTAssertEqual(ab.verdict, .worse)
        XCTAssertEqual(ab.changePct, 100, accuracy: 15)
        XCTAssertGreaterThan(ab.ci95Pct[0], 0)
        XCTAssertGreaterThan(ab.effectSize, 0.9)
        XCTAssertEqual(ab.samples, [20, 20])
    }

    /// Higher throughput is better, higher latency worse; a change is only called when the interval
    /// excludes zero.
    func testTheVerdictFollowsTheMetricsDirection() throws {
        let significance = Significance()
        let slow = rounds(2, medianUs: 1000, rate: 5000, seed: 4), fast = rounds(2, medianUs: 1000, rate: 10000, seed: 5)
        let throughput = DeltaMetric.throughput
        let better = try XCTUnwrap(significance.delta(benchmark: "b", metric: throughput, baseline: 5000, candidate: 10000,
                                                      baselineRounds: slow, candidateRounds: fast))
        XCTAssertEqual(better.verdict, .better)
        XCTAssertEqual(better.changePct, 100, accuracy: 1e-9)
        let worse = try XCTUnwrap(significance.delta(benchmark: "b", metric: throughput, baseline: 10000, candidate: 5000,
                                                     baselineRounds: fast, candidateRounds: slow))
        XCTAssertEqual(worse.verdict, .worse)
        XCTAssertLessThan(worse.ci95Pct[1], 0)
    }

    /// One block a side cannot tell noise from a change.
    func testTooFewBlocksAreWithinNoise() throws {
        let one = [[LoadBlock(seconds: 0.5, responses: 100, errors: 0, log2Counts: [0, 100])]]
        let other = [[LoadBlock(seconds: 0.5, responses: 300, errors: 0, log2Counts: [0, 100])]]
        let delta = try XCTUnwrap(Significance().delta(benchmark: "b", metric: .throughput, baseline: 200, candidate: 600,
                                                       baselineRounds: one, candidateRounds: other))
        XCTAssertEqual(delta.verdict, .withinNoise)
    }
}

final class RoundIntervalTests: XCTestCase {
    func testStudentQuantileMatchesTheTable() {
        XCTAssertEqual(Significance.studentQuantile(0.975, degreesOfFreedom: 1), 12.7062047, accuracy: 1e-6)
        XCTAssertEqual(Significance.studentQuantile(0.975, degreesOfFreedom: 2), 4.3026527, accuracy: 1e-6)
        XCTAssertEqual(Significance.studentQuantile(0.975, degreesOfFreedom: 1000), 1.9623391, accuracy: 1e-6)
    }

    /// Log values 0 and 0.2 (baseline), 0.1 and 0.5 (candidate): squares 0.02 + 0.08 over 2 degrees
    /// of freedom, variance 0.05, standard error sqrt(0.05 × (1/2 + 1/2)); the interval is the
    /// reported change scaled by e^(± 4.3027 × that).
    func testTheRoundIntervalIsStudentsTWithTheRoundsAsUnits() throws {
        let (low, high) = try XCTUnwrap(Significance.roundInterval([1, exp(0.2)], [exp(0.1), exp(0.5)], change: 20, confidence: 0.95))
        let spread = 4.3026527 * 0.05.squareRoot()
        XCTAssertEqual(low, (1.2 * exp(-spread) - 1) * 100, accuracy: 0.01)
        XCTAssertEqual(high, (1.2 * exp(spread) - 1) * 100, accuracy: 0.01)
        XCTAssertNil(Significance.roundInterval([1], [2], change: 100, confidence: 0.95))
    }

    /// A figure known per round only has no verdict with fewer than 3 rounds in all: no delta, so
    /// the validation judges its change by size (a zero-width "interval" must not read as noise).
    func testAFigureOfTooFewRoundsHasNoDelta() throws {
        let significance = Significance()
        XCTAssertNil(significance.figuresDelta(benchmark: "b", metric: .latencyP95, endpoint: "GET /x", baseline: 1, candidate: 26,
                                               baselineFigures: [1], candidateFigures: [26], why: "test"))
        let delta = try XCTUnwrap(significance.figuresDelta(benchmark: "b", metric: .latencyP95, endpoint: "GET /x", baseline: 1,
                                                            candidate: 26, baselineFigures: [1, 1.02], candidateFigures: [26, 25.5],
                                                            why: "test"))
        XCTAssertEqual(delta.verdict, .worse)
        XCTAssertEqual(delta.endpoint, "GET /x")
        XCTAssertGreaterThan(delta.ci95Pct[0], 0)
    }

    /// A sweep's rounds are judged by their own figures alone: rounds that scatter widely are within
    /// noise however different their means, rounds that agree are a change.
    func testRoundsOfSeveralLoadsAreJudgedByTheirOwnFigures() throws {
        let blocks = [[LoadBlock(seconds: 1, responses: 100, errors: 0, log2Counts: [0, 100])]]
        let scattered = try XCTUnwrap(Significance().delta(
            benchmark: "sweep", metric: .latencyP99, baseline: 10, candidate: 2, baselineRounds: blocks, candidateRounds: blocks,
            baselineFigures: [2, 25, 3], candidateFigures: [2, 1.5, 2.5], blocksMakeTheFigure: false))
        XCTAssertEqual(scattered.verdict, .withinNoise, "\(scattered)")
        XCTAssertEqual(scattered.samples, [3, 3])
        let agreeing = try XCTUnwrap(Significance().delta(
            benchmark: "sweep", metric: .latencyP99, baseline: 10, candidate: 20, baselineRounds: blocks, candidateRounds: blocks,
            baselineFigures: [10, 10.5, 9.5], candidateFigures: [20, 21, 19], blocksMakeTheFigure: false))
        XCTAssertEqual(agreeing.verdict, .worse, "\(agreeing)")
        XCTAssertTrue(agreeing.method.contains("rounds' own figures"))
    }
}

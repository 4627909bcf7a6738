@testable import Analysis
import XCTest

/// The thresholds table at its edges, the within-noise rule, the requirements and every rating rule
/// (docs/validation.md).
final class ValidationTests: XCTestCase {
    /// A figure with the analysis's delta: a tight interval (±1 point) around the change when it is
    /// one, an interval that includes zero when it is within noise; `ci` overrides it.
    func figure(_ threshold: String, _ baseline: Double, _ candidate: Double, delta: DeltaVerdict? = nil, ci: [Double]? = nil,
                requirement: Requirement = .noRegression) -> ValidationFigure {
        let change = (candidate - baseline) / baseline * 100
        return ValidationFigure(requirement: requirement, benchmark: "b", metric: threshold, threshold: threshold, baseline: baseline,
                                candidate: candidate, delta: delta.map {
                                    Delta(benchmark: "b", metric: threshold, baseline: baseline, candidate: candidate, changePct: change,
                                          ci95Pct: ci ?? ($0 == .withinNoise ? [min(-1, change - 1), max(1, change + 1)] : [change - 1, change + 1]),
                                          effectSize: 0, pValue: 1, verdict: $0, samples: [3, 3], method: "test")
                                })
    }

    func verdict(_ threshold: String, _ baseline: Double, _ candidate: Double, delta: DeltaVerdict? = nil,
                 ci: [Double]? = nil) -> ValidationCheck.Verdict? {
        Validation.judge([figure(threshold, baseline, candidate, delta: delta, ci: ci)]).checks.first?.verdict
    }

    func testEachSeedThresholdAtItsEdges() {
        // A change that reaches a threshold is that threshold's verdict; one a hair short is not.
        let edges: [(String, Double, Double)] = [("throughput", -5, -15), ("latency", 10, 25), ("memory", 20, 50), ("success_rate", -2, -5)]
        for (metric, warning, critical) in edges {
            let towards: Double = warning < 0 ? -1 : 1
            XCTAssertEqual(verdict(metric, 100, 100), .pass, metric)
            XCTAssertEqual(verdict(metric, 100, 100 + warning - towards * 0.01), .pass, "\(metric) just short of warning")
            XCTAssertEqual(verdict(metric, 100, 100 + warning), .warning, "\(metric) at warning")
            XCTAssertEqual(verdict(metric, 100, 100 + critical - towards * 0.01), .warning, "\(metric) just short of critical")
            XCTAssertEqual(verdict(metric, 100, 100 + critical), .critical, "\(metric) at critical")
            XCTAssertEqual(verdict(metric, 100, 100 - towards * 30), .pass, "\(metric) improved by 30%")
        }
    }

    func testAChangeWithinNoisePassesWhateverItsSizeAndAChangeStillCounts() throws {
        XCTAssertEqual(verdict("latency", 10, 20, delta: .withinNoise), .pass)
        XCTAssertEqual(verdict("latency", 10, 20, delta: .worse), .critical)
        let check = try XCTUnwrap(Validation.judge([figure("latency", 10, 20, delta: .withinNoise)]).checks.first)
        XCTAssertEqual(check.significance, "within_noise")
        XCTAssertEqual(check.ci95Pct, [-1, 101])
        XCTAssertEqual(check.changePct, 100)
        XCTAssertEqual(check.judgedPct, 0)
    }

    func testAChangeIsJudgedByTheEndOfItsIntervalNearestZero() throws {
        // +30% latency: critical if even the interval's low end reaches +25%, a warning if that end
        // is only past +10%, a pass if it is under +10% (a change, but maybe a small one).
        XCTAssertEqual(verdict("latency", 10, 13, delta: .worse, ci: [26, 34]), .critical)
        XCTAssertEqual(verdict("latency", 10, 13, delta: .worse, ci: [12, 48]), .warning)
        XCTAssertEqual(verdict("latency", 10, 13, delta: .worse, ci: [2, 60]), .pass)
        // A fall of throughput: the end nearest zero is the upper one.
        XCTAssertEqual(verdict("throughput", 100, 70, delta: .worse, ci: [-45, -16]), .critical)
        XCTAssertEqual(verdict("throughput", 100, 70, delta: .worse, ci: [-45, -14]), .warning)
        let check = try XCTUnwrap(Validation.judge([figure("throughput", 100, 70, delta: .worse, ci: [-45, -14])]).checks.first)
        XCTAssertEqual(check.judgedPct, -14)
        XCTAssertEqual(check.changePct, -30, accuracy: 1e-9)
        // No interval: the change itself.
        XCTAssertEqual(verdict("latency", 10, 13), .critical)
    }

    func testConfiguredThresholdsReplaceTheSeedsRowByRow() {
        let figures = [figure("throughput", 100, 97), figure("latency", 10, 10.6)]
        let seed = Validation.judge(figures)
        XCTAssertEqual(seed.checks.map(\.verdict), [.pass, .pass])
        let strict = Validation.judge(figures, thresholds: ["throughput": ThresholdSpec(warning: -1, critical: -2)])
        XCTAssertEqual(strict.checks.map(\.verdict), [.critical, .pass], "latency keeps the seed's row")
        XCTAssertEqual(strict.checks[0].criticalPct, -2)
        XCTAssertEqual(strict.checks[1].warningPct, 10)
    }

    func testNothingToCompareIsNoCheck() {
        XCTAssertTrue(Validation.judge([figure("latency", 0, 13)]).checks.isEmpty, "no baseline")
        XCTAssertTrue(Validation.judge([figure("latency", 10, .nan)]).checks.isEmpty, "no candidate")
    }

    func testRequirementsFailOnACriticalCheckAndAreUnmeasuredWithoutChecks() throws {
        let outcome = Validation.judge([figure("throughput", 100, 99), figure("latency", 10, 14, requirement: .latencyAcceptability)])
        func requirement(_ name: Requirement) throws -> RequirementOutcome {
            try XCTUnwrap(outcome.requirements.first { $0.requirement == name.rawValue })
        }
        XCTAssertEqual(outcome.requirements.map(\.requirement), Requirement.allCases.map(\.rawValue))
        XCTAssertEqual(try requirement(.noRegression).passed, true)
        XCTAssertEqual(try requirement(.latencyAcceptability).passed, false)
        XCTAssertEqual(try requirement(.latencyAcceptability).critical, 1)
        XCTAssertNil(try requirement(.memoryEfficiency).passed, "nothing measured memory")
        XCTAssertEqual(try requirement(.overallQuality).passed, false, "POOR fails the overall quality")
        XCTAssertTrue(outcome.failed)
        XCTAssertEqual(outcome.requirementsPassed, 1)
        XCTAssertEqual(outcome.requirementsMeasured, 3)
        XCTAssertEqual(outcome.qualityScore, 50)
    }

    func rating(_ figures: [ValidationFigure], failedRounds: Int = 0) -> QualityRating {
        Validation.judge(figures, failedRounds: failedRounds).rating
    }

    func testEveryRatingRule() {
        // 1. Nothing compared.
        XCTAssertEqual(rating([]), .fair)
        XCTAssertEqual(rating([], failedRounds: 1), .poor)
        // 2. A critical check is POOR, however many others improved.
        XCTAssertEqual(rating([figure("throughput", 100, 80)] + Array(repeating: figure("latency", 10, 5), count: 10)), .poor)
        // 3. Failed rounds with nothing critical: FAIR.
        XCTAssertEqual(rating([figure("throughput", 100, 100)], failedRounds: 2), .fair)
        // 4. Every check improved or within 5%: EXCELLENT — exactly 5% worse still is.
        XCTAssertEqual(rating([figure("throughput", 100, 95.01), figure("latency", 10, 10.5), figure("memory", 100, 60)]), .excellent)
        // ... and a change past 5% that the analysis calls noise does not count.
        XCTAssertEqual(rating([figure("latency", 10, 11.5, delta: .withinNoise)]), .excellent)
        // ... but a warning is never EXCELLENT, even within 5% (a strict table).
        XCTAssertEqual(Validation.judge([figure("throughput", 100, 97)], thresholds: ["throughput": ThresholdSpec(warning: -1, critical: -10)]).rating,
                       .good)
        // 5. Minor regressions, at least as many improvements: GOOD.
        XCTAssertEqual(rating([figure("latency", 10, 11.2), figure("throughput", 100, 110)]), .good)
        XCTAssertEqual(rating([figure("throughput", 100, 92)]).rawValue, "FAIR", "a warning with no improvement to weigh it")
        // 6. More regressions than improvements: FAIR.
        XCTAssertEqual(rating([figure("latency", 10, 11.2), figure("memory", 100, 107), figure("throughput", 100, 103)]), .fair)
    }

    func testTheRatingSaysWhy() {
        let outcome = Validation.judge([figure("latency", 10, 11.2), figure("throughput", 100, 110)])
        XCTAssertEqual(outcome.ratingReason, "minor regressions, overall positive: 1 improved, 1 worse than 5%, 1 warning(s)")
    }
}

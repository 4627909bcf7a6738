/// The seed's five requirements a candidate is validated against (docs/validation.md).
public enum Requirement: String, Codable, Sendable, CaseIterable {
    /// Throughput and success rate of each benchmark hold.
    case noRegression = "no_regression"
    /// Peak resident memory holds.
    case memoryEfficiency = "memory_efficiency"
    /// P95 and P99 latency of each benchmark, and P95 of each REST endpoint, hold.
    case latencyAcceptability = "latency_acceptability"
    /// The concurrency sweep's maximum sustainable throughput holds.
    case scalabilityImprovement = "scalability_improvement"
    /// The quality rating is not POOR.
    case overallQuality = "overall_quality"
}

/// A figure measured for both architectures, to be held to a threshold: what the suite hands the validation.
public struct ValidationFigure: Sendable {
    public var requirement: Requirement
    public var benchmark: String
    /// `throughput`, `success_rate`, `latency_p95_ms`, `latency_p99_ms`, `memory_bytes`, `max_sustainable_throughput`.
    public var metric: String
    /// The REST endpoint (`GET /api/users`) for a per-endpoint figure.
    public var endpoint: String?
    /// The thresholds table's row (`throughput`, `latency`, `memory`, `success_rate`).
    public var threshold: String
    public var baseline: Double
    public var candidate: Double
    /// The analysis's verdict on the difference, when it has one.
    public var delta: Delta?

    public init(requirement: Requirement, benchmark: String, metric: String, endpoint: String? = nil, threshold: String,
                baseline: Double, candidate: Double, delta: Delta? = nil) {
        self.requirement = requirement
        self.benchmark = benchmark
        self.metric = metric
        self.endpoint = endpoint
        self.threshold = threshold
        self.baseline = baseline
        self.candidate = candidate
        self.delta = delta
    }
}

/// One figure of one benchmark, candidate against baseline, held to its thresholds.
public struct ValidationCheck: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case pass, warning, critical
    }

    public var requirement: String
    public var benchmark: String
    public var metric: String
    public var endpoint: String?
    /// The thresholds table's row the check used.
    public var threshold: String
    public var baseline: Double
    public var candidate: Double
    /// (candidate − baseline) / baseline, in percent.
    public var changePct: Double
    public var warningPct: Double
    public var criticalPct: Double
    public var verdict: Verdict
    /// The analysis's 95% interval of the change, and its verdict (better, worse, within_noise): a
    /// change within noise passes whatever its size. Nil when the analysis had nothing to judge it by.
    public var ci95Pct: [Double]?
    public var significance: String?

    public init(requirement: String, benchmark: String, metric: String, endpoint: String? = nil, threshold: String,
                baseline: Double, candidate: Double, changePct: Double, warningPct: Double, criticalPct: Double,
                verdict: Verdict, ci95Pct: [Double]? = nil, significance: String? = nil) {
        self.requirement = requirement
        self.benchmark = benchmark
        self.metric = metric
        self.endpoint = endpoint
        self.threshold = threshold
        self.baseline = baseline
        self.candidate = candidate
        self.changePct = changePct
        self.warningPct = warningPct
        self.criticalPct = criticalPct
        self.verdict = verdict
        self.ci95Pct = ci95Pct
        self.significance = significance
    }

    /// The analysis found no change: the check passes whatever the size of `changePct`.
    public var withinNoise: Bool { significance == DeltaVerdict.withinNoise.rawValue }

    /// The change in percent signed so that positive is worse (a fall of throughput, a rise of latency).
    public var regressionPct: Double { Thresholds.falling.contains(threshold) ? -changePct : changePct }

    /// The change the thresholds judge: within noise, none; with an interval, its end nearest zero
    /// — the smallest change the run's data allows; otherwise the change itself.
    public var judgedPct: Double {
        if withinNoise { return 0 }
        guard let ci = ci95Pct, ci.count == 2 else { return changePct }
        return abs(ci[0]) < abs(ci[1]) ? ci[0] : ci[1]
    }

    /// `judgedPct` signed so that positive is worse.
    public var judgedRegressionPct: Double { Thresholds.falling.contains(threshold) ? -judgedPct : judgedPct }

    /// What the check is about: `api_response_times latency_p95_ms GET /api/users`.
    public var name: String { [benchmark, metric, endpoint].compactMap { $0 }.joined(separator: " ") }
}

/// The seed's quality ratings; the rule is `Validation.rating`.
public enum QualityRating: String, Codable, Sendable {
    case excellent = "EXCELLENT", good = "GOOD", fair = "FAIR", poor = "POOR"
}

/// One requirement's checks summed up: it fails when one of them is critical.
public struct RequirementOutcome: Codable, Sendable, Equatable {
    public var requirement: String
    /// Nil when nothing measured it (no memory benchmark, no concurrency sweep).
    public var passed: Bool?
    public var checks: Int
    public var warnings: Int
    public var critical: Int
}

/// The validation of a run: every check, the five requirements and the rating.
public struct ValidationOutcome: Codable, Sendable {
    public var checks: [ValidationCheck]
    public var requirements: [RequirementOutcome]
    public var rating: QualityRating
    /// Why the rating is what it is, in the rule's words.
    public var ratingReason: String
    /// 100 × (passes + ½ warnings) / checks: a figure to compare runs by; the rating decides.
    public var qualityScore: Double

    public var passed: Int { checks.filter { $0.verdict != .critical }.count }
    /// A check is critical: the CI gate fails.
    public var failed: Bool { checks.contains { $0.verdict == .critical } }
    public var requirementsMeasured: Int { requirements.filter { $0.passed != nil }.count }
    public var requirementsPassed: Int { requirements.filter { $0.passed == true }.count }
}

/// The seed's validation: each figure held to the thresholds table, unless the analysis found its
/// change within noise; the requirements and the quality rating over the checks (docs/validation.md).
public enum Validation {
    /// How far (percent, in the regressing direction) a counted change may go and still be "within 5%".
    public static let excellentBand = 5.0

    /// The verdict of one figure; nil when it cannot be compared (no baseline, not finite).
    ///
    /// The change judged is `judgedPct`: none when the analysis calls the difference within noise,
    /// else the end of its 95% interval nearest zero (the least change the data allows), else the
    /// change itself. It warns at or past `warning` and is critical at or past `critical`, signed as
    /// the metric regresses.
    public static func check(_ figure: ValidationFigure, threshold: ThresholdSpec) -> ValidationCheck? {
        let (baseline, candidate) = (figure.baseline, figure.candidate)
        guard baseline > 0, baseline.isFinite, candidate.isFinite else { return nil }
        let change = (candidate - baseline) / baseline * 100
        var check = ValidationCheck(requirement: figure.requirement.rawValue, benchmark: figure.benchmark, metric: figure.metric,
                                    endpoint: figure.endpoint, threshold: figure.threshold, baseline: baseline, candidate: candidate,
                                    changePct: change, warningPct: threshold.warning, criticalPct: threshold.critical,
                                    verdict: .pass, ci95Pct: figure.delta?.ci95Pct, significance: figure.delta?.verdict.rawValue)
        let judged = check.judgedPct
        func reached(_ limit: Double) -> Bool { Thresholds.falling.contains(figure.threshold) ? judged <= limit : judged >= limit }
        check.verdict = reached(threshold.critical) ? .critical : reached(threshold.warning) ? .warning : .pass
        return check
    }

    /// Every figure judged against `thresholds` (the seed's where a row is missing), the
    /// requirements, and the rating. `failedRounds` counts benchmark rounds that produced no result.
    public static func judge(_ figures: [ValidationFigure], thresholds: [String: ThresholdSpec] = Thresholds.seed,
                             failedRounds: Int = 0) -> ValidationOutcome {
        let table = Thresholds.seed.merging(thresholds) { $1 }
        let checks = figures.compactMap { figure in table[figure.threshold].flatMap { check(figure, threshold: $0) } }
        return outcome(checks, failedRounds: failedRounds)
    }

    /// The requirements and the rating over `checks`.
    public static func outcome(_ checks: [ValidationCheck], failedRounds: Int = 0) -> ValidationOutcome {
        let (rating, reason) = rating(checks, failedRounds: failedRounds)
        var requirements: [RequirementOutcome] = Requirement.allCases.filter { $0 != .overallQuality }.map { requirement in
            let own = checks.filter { $0.requirement == requirement.rawValue }
            let critical = own.filter { $0.verdict == .critical }.count
            return RequirementOutcome(requirement: requirement.rawValue, passed: own.isEmpty ? nil : critical == 0,
                                      checks: own.count, warnings: own.filter { $0.verdict == .warning }.count, critical: critical)
        }
        requirements.append(RequirementOutcome(requirement: Requirement.overallQuality.rawValue, passed: rating != .poor,
                                               checks: checks.count, warnings: checks.filter { $0.verdict == .warning }.count,
                                               critical: checks.filter { $0.verdict == .critical }.count))
        let points = checks.reduce(0.0) { $0 + ($1.verdict == .pass ? 1 : $1.verdict == .warning ? 0.5 : 0) }
        return ValidationOutcome(checks: checks, requirements: requirements, rating: rating, ratingReason: reason,
                                 qualityScore: checks.isEmpty ? 0 : points / Double(checks.count) * 100)
    }

    /// The quality rating, first rule that applies (docs/validation.md):
    /// 1. nothing compared: POOR if rounds failed, FAIR otherwise;
    /// 2. a critical check: POOR;
    /// 3. failed rounds: FAIR;
    /// 4. no warning and no counted change worse than 5%: EXCELLENT;
    /// 5. at least as many counted improvements as counted changes worse than 5%: GOOD;
    /// 6. otherwise FAIR.
    /// A change counts as `judgedPct`: none within noise, else the end of its interval nearest zero.
    public static func rating(_ checks: [ValidationCheck], failedRounds: Int = 0) -> (QualityRating, String) {
        if checks.isEmpty {
            return failedRounds > 0 ? (.poor, "nothing could be compared: \(failedRounds) round(s) failed")
                : (.fair, "nothing could be compared")
        }
        let critical = checks.filter { $0.verdict == .critical }.count
        if critical > 0 { return (.poor, "\(critical) of \(checks.count) checks critical") }
        if failedRounds > 0 { return (.fair, "\(failedRounds) round(s) failed") }
        let worse = checks.filter { $0.judgedRegressionPct > excellentBand }.count
        let improved = checks.filter { $0.judgedRegressionPct < 0 }.count
        let warnings = checks.filter { $0.verdict == .warning }.count
        if warnings == 0 && worse == 0 {
            return (.excellent, "every check improved or within \(Int(excellentBand))% of the baseline")
        }
        let tally = "\(improved) improved, \(worse) worse than \(Int(excellentBand))%, \(warnings) warning(s)"
        return improved >= worse ? (.good, "minor regressions, overall positive: \(tally)") : (.fair, "mixed: \(tally)")
    }
}

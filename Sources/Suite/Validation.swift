/// One metric of one benchmark, candidate against baseline, held to its thresholds.
public struct ValidationCheck: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case pass, warning, critical
    }

    public var benchmark: String
    /// throughput, latency (P95), memory (peak RSS), success_rate.
    public var metric: String
    public var baseline: Double
    public var candidate: Double
    /// (candidate − baseline) / baseline, in percent.
    public var changePct: Double
    public var warningPct: Double
    public var criticalPct: Double
    public var verdict: Verdict
}

public struct ValidationOutcome: Codable, Sendable {
    public var checks: [ValidationCheck]

    public var passed: Int { checks.filter { $0.verdict != .critical }.count }
    public var failed: Bool { checks.contains { $0.verdict == .critical } }
}

/// The seed's thresholds applied to each benchmark's change from the baseline. A throughput or
/// success-rate threshold is a fall (negative percent), a latency or memory threshold a rise; a
/// change past `warning` warns, past `critical` fails the run. Whether a change is beyond the
/// benchmark's own noise is the analysis's question (docs/suite.md).
enum Validation {
    /// Higher is better for these; lower for the others.
    static let higherIsBetter: Set<String> = ["throughput", "success_rate"]

    static func check(benchmark: String, metric: String, baseline: Double, candidate: Double,
                      threshold: ThresholdSpec) -> ValidationCheck? {
        guard baseline > 0, baseline.isFinite, candidate.isFinite else { return nil }
        let change = (candidate - baseline) / baseline * 100
        let worse: (Double) -> Bool = higherIsBetter.contains(metric) ? { change <= $0 } : { change >= $0 }
        let verdict: ValidationCheck.Verdict = worse(threshold.critical) ? .critical : worse(threshold.warning) ? .warning : .pass
        return ValidationCheck(benchmark: benchmark, metric: metric, baseline: baseline, candidate: candidate,
                               changePct: change, warningPct: threshold.warning, criticalPct: threshold.critical,
                               verdict: verdict)
    }

    /// The quality rating: EXCELLENT when every check is within 5% of the baseline or better, GOOD
    /// when no check is critical, FAIR when fewer than half are, POOR otherwise. A run with failed
    /// rounds is FAIR at best, and POOR when nothing could be compared.
    static func rating(_ outcome: ValidationOutcome, failures: Int = 0) -> String {
        let checks = outcome.checks
        if checks.isEmpty { return failures > 0 ? "POOR" : "FAIR" }
        if failures > 0 {
            let critical = checks.filter { $0.verdict == .critical }.count
            return critical * 2 < checks.count ? "FAIR" : "POOR"
        }
        let critical = checks.filter { $0.verdict == .critical }.count
        let within5 = checks.allSatisfy { check in
            higherIsBetter.contains(check.metric) ? check.changePct >= -5 : check.changePct <= 5
        }
        if critical == 0 && within5 { return "EXCELLENT" }
        if critical == 0 { return "GOOD" }
        return critical * 2 < checks.count ? "FAIR" : "POOR"
    }
}

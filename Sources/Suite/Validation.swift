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
    /// The analysis's 95% interval of the change, and its verdict (better, worse, within_noise): a
    /// change within noise passes whatever its size. Nil when the analysis had no blocks for it.
    public var ci95Pct: [Double]?
    public var significance: String?
}

public struct ValidationOutcome: Codable, Sendable {
    public var checks: [ValidationCheck]

    public var passed: Int { checks.filter { $0.verdict != .critical }.count }
    public var failed: Bool { checks.contains { $0.verdict == .critical } }
}

import Analysis

/// The seed's thresholds applied to each benchmark's change from the baseline. A throughput or
/// success-rate threshold is a fall (negative percent), a latency or memory threshold a rise; a
/// change past `warning` warns, past `critical` fails the run, unless the analysis found the change
/// within the benchmark's own noise (its 95% interval includes zero): then it passes (docs/suite.md).
enum Validation {
    /// Higher is better for these; lower for the others.
    static let higherIsBetter: Set<String> = ["throughput", "success_rate"]

    /// The analysis's delta each validation metric is judged with.
    static let deltaMetric: [String: String] = [
        "throughput": "throughput", "latency": "latency_p95_ms", "success_rate": "success_rate", "memory": "memory_bytes",
    ]

    static func check(benchmark: String, metric: String, baseline: Double, candidate: Double,
                      threshold: ThresholdSpec, delta: Delta? = nil) -> ValidationCheck? {
        guard baseline > 0, baseline.isFinite, candidate.isFinite else { return nil }
        let change = (candidate - baseline) / baseline * 100
        let worse: (Double) -> Bool = higherIsBetter.contains(metric) ? { change <= $0 } : { change >= $0 }
        var verdict: ValidationCheck.Verdict = worse(threshold.critical) ? .critical : worse(threshold.warning) ? .warning : .pass
        if delta?.verdict == .withinNoise { verdict = .pass }
        return ValidationCheck(benchmark: benchmark, metric: metric, baseline: baseline, candidate: candidate,
                               changePct: change, warningPct: threshold.warning, criticalPct: threshold.critical,
                               verdict: verdict, ci95Pct: delta?.ci95Pct, significance: delta?.verdict.rawValue)
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

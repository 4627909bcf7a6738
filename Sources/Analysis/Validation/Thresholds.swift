/// A metric's regression thresholds: the change in percent (against the baseline) that is a warning
/// and a critical regression, signed as the metric regresses (`-5` for throughput, `+10` for latency).
public struct ThresholdSpec: Sendable, Equatable, Codable {
    public var warning: Double
    public var critical: Double

    public init(warning: Double, critical: Double) {
        self.warning = warning
        self.critical = critical
    }
}

/// The thresholds table: which metrics have one, which way each regresses, and the seed's values.
public enum Thresholds {
    /// The metrics a config's `thresholds` may name.
    public static let metrics = ["throughput", "latency", "memory", "success_rate"]

    /// The metrics that regress when they fall (their thresholds are ≤ 0); the others regress when they rise.
    public static let falling: Set<String> = ["throughput", "success_rate"]

    /// The seed's table (config/default.json spells it out): throughput −5 / −15 %, latency +10 / +25 %,
    /// memory +20 / +50 %, success rate −2 / −5 %.
    public static let seed: [String: ThresholdSpec] = [
        "throughput": ThresholdSpec(warning: -5, critical: -15),
        "latency": ThresholdSpec(warning: 10, critical: 25),
        "memory": ThresholdSpec(warning: 20, critical: 50),
        "success_rate": ThresholdSpec(warning: -2, critical: -5),
    ]
}

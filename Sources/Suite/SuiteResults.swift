import Analysis
import Foundation
import Recording

/// One benchmark round: one architecture's run of one benchmark, in the order the rounds ran.
public struct BenchmarkRound: Codable, Sendable {
    public var benchmark: String
    public var architecture: String
    /// 1-based, per benchmark and architecture.
    public var round: Int
    public var startNs: UInt64
    public var endNs: UInt64
    public var result: BenchmarkResult?
    /// Why the round has no result (the benchmark threw, the architecture's processes died).
    public var error: String?
    /// The client's latencies of the round by power of two of µs (`[i]` counts [2^i, 2^(i+1)) µs,
    /// `[0]` also everything under 2 µs), summed over its loads' windows: mergeable across rounds.
    public var latencyHistogramLog2Us: [UInt64]
}

/// `comprehensive_results_*.json`: the seed's per-benchmark results under each architecture, the
/// rounds behind them, the kernel's view per benchmark, and the analysis.
public struct SuiteResults: Codable, Sendable {
    public var tool = "archbench"
    public var timestamp: String
    public var clock = "CLOCK_MONOTONIC"
    public var workload: String
    public var durationS: Double
    /// The baseline first, then the candidate.
    public var architectures: [String]
    public var baseline: String
    public var candidate: String
    public var probes: String
    /// How each architecture was run, where it says more than the config (a memory limit applied,
    /// or why not).
    public var notes: [String: String]
    /// `results[architecture][benchmark]`: the seed's shape, over the architecture's rounds.
    public var results: [String: [String: BenchmarkResult]]
    /// `latency_histograms[architecture][benchmark]`: the rounds' latency histograms merged (where
    /// each round is one load), from which `latency_stats` was read; mergeable with other runs'.
    public var latencyHistograms: [String: [String: LatencyHistogramRecord]]
    public var rounds: [BenchmarkRound]
    /// `kernel[architecture][benchmark]`: the probes' report over the benchmark's rounds (the
    /// `probe --json` shape, each process labelled).
    public var kernel: [String: [String: ProbeReport]]
    public var validation: ValidationOutcome
    public var analysis: SuiteAnalysis
    /// This run against the history; nil when it was not compared (an interrupted run).
    public var regression: RegressionAnalysis?
    /// The history file, and this run's id in it.
    public var history: HistoryReference?
    public var failures: [String]
}

/// `execution_summary_*.json`.
public struct ExecutionSummary: Codable, Sendable {
    public var timestamp: String
    public var executionTimeS: Double
    public var benchmarksExecuted: Int
    public var architectures: [String]
    public var workload: String
    public var rating: String
    public var exitCode: Int32
    public var validationChecksPassed: Int
    public var validationChecksTotal: Int
    /// The seed's requirements (no regression, memory efficiency, latency, scalability, overall quality).
    public var requirementsPassed: Int
    public var requirementsMeasured: Int
    public var regressions: [String]
    public var recommendations: [String]
    public var failures: [String]
    public var filesWritten: [String]
}

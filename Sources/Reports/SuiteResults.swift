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

    public init(benchmark: String, architecture: String, round: Int, startNs: UInt64, endNs: UInt64,
                result: BenchmarkResult? = nil, error: String? = nil, latencyHistogramLog2Us: [UInt64]) {
        self.benchmark = benchmark
        self.architecture = architecture
        self.round = round
        self.startNs = startNs
        self.endNs = endNs
        self.result = result
        self.error = error
        self.latencyHistogramLog2Us = latencyHistogramLog2Us
    }
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
    /// The config's thresholds as written (the seed's table fills the rest).
    public var thresholds: [String: ThresholdSpec]
    /// The gate's exit code when the results were written (130/143 when interrupted), and why.
    public var exitCode: Int32
    public var exitReason: String
    public var recommendations: [String]
    /// From the start of the run to the results.
    public var executionTimeS: Double

    public init(tool: String = "archbench", timestamp: String, clock: String = "CLOCK_MONOTONIC",
                workload: String, durationS: Double, architectures: [String], baseline: String,
                candidate: String, probes: String, notes: [String: String],
                results: [String: [String: BenchmarkResult]],
                latencyHistograms: [String: [String: LatencyHistogramRecord]], rounds: [BenchmarkRound],
                kernel: [String: [String: ProbeReport]], validation: ValidationOutcome,
                analysis: SuiteAnalysis, regression: RegressionAnalysis? = nil,
                history: HistoryReference? = nil, failures: [String],
                thresholds: [String: ThresholdSpec], exitCode: Int32, exitReason: String, recommendations: [String],
                executionTimeS: Double) {
        self.tool = tool
        self.timestamp = timestamp
        self.clock = clock
        self.workload = workload
        self.durationS = durationS
        self.architectures = architectures
        self.baseline = baseline
        self.candidate = candidate
        self.probes = probes
        self.notes = notes
        self.results = results
        self.latencyHistograms = latencyHistograms
        self.rounds = rounds
        self.kernel = kernel
        self.validation = validation
        self.analysis = analysis
        self.regression = regression
        self.history = history
        self.failures = failures
        self.thresholds = thresholds
        self.exitCode = exitCode
        self.exitReason = exitReason
        self.recommendations = recommendations
        self.executionTimeS = executionTimeS
    }
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

    public init(timestamp: String, executionTimeS: Double, benchmarksExecuted: Int, architectures: [String],
                workload: String, rating: String, exitCode: Int32, validationChecksPassed: Int,
                validationChecksTotal: Int, requirementsPassed: Int, requirementsMeasured: Int,
                regressions: [String], recommendations: [String], failures: [String], filesWritten: [String]) {
        self.timestamp = timestamp
        self.executionTimeS = executionTimeS
        self.benchmarksExecuted = benchmarksExecuted
        self.architectures = architectures
        self.workload = workload
        self.rating = rating
        self.exitCode = exitCode
        self.validationChecksPassed = validationChecksPassed
        self.validationChecksTotal = validationChecksTotal
        self.requirementsPassed = requirementsPassed
        self.requirementsMeasured = requirementsMeasured
        self.regressions = regressions
        self.recommendations = recommendations
        self.failures = failures
        self.filesWritten = filesWritten
    }
}

/// Where the history file is and this run's place in it.
public struct HistoryReference: Codable, Sendable {
    public var path: String
    /// This run's id; nil when it could not be recorded.
    public var run: Int64?
    public var host: String
    public var kernel: String
    public var commit: String?
    public var configDigest: String

    public init(path: String, run: Int64? = nil, host: String, kernel: String, commit: String? = nil,
                configDigest: String) {
        self.path = path
        self.run = run
        self.host = host
        self.kernel = kernel
        self.commit = commit
        self.configDigest = configDigest
    }
}

extension SuiteResults {
    /// The load generator's window period, read from the windows' spacing (it is configurable).
    public var loadWindowNs: UInt64 {
        var shortest = UInt64.max
        for round in rounds {
            for load in round.result?.loads ?? [] {
                for (earlier, later) in zip(load.windows, load.windows.dropFirst()) where later.startNs > earlier.startNs {
                    shortest = min(shortest, later.startNs - earlier.startNs)
                }
            }
        }
        // A millisecond at least, so that a corrupt file cannot ask for millions of columns.
        return shortest == .max ? 100_000_000 : max(shortest, 1_000_000)
    }
}

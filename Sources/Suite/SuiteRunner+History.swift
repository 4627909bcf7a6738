#if canImport(Glibc)
import Glibc
#endif
import Analysis
import ArchbenchCore
import Foundation
import History

/// Where the history file is and this run's place in it.
public struct HistoryReference: Codable, Sendable {
    public var path: String
    /// This run's id; nil when it could not be recorded.
    public var run: Int64?
    public var host: String
    public var kernel: String
    public var commit: String?
    public var configDigest: String
}

extension SuiteRunner {
    /// The history file: `--history`, or `history.sqlite` in the results directory.
    var historyPath: String { options.historyPath ?? "\(options.resultsDirectory)/history.sqlite" }

    /// Opens the history before anything runs: a damaged or foreign file is an environment error
    /// (exit 3) and is left as it is.
    func openHistory() throws -> HistoryStore {
        do {
            return try HistoryStore(path: historyPath)
        } catch {
            throw ArchbenchError.environment("\(error)")
        }
    }

    /// Every series value of this run: per architecture and benchmark its throughput, success rate,
    /// P50/P95/P99 latency, peak RSS where measured, and each REST endpoint's P95.
    static func historyMetrics(_ results: [String: [String: BenchmarkResult]], rounds: [BenchmarkRound]) -> [SeriesKey: Double] {
        var metrics: [SeriesKey: Double] = [:]
        for (architecture, byBenchmark) in results {
            for (benchmark, result) in byBenchmark {
                func put(_ metric: DeltaMetric, _ value: Double, endpoint: String = "") {
                    metrics[SeriesKey(architecture: architecture, benchmark: benchmark, metric: metric.rawValue, endpoint: endpoint)] = value
                }
                put(.throughput, result.throughput)
                put(.successRate, result.successRate)
                put(.latencyP50, result.latencyStats.p50)
                put(.latencyP95, result.latencyStats.p95)
                put(.latencyP99, result.latencyStats.p99)
                if case .number(let peak)? = result.metadata["peak_rss_bytes"] { put(.memory, peak) }
                let own = rounds.filter { $0.benchmark == benchmark && $0.architecture == architecture }.compactMap(\.result)
                for (endpoint, figures) in endpointP95(own) { put(.latencyP95, mean(figures), endpoint: endpoint) }
            }
        }
        return metrics
    }

    /// This run against the history of its workload, then recorded in it. A history that cannot
    /// be written to is said in the notes and makes the exit code 3; the results are written anyway.
    func compareWithHistory(_ store: HistoryStore, results: [String: [String: BenchmarkResult]], rounds: [BenchmarkRound],
                            validation: ValidationOutcome, run: (Int32, RegressionAnalysis) -> HistoryRun)
        -> (RegressionAnalysis, HistoryReference, recorded: Bool) {
        let metrics = Self.historyMetrics(results, rounds: rounds)
        let environment = RunEnvironment.current()
        var reference = HistoryReference(path: store.path, run: nil, host: environment.host, kernel: environment.kernel,
                                         commit: environment.commit, configDigest: config.digest)
        var regression: RegressionAnalysis
        do {
            let earlier = try store.runs(workload: options.workload.name)
            regression = RegressionDetector().analyse(history: try store.series(workload: options.workload.name), current: metrics,
                                                      run: nil, earlierRuns: earlier.count, thresholds: config.thresholds)
        } catch {
            var failed = RegressionAnalysis()
            failed.notes.append("the history could not be read: \(error)")
            return (failed, reference, false)
        }
        var entry = run(gateExitCode(validation, regression), regression)
        entry.host = environment.host
        entry.kernel = environment.kernel
        entry.commit = environment.commit
        entry.configDigest = config.digest
        do {
            let id = try store.record(entry, metrics: metrics)
            reference.run = id
            for index in regression.changePoints.indices where regression.changePoints[index].run == -1 {
                regression.changePoints[index].run = id
            }
            return (regression, reference, true)
        } catch {
            regression.notes.append("this run could not be recorded: \(error)")
            return (regression, reference, false)
        }
    }

    /// 1 when a validation check or a history regression is critical, 0 otherwise.
    func gateExitCode(_ validation: ValidationOutcome, _ regression: RegressionAnalysis?) -> Int32 {
        validation.failed || regression?.critical == true ? 1 : 0
    }
}

/// The machine and the code a run ran on, as the history records them.
struct RunEnvironment {
    var host: String
    var kernel: String
    var commit: String?

    static func current() -> RunEnvironment {
        var names = utsname()
        uname(&names)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return RunEnvironment(host: text(names.nodename), kernel: text(names.release), commit: commit())
    }

    /// The working directory's git commit, else the CI's (GITHUB_SHA, CI_COMMIT_SHA, GIT_COMMIT); nil outside both.
    static func commit() -> String? {
        if let git = ["/usr/bin/git", "/bin/git", "/usr/local/bin/git"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: git)
            process.arguments = ["rev-parse", "--short=12", "HEAD"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if process.terminationStatus == 0, !text.isEmpty { return text }
            }
        }
        let environment = ProcessInfo.processInfo.environment
        return ["GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Analysis
import ArchbenchCore
import Foundation
import Reports
import History

extension SuiteRunner {
    /// The history file: `--history`, or `history.sqlite` in the results directory.
    var historyPath: String { options.historyPath ?? "\(options.resultsDirectory)/history.sqlite" }

    /// Opens the history before anything runs: a damaged or foreign file is an environment error
    /// (exit 3) and is left as it is.
    ///
    /// Runs open it one at a time, under a lock on its directory: two runs opening a new history at
    /// once would both find it without tables and both create them, and the second would fail (the
    /// migrator looks for its tables before its transaction). The lock is held only while opening.
    func openHistory() throws -> HistoryStore {
        let directory = (historyPath as NSString).deletingLastPathComponent
        let lock = Self.lock(directory: directory.isEmpty ? "." : directory)
        defer { if lock >= 0 { close(lock) } }
        do {
            return try HistoryStore(path: historyPath)
        } catch {
            throw ArchbenchError.environment("\(error)")
        }
    }

    /// How long a run waits for another to open the history before it opens it all the same.
    static let historyLockTimeout: TimeInterval = 30

    /// An exclusive flock(2) on `path`, a directory (made if missing), or -1 where there is none to
    /// be had (a file system without flock, a directory that cannot be opened): the caller goes on
    /// unlocked. Closing the descriptor releases it.
    static func lock(directory path: String) -> Int32 {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        let deadline = Date().addingTimeInterval(historyLockTimeout)
        while flock(fd, LOCK_EX | LOCK_NB) == -1 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                close(fd)
                return -1
            }
            usleep(10_000)
        }
        return fd
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

    /// This run against the history of its workload, then recorded in it (even when the history
    /// could not be read). `failed` says that either step failed; the notes say which.
    func compareWithHistory(_ store: HistoryStore, results: [String: [String: BenchmarkResult]], rounds: [BenchmarkRound],
                            entry: (RegressionAnalysis) -> HistoryRun) -> (RegressionAnalysis, HistoryReference, failed: Bool) {
        let metrics = Self.historyMetrics(results, rounds: rounds)
        let environment = RunEnvironment.current()
        var reference = HistoryReference(path: store.path, run: nil, host: environment.host, kernel: environment.kernel,
                                         commit: environment.commit, configDigest: config.digest)
        var regression = RegressionAnalysis()
        var failed = false
        do {
            let earlier = try store.runs(workload: options.workload.name)
            regression = RegressionDetector().analyse(history: try store.series(workload: options.workload.name), current: metrics,
                                                      run: nil, earlierRuns: earlier.count, thresholds: config.thresholds)
            let others = earlier.filter { $0.configDigest != config.digest || $0.host != environment.host }.count
            if others > 0 {
                regression.notes.append("\(others) of the \(earlier.count) earlier runs had another config or host: they are compared all the same")
            }
        } catch {
            regression.notes.append("the history could not be read, so this run was not compared with it: \(error)")
            failed = true
        }
        var run = entry(regression)
        run.host = environment.host
        run.kernel = environment.kernel
        run.commit = environment.commit
        run.configDigest = config.digest
        do {
            let id = try store.record(run, metrics: metrics)
            reference.run = id
            for index in regression.changePoints.indices where regression.changePoints[index].run == RegressionDetector.thisRun {
                regression.changePoints[index].run = id
            }
        } catch {
            regression.notes.append("this run could not be recorded in the history: \(error)")
            failed = true
        }
        return (regression, reference, failed)
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

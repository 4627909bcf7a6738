#if canImport(Glibc)
import Glibc
#endif
import Analysis
import ArchbenchCore
import Foundation
import Load
import Probes
import Recording
import Reports
import History

/// What `archbench run` was asked for.
public struct SuiteOptions: Sendable {
    public var workload = WorkloadProfile.default
    /// Seconds of load per benchmark round.
    public var duration = 5.0
    public var resultsDirectory = "results"
    /// `--no-memory` leaves out the memory_usage benchmark.
    public var memory = true
    public var visualizations = true
    public var probes = true
    /// `--require-probes`: without them, exit 3 instead of going on client-side only.
    public var requireProbes = false
    public var syscalls = false
    public var btfPath: String?
    public var historyPath: String?
    public var json = false
    /// Rounds per architecture and benchmark, alternating A B B A … so drift hits both alike.
    public var rounds = 3
    /// Sections a user adds to the dashboard and the CI summary (the custom-report hook).
    public var reportSections: [any ReportSection] = []

    public init() {}
}

/// How a run ended.
public struct SuiteOutcome: Sendable {
    public var exitCode: Int32
    public var summary: ExecutionSummary
    public var resultsPath: String
}

/// `archbench run`: both architectures, every benchmark in alternating rounds, probed, validated,
/// written; the seed's console on the way.
public final class SuiteRunner {
    let config: RunConfig
    var options: SuiteOptions
    let registry: BenchmarkRegistry
    let console: SuiteConsole

    public init(config: RunConfig, options: SuiteOptions, registry: BenchmarkRegistry = .standard) {
        self.config = config
        self.options = options
        self.registry = registry
        console = SuiteConsole(json: options.json)
    }

    public func run() throws -> SuiteOutcome {
        let started = Date()
        let directory = options.resultsDirectory
        try Self.prepare(directory: directory)
        // Probes refused (with --require-probes) end the run before the history is created.
        var probes = try probeSettings()
        let history = try openHistory()
        // What the spawned targets print, kept beside the results rather than mixed into the console.
        // Created now, exclusively, it is also what makes the run's stamp its own in the directory.
        let (stamp, targetsLog) = try Self.claimStamp(ReportSet.Paths.stamp(started), in: directory)
        let spawns = config.architectures.contains { if case .command = $0.processes { true } else { false } }
        // Without a command to write to it, the log was only the claim.
        defer { if !spawns { unlink(targetsLog) } }

        console.line("🚀 Starting comprehensive backend performance benchmark comparison")
        console.line(SuiteConsole.rule)
        console.line("")
        console.line("📋 Generating optimized benchmark configurations...")
        for spec in config.architectures {
            let role = spec.name == config.baseline.name ? "baseline" : "candidate"
            console.line("  \(spec.name) (\(role)): \(spec.baseURL), \(spec.websocketURL), pool \(spec.connectionPoolSize)")
        }
        let benchmarks = registry.benchmarks.filter { options.memory || $0.name != "memory_usage" }

        let interrupted = InterruptFlag()
        let trap = SignalTrap(signals: [SIGINT, SIGTERM]) { interrupted.raise($0) }
        defer { trap.cancel() }

        var sessions: [String: ArchitectureSession] = [:]
        var notes: [String: String] = [:]
        defer { sessions.values.forEach { _ = $0.stop() } }
        func startSessions() throws {
            for spec in config.architectures {
                sessions[spec.name] = try ArchitectureSession(spec: spec, probes: probes,
                                                              memoryLimitBytes: options.workload.memoryLimitBytes,
                                                              output: targetsLog,
                                                              interrupted: { interrupted.signal != nil }) { console.line($0) }
                notes[spec.name] = sessions[spec.name]?.memoryLimitNote.map { "memory \($0)" }
            }
        }
        do {
            try startSessions()
        } catch let failure as ProbeError where failure.isProbeUnavailable && !options.requireProbes {
            // The kernel refused something the privilege check could not foresee (a program type,
            // an attach): the client side still runs, and says so.
            sessions.values.forEach { _ = $0.stop() }
            sessions = [:]
            probes = nil
            console.line("probes: skipped (\(failure)); the client-side results are complete")
            try startSessions()
        }
        // Said once the sessions are up: only then is it known whether the kernel took the probes.
        console.line("  workload \(options.workload.name), \(benchmarks.count) benchmarks × \(options.rounds) rounds"
            + " of \(ArchitectureSession.seconds(options.duration * options.workload.durationScale)) s per architecture;"
            + " probes: \(probes == nil ? "off" : "on")")
        console.line("🔧 Executing performance benchmarks...")
        var rounds: [BenchmarkRound] = []
        var results: [String: [String: BenchmarkResult]] = [:]
        var kernel: [String: [String: ProbeReport]] = [:]
        var histograms: [String: [String: LatencyHistogramRecord]] = [:]
        var failures: [String] = []
        var timelines: [String: [String: [RoundTimeline]]] = [:]
        var gone: Set<String> = []
        for benchmark in benchmarks where interrupted.signal == nil {
            console.line("  Running \(benchmark.name) benchmark...")
            var slices: [String: [ProbeRecording]] = [:]
            var mine: [BenchmarkRound] = []
            var sliceOfRound: [Int: ProbeRecording] = [:]
            for order in Self.order(config.architectures.map(\.name), rounds: options.rounds) where interrupted.signal == nil {
                guard let session = sessions[order.architecture] else { continue }
                let (round, slice) = runRound(benchmark, session: session, round: order.round)
                if let slice {
                    slices[order.architecture, default: []].append(slice)
                    sliceOfRound[mine.count] = slice
                }
                if let why = session.gone, gone.insert(order.architecture).inserted {
                    console.line("  ⚠️  \(order.architecture): \(why); its remaining rounds fail without running")
                }
                if let error = round.error {
                    console.line("  ❌ \(order.architecture) round \(order.round): \(error)")
                    failures.append("\(benchmark.name) on \(order.architecture), round \(order.round): \(error)")
                }
                mine.append(round)
            }
            rounds += mine
            for spec in config.architectures {
                let own = mine.filter { $0.architecture == spec.name }
                let services = sessions[spec.name]?.serviceLabels ?? [:]
                let report = ProbeRecording.merging(slices[spec.name] ?? []).map {
                    Self.labelled(ProbeAnalysis.report(of: $0), services: services)
                }
                if let report { kernel[spec.name, default: [:]][benchmark.name] = report }
                timelines[spec.name, default: [:]][benchmark.name] = mine.indices.filter { mine[$0].architecture == spec.name }
                    .map { index in
                        let round = mine[index]
                        return RoundTimeline(startNs: round.startNs, endNs: round.endNs, loads: round.result?.loads ?? [],
                                             recording: sliceOfRound[index],
                                             pauses: (report?.pauses ?? []).filter { $0.endNs > round.startNs && $0.startNs < round.endNs })
                    }
                guard var result = Self.combine(own.compactMap(\.result)) else { continue }
                if let merged = Self.mergedHistogram(own.compactMap(\.result)) {
                    histograms[spec.name, default: [:]][benchmark.name] = merged
                }
                if benchmark.name == "memory_usage", let report {
                    Self.addMemory(report, to: &result, steadyRSS: sessions[spec.name]?.residentBytes ?? [:])
                }
                results[spec.name, default: [:]][benchmark.name] = result
                let unit = result.metadata["unit"].flatMap { if case .text(let unit) = $0 { return " \(unit)/s" } else { return nil } } ?? ""
                console.line(String(format: "  ✅ Completed - %@: Throughput: %.1f%@, Avg Latency: %.1fms, P95: %.1fms, Success: %.1f%%",
                                    spec.name, result.throughput, unit, result.latencyStats.mean, result.latencyStats.p95,
                                    result.successRate * 100))
            }
        }
        if let signal = interrupted.signal {
            console.line("⚠️  \(signalName(signal)): stopping; the benchmarks run so far are written")
            failures.append("interrupted by \(signalName(signal))")
        }
        // The targets are stopped and the probes detached while the results are analysed and
        // written: a target slow to exit holds up neither.
        let shutdown = SessionShutdown(Array(sessions.values))
        sessions = [:]
        let paths = ReportSet.Paths(directory: directory, stamp: stamp)
        let timestamp = ISO8601DateFormatter().string(from: started)
        func resultsDocument(validation: ValidationOutcome, analysis: SuiteAnalysis, regression: RegressionAnalysis? = nil,
                             history: HistoryReference? = nil, exitCode: Int32, exitReason: String,
                             recommendations: [String] = []) -> SuiteResults {
            SuiteResults(
                timestamp: timestamp, workload: options.workload.name,
                durationS: options.duration, architectures: config.architectures.map(\.name), baseline: config.baseline.name,
                candidate: config.candidate.name, probes: probes == nil ? "off" : "on", notes: notes, results: results,
                latencyHistograms: histograms, rounds: rounds,
                kernel: kernel, validation: validation, analysis: analysis, regression: regression, history: history,
                failures: failures, thresholds: config.thresholds, exitCode: exitCode,
                exitReason: exitReason, recommendations: recommendations,
                executionTimeS: Date().timeIntervalSince(started))
        }
        if let signal = interrupted.signal {
            // What ran is on disk before the analysis, which takes a while on a long run: a harder
            // kill during it still leaves the measurements. The complete file replaces this one.
            let name = signalName(signal)
            var analysis = SuiteAnalysis()
            analysis.notes = ["not analysed: written at \(name), before the analysis, whose results replace this file when it is done"]
            var validation = Validation.outcome([], failedRounds: rounds.filter { $0.error != nil }.count)
            validation.ratingReason = "not validated: written at \(name), before the validation"
            let early = resultsDocument(validation: validation, analysis: analysis, exitCode: 128 + signal, exitReason: "interrupted")
            ReportSet.Writer { _ in }.emit(paths.results) { try JSONCoding.encoder().encode(early) }
        }

        console.line("")
        console.line("🧮 Analysing differences, slow requests, memory growth and pauses...")
        let analysis = analyse(results, timelines: timelines, kernel: kernel, benchmarks: benchmarks.map(\.name), rounds: rounds)
        for line in Self.analysisLines(analysis, architectures: config.architectures.map(\.name)) { console.line(line) }
        console.line("✅ Validating performance requirements...")
        let validation = validate(results, rounds: rounds, benchmarks: benchmarks.map(\.name), deltas: analysis.deltas,
                                  failedRounds: rounds.filter { $0.error != nil }.count)
        let noise = validation.checks.filter { $0.significance == DeltaVerdict.withinNoise.rawValue }.count
        console.line("  \(validation.passed) of \(validation.checks.count) checks passed (\(noise) of them within noise)")
        for requirement in validation.requirements {
            let mark = requirement.passed.map { $0 ? "✅" : "❌" } ?? "➖"
            console.line("  \(mark) \(requirement.requirement): \(requirement.checks) checks, \(requirement.warnings) warning(s),"
                + " \(requirement.critical) critical" + (requirement.passed == nil ? " (not measured)" : ""))
        }
        for check in validation.checks where check.verdict == .critical { console.line("  🔴 \(check.sentence)") }
        console.line("  rating \(validation.rating.rawValue): \(validation.ratingReason)")

        console.line("🔍 Performing regression analysis...")
        let resultsPath = "\(directory)/comprehensive_results_\(stamp).json"
        var regression: RegressionAnalysis?
        var historyReference: HistoryReference?
        var historyFailed = false
        if interrupted.signal != nil {
            console.line("  skipped: an interrupted run is neither compared with the history nor recorded in it")
        } else {
            let (found, reference, failed) = compareWithHistory(history, results: results, rounds: rounds) { found in
                HistoryRun(startedAt: timestamp, host: "", kernel: "", commit: nil, workload: options.workload.name, configDigest: "",
                           baseline: config.baseline.name, candidate: config.candidate.name, rating: validation.rating.rawValue,
                           exitCode: Self.gate(validation, found, failures: failures, historyFailed: false).code,
                           checksPassed: validation.passed, checksTotal: validation.checks.count,
                           criticalRegressions: found.findings.filter { $0.severity == .critical }.count, resultsFile: resultsPath,
                           durationS: Date().timeIntervalSince(started))
            }
            regression = found
            historyReference = reference
            historyFailed = failed
            for line in Self.regressionLines(found, reference: reference) { console.line(line) }
        }

        console.line("📊 Generating performance reports...")
        let gate = Self.gate(validation, regression, failures: failures, historyFailed: historyFailed)
        var exitCode: Int32 = interrupted.signal.map { 128 + $0 } ?? gate.code
        let recommendations = Self.recommendations(validation, failures: failures, candidate: config.candidate.name, analysis: analysis)
            + Self.recommendations(regression, analysis: analysis)
            + Self.recommendations(analysis, architectures: config.architectures.map(\.name))
        let document = resultsDocument(validation: validation, analysis: analysis, regression: regression, history: historyReference,
                                       exitCode: exitCode, exitReason: interrupted.signal != nil ? "interrupted" : gate.reason,
                                       recommendations: recommendations)
        var unwritable: [String] = []
        let writer = ReportSet.Writer { [console] line in
            if line.hasPrefix("  ❌ cannot write ") { unwritable.append(String(line.dropFirst("  ❌ ".count))) }
            console.line(line)
        }
        writer.emit(paths.results) { try JSONCoding.encoder().encode(document) }
        if writer.unwritten.contains(paths.results), let run = historyReference?.run {
            // The history must not point at a results file that does not exist.
            do {
                try history.delete(run: run)
                console.line("  the run was taken out of the history again (#\(run)): its results file is missing")
            } catch {
                console.line("  ❌ the history keeps run #\(run), whose results file is missing: \(error)")
            }
        }
        let targets = spawns ? [targetsLog] : []
        let reportOptions = ReportSet.Options(visualizations: options.visualizations, sections: options.reportSections)
        let sections = ReportSet.sections(reportOptions, document)
        ReportSet.write(document, to: paths, options: reportOptions, sections: sections, before: writer.written,
                        after: [paths.summary] + targets, with: writer)
        console.line("📈 Creating performance visualizations...")
        if options.visualizations {
            ReportSet.writeVisualizations(document, to: paths, sections: sections, with: writer)
        } else {
            console.line("  skipped (--no-visualizations)")
        }

        if interrupted.signal == nil, !writer.unwritten.isEmpty { exitCode = ArchbenchExitCode.environment.rawValue }
        shutdown.wait()
        var summary = ExecutionSummary(document, exitCode: exitCode, files: writer.written + targets + [paths.summary])
        summary.executionTimeS = Date().timeIntervalSince(started)
        writer.emit(paths.summary) { try JSONCoding.encoder().encode(summary) }
        if writer.unwritten.contains(paths.summary) {
            summary.filesWritten.removeLast()
            if interrupted.signal == nil { exitCode = ArchbenchExitCode.environment.rawValue }
            summary.exitCode = exitCode
        }
        printSummary(summary, validation: validation, results: results)
        if let first = unwritable.first {
            // The exit code says the environment failed; this says where, wherever the console went.
            FileHandle.standardError.write(Data(("archbench: error: \(unwritable.count) file(s) of the run could not be written;"
                + " the first: \(first)\n").utf8))
        }
        return SuiteOutcome(exitCode: exitCode, summary: summary, resultsPath: paths.results)
    }

    /// The gate's exit code and why: 1 when a check or a regression against the history is
    /// critical or a round failed; else 3 when the history could not be read or written; else 0
    /// (docs/validation.md). A result file that cannot be written makes it 3 whatever it was.
    static func gate(_ validation: ValidationOutcome, _ regression: RegressionAnalysis?, failures: [String],
                     historyFailed: Bool) -> (code: Int32, reason: String) {
        var reasons: [String] = []
        let critical = validation.checks.filter { $0.verdict == .critical }.count
        if critical > 0 { reasons.append("\(critical) critical check(s)") }
        let regressions = regression?.findings.filter { $0.severity == .critical }.count ?? 0
        if regressions > 0 { reasons.append("\(regressions) critical regression(s) against the history") }
        if !failures.isEmpty { reasons.append("\(failures.count) round(s) failed") }
        if !reasons.isEmpty { return (ArchbenchExitCode.validationFailed.rawValue, reasons.joined(separator: ", ")) }
        if historyFailed { return (ArchbenchExitCode.environment.rawValue, "the run history could not be read or written") }
        return (ArchbenchExitCode.success.rawValue, "no critical check, no critical regression against the history")
    }

    // MARK: - Steps

    /// Probes for the run, or nil: off by request, or not possible here (said in one line; with
    /// `--require-probes` that is an environment error).
    func probeSettings() throws -> ProbeSettings? {
        guard options.probes else { return nil }
        var missing = Privileges.missingForTracing()
        let btf = options.btfPath ?? "/sys/kernel/btf/vmlinux"
        if missing == nil, !FileManager.default.fileExists(atPath: btf) {
            missing = options.btfPath == nil ? "the kernel exposes no BTF (\(btf))" : "no BTF file at \(btf), given by --btf"
        }
        if missing == nil { missing = KernelProbe.bpfRefusal() }
        if let missing {
            if options.requireProbes { throw ArchbenchError.environment("probes required but unavailable: \(missing)") }
            console.line("probes: skipped (\(missing)); the client-side results are complete")
            return nil
        }
        return ProbeSettings(btfPath: options.btfPath, syscalls: options.syscalls)
    }

    /// A results directory archbench can write to, made if missing; an environment error otherwise,
    /// before anything runs.
    static func prepare(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ArchbenchError.environment("cannot create the results directory \(directory): \(error.localizedDescription)")
        }
        guard access(directory, W_OK) == 0 else {
            throw ArchbenchError.environment("the results directory \(directory) is not writable")
        }
    }

    /// A stamp no other run has in `directory`, and the run's targets log: `second` (YYYYMMDD_HHMMSS),
    /// or `second_2`, `second_3`, … when another run started in the same second. The log is created
    /// with `O_CREAT|O_EXCL`, so of two runs at once only one gets a stamp; one whose results are
    /// already there is passed over too (its run removed a log nothing was written to).
    static func claimStamp(_ second: String, in directory: String) throws -> (stamp: String, targetsLog: String) {
        for attempt in 1...100 {
            let stamp = attempt == 1 ? second : "\(second)_\(attempt)"
            let paths = ReportSet.Paths(directory: directory, stamp: stamp)
            if FileManager.default.fileExists(atPath: paths.results) || FileManager.default.fileExists(atPath: paths.summary) { continue }
            let log = "\(directory)/targets_\(stamp).log"
            let fd = open(log, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 {
                close(fd)
                return (stamp, log)
            }
            guard errno == EEXIST || errno == ELOOP else {
                throw ArchbenchError.environment("cannot create \(log): \(String(cString: strerror(errno)))")
            }
        }
        throw ArchbenchError.environment("no free stamp in \(directory): 100 runs started at \(second)")
    }

    /// A B B A …: each architecture's round r, alternating which goes first.
    static func order(_ architectures: [String], rounds: Int) -> [(architecture: String, round: Int)] {
        (1...max(1, rounds)).flatMap { round in
            (round % 2 == 1 ? architectures : architectures.reversed()).map { ($0, round) }
        }
    }

    /// One round: the benchmark against one architecture, with the kernel's view of it.
    func runRound(_ benchmark: any Benchmark, session: ArchitectureSession, round: Int) -> (BenchmarkRound, ProbeRecording?) {
        let spec = session.spec
        let target = BenchmarkTarget(architecture: spec.name, baseURL: spec.baseURL, websocketURL: spec.websocketURL,
                                     connectionPoolSize: spec.connectionPoolSize)
        // stress_test runs longer than --duration says, by its scale.
        let total = options.duration * options.workload.durationScale
        let label = "\(benchmark.name) · \(spec.name) · round \(round)"
        let context = BenchmarkContext(target: target, profile: options.workload, duration: total) { [console] live in
            let rate = live.elapsedSeconds > 0 ? Double(live.completed) / live.elapsedSeconds : 0
            console.progress(String(format: "  [%@] %.1f / %.0f s, %.0f/s, %llu errors", label, live.elapsedSeconds, total, rate, live.errors))
        }
        // An architecture whose process has died is not loaded again: the round fails at once, saying why.
        if let gone = session.gone {
            let now = MonotonicClock.nowNs
            return (BenchmarkRound(benchmark: benchmark.name, architecture: spec.name, round: round, startNs: now, endNs: now,
                                   error: "\(gone) before the round; not run", latencyHistogramLog2Us: []), nil)
        }
        let before = try? session.snapshot()
        let startNs = MonotonicClock.nowNs
        var result: BenchmarkResult?
        var error: String?
        do {
            result = try benchmark.run(context)
        } catch let failure {
            error = "\(failure)"
        }
        let endNs = MonotonicClock.nowNs
        // A round its process died in measured a server going down, not the architecture.
        if let gone = session.gone {
            error = "\(gone) during the round" + (error.map { " (the benchmark: \($0))" } ?? "")
            result = nil
        }
        // A round in which no request succeeded measured no service: it fails, naming the errors it
        // met, so that a server that answers nothing cannot pass the gate. Its figures stay.
        if error == nil, let measured = result, measured.successRate == 0 {
            error = "no request succeeded" + Self.errorKinds(measured.loads)
        }
        let after = try? session.snapshot()
        let slice = before.flatMap { before in after.map { $0.since(before) } }
        let histogram = Self.histogram(result?.loads ?? [])
        return (BenchmarkRound(benchmark: benchmark.name, architecture: spec.name, round: round, startNs: startNs,
                               endNs: endNs, result: result, error: error, latencyHistogramLog2Us: histogram), slice)
    }

    /// " (connect 12, timeout 3)": the loads' errors by kind, or nothing when there were none.
    static func errorKinds(_ loads: [LoadResult]) -> String {
        let counts = loads.map(\.errors).reduce(ErrorCounts(), +).byKind.filter { $0.count > 0 }.map { "\($0.kind) \($0.count)" }
        return counts.isEmpty ? "" : " (" + counts.joined(separator: ", ") + ")"
    }

    static func histogram(_ loads: [LoadResult]) -> [UInt64] {
        var counts: [UInt64] = []
        for window in loads.flatMap(\.windows) {
            if counts.count < window.log2Counts.count { counts += Array(repeating: 0, count: window.log2Counts.count - counts.count) }
            for (index, count) in window.log2Counts.enumerated() { counts[index] += UInt64(count) }
        }
        return counts
    }

    /// An architecture's rounds as one result: the means of the rounds' figures (each round is in
    /// `rounds`, with its loads).
    /// An architecture's rounds as one result. Throughput and success rate are the means of the
    /// rounds'. Latency is read from the rounds' histograms merged, when each round is one load whose
    /// latency is the benchmark's (so P99 is the P99 of every request of every round); otherwise (a
    /// sweep, a custom benchmark) it is the means of the rounds' figures. Counts in the metadata
    /// (attempted, succeeded, errors, models) are summed; the rest is the last round's.
    static func combine(_ results: [BenchmarkResult]) -> BenchmarkResult? {
        guard let last = results.last else { return nil }
        func mean(_ value: (BenchmarkResult) -> Double) -> Double { Self.mean(results.map(value)) }
        var metadata = last.metadata
        metadata["rounds"] = .number(Double(results.count))
        for key in ["attempted", "succeeded", "errors", "models"] {
            let values = results.compactMap { result -> Double? in
                if case .number(let value)? = result.metadata[key] { return value } else { return nil }
            }
            if values.count == results.count { metadata[key] = .number(values.reduce(0, +)) }
        }
        var latency = BenchmarkLatency(mean: mean(\.latencyStats.mean), p50: mean(\.latencyStats.p50),
                                       p95: mean(\.latencyStats.p95), p99: mean(\.latencyStats.p99),
                                       max: results.map(\.latencyStats.max).max() ?? 0)
        if let merged = mergedHistogram(results), merged.count > 0 {
            func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
            latency = BenchmarkLatency(mean: merged.meanNs / 1e6, p50: ms(merged.percentileNs(50)),
                                       p95: ms(merged.percentileNs(95)), p99: ms(merged.percentileNs(99)),
                                       max: ms(merged.maxNs))
            metadata["latency_from"] = .text("merged histogram of \(results.count) rounds")
        } else {
            metadata["latency_from"] = .text("mean of \(results.count) rounds")
        }
        return BenchmarkResult(throughput: mean(\.throughput), latencyStats: latency, successRate: mean(\.successRate),
                               metadata: metadata, loads: [])
    }

    /// The rounds' latency histograms as one, when each round is a single load (see `combine`).
    static func mergedHistogram(_ results: [BenchmarkResult]) -> LatencyHistogramRecord? {
        guard results.allSatisfy({ $0.loads.count == 1 }) else { return nil }
        let histograms = results.compactMap { $0.loads.first?.latencyHistogram }
        guard histograms.count == results.count else { return nil }
        return LatencyHistogramRecord.merging(histograms)
    }

    /// The reference backends' services are labelled by their service (users, orders, …); other
    /// processes keep their architecture's label (monolith, gateway, or the architecture's name).
    static func labelled(_ report: ProbeReport, services: [Int32: String]) -> ProbeReport {
        var report = report
        for index in report.processes.indices {
            if let service = services[report.processes[index].pid] { report.processes[index].label = service }
        }
        return report
    }

    /// memory_usage's figures from the probes, over the benchmark's rounds: per process its peak,
    /// its average (of its RSS points, or its size when it never changed, read from /proc by the
    /// session) and its growth (bytes/s, the leak detector's Theil–Sen slope of its RSS floor, 0 when
    /// it has too few points); for the architecture the sums over its processes.
    static func addMemory(_ report: ProbeReport, to result: inout BenchmarkResult, steadyRSS: [Int32: UInt64]) {
        var peak = 0.0, average = 0.0, growth = 0.0
        for process in report.processes {
            let points = process.rssTimeline.filter { $0.count == 2 }
            let steady = steadyRSS[process.pid].map { Double($0) }
            guard let processPeak = process.rssBytes.map({ Double($0.max) }) ?? steady else { continue }
            let processAverage = points.isEmpty ? (process.rssBytes.map { Double($0.last) } ?? processPeak)
                : points.map { Double($0[1]) }.reduce(0, +) / Double(points.count)
            let verdict = LeakDetector().detect(points.map { (ns: $0[0], bytes: $0[1]) }, startNs: report.startNs, endNs: report.endNs)
            let slope = verdict.reason == nil ? verdict.growthBytesPerS : 0
            let name = "\(process.label ?? process.comm).\(process.pid)"
            result.metadata["rss_peak_bytes.\(name)"] = .number(processPeak)
            result.metadata["rss_average_bytes.\(name)"] = .number(processAverage)
            result.metadata["rss_growth_bytes_per_s.\(name)"] = .number(slope)
            peak += processPeak
            average += processAverage
            growth += slope
        }
        result.metadata["peak_rss_bytes"] = .number(peak)
        result.metadata["average_rss_bytes"] = .number(average)
        result.metadata["rss_growth_bytes_per_s"] = .number(growth)
        result.metadata["rss_growth_method"] = .text("theil-sen on each process's rss floor after a 20% warm-up, summed")
        result.metadata["processes"] = .number(Double(report.processes.count))
    }

    /// The validation's advice: critical checks first, each citing the kernel-side cause the
    /// analysis found for the candidate's slow requests in that benchmark, if any.
    static func recommendations(_ validation: ValidationOutcome, failures: [String], candidate: String,
                                analysis: SuiteAnalysis = SuiteAnalysis()) -> [String] {
        var lines: [String] = []
        if !failures.isEmpty { lines.append("❌ \(failures.count) benchmark round(s) failed: see failures in the results") }
        let critical = validation.checks.filter { $0.verdict == .critical }
        if critical.isEmpty, failures.isEmpty {
            lines.append("✅ The \(candidate) refactoring holds up: no critical regression - proceed")
        }
        // One line per benchmark: its critical checks, then the kernel-side cause of its slow
        // requests when one was found and the checks are about speed (a memory footprint is not).
        for benchmark in critical.map(\.benchmark).reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
            let own = critical.filter { $0.benchmark == benchmark }
            let changes = own.map { String(format: "%@ %+.1f%%", $0.metric + ($0.endpoint.map { " \($0)" } ?? ""), $0.changePct) }
            let cause = own.contains { $0.threshold != "memory" } ? analysis.rootCauses[candidate]?[benchmark]?.first : nil
            lines.append("🔴 \(benchmark): \(changes.joined(separator: ", ")) (critical): "
                + (cause.map { "\($0.sentence(benchmark: benchmark)): \($0.advice)" } ?? "investigate before deploying"))
        }
        for check in validation.checks where check.verdict == .warning {
            lines.append(String(format: "📈 Consider: improve %@ (%+.1f%%)", check.name, check.changePct))
        }
        if let memory = validation.checks.first(where: { $0.threshold == "memory" }), !memory.withinNoise, memory.changePct <= -10 {
            lines.append(String(format: "💾 Significant memory improvement achieved (%+.1f%%)", memory.changePct))
        }
        return lines
    }

    /// The history's advice: each regression, citing the kernel-side cause of that benchmark's slow requests.
    static func recommendations(_ regression: RegressionAnalysis?, analysis: SuiteAnalysis) -> [String] {
        (regression?.findings ?? []).map { finding in
            let cause = finding.key.threshold == "memory" ? nil : analysis.rootCauses[finding.architecture]?[finding.benchmark]?.first
            return "\(finding.severity == .critical ? "🔴" : "🟡") against the history: \(finding.sentence)"
                + (cause.map { "; \($0.sentence(benchmark: finding.benchmark)): \($0.advice)" } ?? "")
        }
    }

    /// The console's account of the comparison with the history.
    static func regressionLines(_ regression: RegressionAnalysis, reference: HistoryReference) -> [String] {
        var lines = ["  history \(reference.path): \(regression.historyRuns) earlier run(s) of this workload"
            + (reference.run.map { "; this run is #\($0)" } ?? "; this run was not recorded")]
        for finding in regression.findings {
            lines.append("  \(finding.severity == .critical ? "🔴 CRITICAL" : "🟡 warning") \(finding.sentence)")
        }
        if regression.findings.isEmpty, regression.historyRuns > 0 { lines.append("  no regression against the history") }
        let here = regression.changePoints.filter { $0.run == reference.run }
        if !here.isEmpty { lines.append("  \(here.count) series change level at this run (E-divisive means)") }
        let worsening = regression.trends.filter { $0.direction == "worsening" }.count
        if worsening > 0 { lines.append("  \(worsening) series worsening over the last runs (Mann–Kendall)") }
        lines += regression.notes.map { "  note: \($0)" }
        return lines
    }

    func printSummary(_ summary: ExecutionSummary, validation: ValidationOutcome, results: [String: [String: BenchmarkResult]]) {
        // The median over the benchmarks: one benchmark's extreme change does not speak for all.
        func change(_ metric: String) -> String {
            let values = validation.checks.filter { $0.metric == metric && $0.endpoint == nil }.map(\.changePct).sorted()
            guard !values.isEmpty else { return "n/a" }
            let middle = values.count / 2
            let median = values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
            return String(format: "%+.1f%% (median over %d benchmark%@)", median, values.count, values.count == 1 ? "" : "s")
        }
        console.line("")
        console.line("🎯 BENCHMARK EXECUTION SUMMARY")
        console.line(SuiteConsole.rule)
        console.line(String(format: "⏱️  Execution Time: %.1f seconds", summary.executionTimeS))
        console.line("🔧 Benchmarks Executed: \(summary.benchmarksExecuted)")
        console.line("🏗️  Architectures Tested: \(summary.architectures.joined(separator: ", "))")
        console.line("")
        console.line("📊 PERFORMANCE OVERVIEW:")
        console.line("   Throughput Change: \(change("throughput"))")
        console.line("   Memory Change: \(change("memory_bytes"))")
        console.line("   Latency Change: \(change("latency_p95_ms")) at P95")
        console.line("")
        console.line("✅ VALIDATION RESULTS:")
        let total = max(summary.requirementsMeasured, 1)
        console.line(String(format: "   Success Rate: %.1f%% (%d/%d)", Double(summary.requirementsPassed) / Double(total) * 100,
                            summary.requirementsPassed, summary.requirementsMeasured))
        console.line("   Checks: \(summary.validationChecksPassed) of \(summary.validationChecksTotal) passed")
        console.line("   Rating: \(summary.rating); exit \(summary.exitCode)")
        console.line("")
        console.line("📋 KEY RECOMMENDATIONS:")
        summary.recommendations.forEach { console.line("   \($0)") }
        if options.json, let text = try? JSONCoding.string(summary) {
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

}

/// The architectures' sessions, stopped on a thread of their own while the run goes on to its
/// results; `wait` returns once every spawned target has exited and every probe is detached.
final class SessionShutdown: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Handed over: only the stopping thread touches them.
    private let sessions: [ArchitectureSession]

    init(_ sessions: [ArchitectureSession]) {
        self.sessions = sessions
        Thread { [self] in
            self.sessions.forEach { _ = $0.stop() }
            done.signal()
        }.start()
    }

    func wait() {
        done.wait()
        done.signal()
    }
}

/// The first SIGINT or SIGTERM of a run.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int32?

    var signal: Int32? { lock.withLock { first } }

    func raise(_ number: Int32) {
        lock.withLock { if first == nil { first = number } }
    }
}

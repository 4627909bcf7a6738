import Analysis
import ArchbenchCore
import Foundation

public enum ReportError: ArchbenchFailure {
    /// The file is not a results file archbench can read: what is wrong with it.
    case unreadable(String)
    /// Something built into archbench cannot be used.
    case damagedBuild(String)

    public var exitCode: ArchbenchExitCode {
        switch self {
        case .unreadable: return .usage
        case .damagedBuild: return .environment
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let why): return why
        case .damagedBuild(let what): return "this archbench build is damaged: \(what)"
        }
    }
}

/// Every report file of a run, made from its results alone: `archbench run` writes them after the
/// results file, `archbench report` from a results file.
public enum ReportSet {
    public struct Options: Sendable {
        /// The HTML and PNG files (`--no-visualizations` turns them off, as the seed does).
        public var visualizations = true
        /// Sections a user adds to the dashboard and the CI summary.
        public var sections: [any ReportSection] = []

        public init(visualizations: Bool = true, sections: [any ReportSection] = []) {
            self.visualizations = visualizations
            self.sections = sections
        }
    }

    /// The file names of one run's reports in `directory`, stamped `stamp` (YYYYMMDD_HHMMSS).
    public struct Paths: Sendable {
        public var directory: String
        public var stamp: String

        public init(directory: String, stamp: String) {
            self.directory = directory
            self.stamp = stamp
        }

        /// The stamp of files made at `date`: YYYYMMDD_HHMMSS, local time.
        public static func stamp(_ date: Date) -> String {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd_HHmmss"
            formatter.locale = Locale(identifier: "en_US_POSIX")
            return formatter.string(from: date)
        }

        func path(_ prefix: String, _ suffix: String) -> String { "\(directory)/\(prefix)_\(stamp).\(suffix)" }
        public var results: String { path("comprehensive_results", "json") }
        public var summary: String { path("execution_summary", "json") }
        public var validation: String { path("validation_report", "txt") }
        public var regression: String { path("regression_report", "txt") }
        public var junit: String { path("junit", "xml") }
        public var markdown: String { path("ci_summary", "md") }
        public var dashboard: String { path("dashboard", "html") }
        public var heatmap: String { path("latency_heatmap", "png") }
        public var memory: String { path("memory_analysis", "html") }
        public var trace: String { path("trace", "json") }
    }

    /// Writes each file on its own, atomically, so that one failure does not keep the others from
    /// being written; says each as it goes.
    public final class Writer {
        public private(set) var written: [String] = []
        public private(set) var unwritten: [String] = []
        let progress: (String) -> Void

        public init(progress: @escaping (String) -> Void) { self.progress = progress }

        public func emit(_ path: String, _ data: () throws -> Data) {
            do {
                try AtomicFile.write(try data(), to: path)
                written.append(path)
                progress("  \(path)")
            } catch {
                unwritten.append(path)
                progress("  ❌ cannot write \(path): \(error)")
            }
        }

    }

    /// The user's sections over `results`, computed once for every report that shows them.
    public static func sections(_ options: Options, _ results: SuiteResults) -> [RenderedSection] {
        options.sections.map { RenderedSection($0, results: results) }
    }

    /// Writes the text reports of `results` (validation, regression, JUnit, the CI summary) and, where
    /// probes ran, the trace. `before` and `after` are the run's other files, for the CI summary's
    /// list (with the visualizations when `options` has them).
    public static func write(_ results: SuiteResults, to paths: Paths, options: Options, sections: [RenderedSection],
                             before: [String] = [], after: [String] = [], with writer: Writer) {
        let emit = writer.emit
        let context = results.gateContext
        var ours = [paths.validation, paths.regression, paths.junit, paths.markdown]
        if results.probes == "on" { ours.append(paths.trace) }
        if options.visualizations { ours += [paths.dashboard, paths.heatmap, paths.memory] }
        emit(paths.validation) { Data(results.validation.text(context, thresholds: results.thresholds).utf8) }
        emit(paths.regression) { Data((results.regression ?? RegressionAnalysis()).text(context, validation: results.validation).utf8) }
        emit(paths.junit) { Data(JUnitReport.xml(results.validation, context: context, hostname: results.history?.host ?? "localhost").utf8) }
        emit(paths.markdown) {
            Data(CISummary.markdown(results.validation, context: context, files: before + ours + after,
                                    sections: sections).utf8)
        }
        if results.probes == "on" { emit(paths.trace) { try ChromeTrace.json(results) } }
    }

    /// Writes the dashboard, the latency heatmap and the memory analysis (what `--no-visualizations`
    /// leaves out).
    public static func writeVisualizations(_ results: SuiteResults, to paths: Paths, sections: [RenderedSection],
                                           with writer: Writer) {
        let emit = writer.emit
        emit(paths.dashboard) { Data(try Dashboard.html(results, sections: sections).utf8) }
        emit(paths.heatmap) { try LatencyHeatmap.png(results) }
        emit(paths.memory) { Data(try MemoryAnalysisReport.html(results).utf8) }
    }

    /// `archbench report`: every report of the results file at `path` again, into `directory` (the
    /// results file's own by default), under the file's stamp. The execution summary is written only
    /// where there is none: the run's own is the record of that run (its time, its files, its exit
    /// code). Returns the files written and those that could not be; an unreadable or foreign file is
    /// a usage error naming what is wrong.
    public static func regenerate(from path: String, into directory: String?, options: Options,
                                  progress: @escaping (String) -> Void) throws -> (written: [String], unwritten: [String]) {
        let results = try SuiteResults.load(path: path)
        let name = (path as NSString).lastPathComponent
        let stamp = name.hasPrefix("comprehensive_results_") && name.hasSuffix(".json")
            ? String(name.dropFirst("comprehensive_results_".count).dropLast(".json".count))
            : Paths.stamp(ISO8601DateFormatter().date(from: results.timestamp) ?? Date())
        let paths = Paths(directory: directory ?? (path as NSString).deletingLastPathComponent.nonEmpty ?? ".", stamp: stamp)
        do {
            try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: true)
        } catch {
            throw ArchbenchError.environment("cannot create \(paths.directory): \(error.localizedDescription)")
        }
        let writer = Writer(progress: progress)
        let sections = sections(options, results)
        let summaryExists = FileManager.default.fileExists(atPath: paths.summary)
        write(results, to: paths, options: options, sections: sections, before: [path], after: [paths.summary], with: writer)
        if options.visualizations { writeVisualizations(results, to: paths, sections: sections, with: writer) }
        if !summaryExists {
            let summary = ExecutionSummary(results, exitCode: results.exitCode, files: [path] + writer.written + [paths.summary])
            writer.emit(paths.summary) { try JSONCoding.encoder().encode(summary) }
        }
        return (writer.written, writer.unwritten)
    }
}

extension SuiteResults {
    /// What the gate's reports say about the run besides its validation and regression analysis.
    public var gateContext: GateContext {
        GateContext(timestamp: timestamp, workload: workload, baseline: baseline, candidate: candidate, exitCode: exitCode,
                    exitReason: exitReason, failures: failures, analysis: analysis, regression: regression,
                    historyPath: history?.path, historyRun: history?.run, recommendations: recommendations)
    }

    /// Reads a results file, or says what is wrong with it: not there, not JSON, not archbench's, or a
    /// key missing or of the wrong type (named by its path).
    public static func load(path: String) throws(ReportError) -> SuiteResults {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable("cannot read \(path): \((error as NSError).localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw .unreadable("\(path) is not JSON")
        }
        guard let top = object as? [String: Any], top["tool"] as? String == "archbench", top["results"] != nil else {
            throw .unreadable("\(path) is not an archbench results file (no \"tool\": \"archbench\" with \"results\")")
        }
        do {
            return try JSONCoding.decoder().decode(SuiteResults.self, from: data)
        } catch let error as DecodingError {
            throw .unreadable("\(path) is not a results file of this archbench: \(Self.describe(error))")
        } catch {
            throw .unreadable("\(path): \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\(Self.snake($0.stringValue))" }
                .joined().drop { $0 == "." }.description
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(at(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// A coding key as the file spells it (the decoder reports the Swift name).
    static func snake(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase, !out.isEmpty { out += "_" }
            out += character.lowercased()
        }
        return out
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

extension ExecutionSummary {
    /// The summary of `results`, listing `files` as written.
    public init(_ results: SuiteResults, exitCode: Int32, files: [String]) {
        self.init(
            timestamp: results.timestamp, executionTimeS: results.executionTimeS,
            benchmarksExecuted: Set(results.rounds.filter { $0.result != nil }.map(\.benchmark)).count,
            architectures: results.architectures, workload: results.workload, rating: results.validation.rating.rawValue,
            exitCode: exitCode, validationChecksPassed: results.validation.passed,
            validationChecksTotal: results.validation.checks.count, requirementsPassed: results.validation.requirementsPassed,
            requirementsMeasured: results.validation.requirementsMeasured,
            regressions: (results.regression?.findings ?? []).map { "\($0.severity.rawValue): \($0.sentence)" },
            recommendations: results.recommendations, failures: results.failures, filesWritten: files)
    }
}

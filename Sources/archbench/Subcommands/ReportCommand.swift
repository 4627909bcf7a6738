import ArchbenchCore
import ArgumentParser
import Foundation
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Make every report of a run again from its results file.",
        discussion: """
            Reads a comprehensive_results_*.json written by archbench run and writes its reports \
            again under the same stamp: the validation and regression reports, JUnit XML, the CI \
            summary, the dashboard, the latency heatmap, the memory analysis, the trace (where \
            probes ran) and the execution summary where there is none. Nothing is measured again. Exit 2: the file is \
            missing, not JSON or not an archbench results file (the message names what is wrong); \
            3: a report could not be written.
            """
    )

    @Argument(help: ArgumentHelp("A comprehensive_results_*.json.", valueName: "results.json"))
    var results: String

    @Option(help: ArgumentHelp("Where to write the reports (default: beside the results file).", valueName: "dir"))
    var resultsDir: String?

    @Flag(help: "Skip the HTML and PNG reports.")
    var noVisualizations = false

    func run() throws {
        let outcome = try ReportSet.regenerate(from: results, into: resultsDir,
                                               options: ReportSet.Options(visualizations: !noVisualizations)) {
            FileHandle.standardOutput.write(Data(($0 + "\n").utf8))
        }
        if !outcome.unwritten.isEmpty {
            throw ArchbenchError.environment("\(outcome.unwritten.count) report(s) could not be written")
        }
    }
}

import ArchbenchCore
import ArgumentParser
import Foundation
import History
import Reports

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List the recorded runs, the change points of their metrics and the trends.",
        discussion: """
            Reads the run history archbench run keeps (default results/history.sqlite) without \
            writing to it: every run with its date, commit, workload, rating and exit code and the \
            key metrics per architecture; with --metric, that metric's series. Change points are \
            found by E-divisive means (Apache Otava's method), trends by Mann-Kendall over each \
            series' last runs (docs/validation.md). Exit 2: no such history or metric; 3: the file \
            is damaged or not a history (it is left untouched).
            """
    )

    @Option(help: ArgumentHelp("The history database (default results/history.sqlite).", valueName: "file"))
    var history = "results/history.sqlite"

    @Option(help: ArgumentHelp("Show this series: a metric (latency_p95_ms), benchmark.metric, or benchmark.metric ENDPOINT.",
                               valueName: "name"))
    var metric: String?

    @Option(help: ArgumentHelp("Only the runs of this workload profile.", valueName: "name"))
    var workload: String?

    @Flag(help: "Print the runs, series, change points and trends as JSON.")
    var json = false

    func run() throws {
        let overview = try HistoryOverview.of(try HistoryStore(path: history, readOnly: true), workload: workload, metric: metric)
        let text = json ? try overview.json() + "\n" : overview.text()
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

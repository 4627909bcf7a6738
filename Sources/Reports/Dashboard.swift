import Analysis
import Foundation
import Load
import Recording

/// `dashboard_*.html`: one self-contained page with the verdict, the validation and regression
/// tables, the root causes, and per benchmark both architectures overlaid (latency spectrum,
/// throughput and P99 over time, the concurrency sweep, pauses and resource use per process).
public enum Dashboard {
    public static func html(_ results: SuiteResults, sections: [RenderedSection]) throws -> String {
        let charts = PageCharts()
        let benchmarks = Array(Set(results.results.values.flatMap(\.keys))
            .union(results.kernel.values.flatMap(\.keys))).sorted()
        var body = header(results)
        body += "<nav><strong>Benchmarks:</strong>"
        for (index, benchmark) in benchmarks.enumerated() {
            body += "<label><input type=\"checkbox\" checked data-bench=\"\(index)\"> \(HTML.text(benchmark))</label>"
        }
        body += "</nav>"
        body += validation(results) + regression(results.regression) + rootCauses(results)
        for (index, benchmark) in benchmarks.enumerated() {
            body += "<section id=\"bench-\(index)\"><h2>\(HTML.text(benchmark))</h2><div class=\"grid\">"
            body += benchmarkCharts(results, benchmark, charts)
            body += "</div></section>"
        }
        body += custom(sections)
        return try HTML.page(title: "archbench dashboard \(results.timestamp)", body: body, charts: charts.specs)
    }

    private static func header(_ results: SuiteResults) -> String {
        let rating = results.validation.rating.rawValue
        var top = "no kernel-side cause of the slowest requests was found"
        for architecture in [results.candidate] + results.architectures {
            if let found = results.analysis.topCause(of: architecture) {
                top = "\(architecture): " + found.cause.sentence(benchmark: found.benchmark)
                break
            }
        }
        return """
        <h1>archbench dashboard</h1>
        <p class="meta">\(HTML.text(results.timestamp)) · workload \(HTML.text(results.workload)) · \
        baseline \(HTML.text(results.baseline)) · candidate \(HTML.text(results.candidate)) · probes \(HTML.text(results.probes))</p>
        <div class="verdict"><div class="rating \(HTML.attribute(rating))">\(HTML.text(rating))</div>
        <div>\(HTML.text(results.validation.ratingReason))</div>
        <div>Exit code <strong>\(results.exitCode)</strong>: \(HTML.text(results.exitReason))</div>
        <div>Top root cause: \(HTML.text(top))</div>
        <div>\(results.validation.passed) of \(results.validation.checks.count) checks passed; \
        \(results.validation.requirementsPassed) of \(results.validation.requirementsMeasured) requirements measured passed</div>
        </div>
        """
    }

    private static func validation(_ results: SuiteResults) -> String {
        let checks = results.validation.checks
        var out = "<h2>Validation</h2>"
        guard !checks.isEmpty else { return out + "<p class=\"empty\">No checks.</p>" }
        let rows = checks.map { check in
            [check.requirement, check.name, Figure.value(check.baseline, metric: check.metric),
             Figure.value(check.candidate, metric: check.metric), Figure.percent(check.changePct),
             Figure.interval(check.ci95Pct), check.significance ?? "n/a", check.verdictText]
        }
        let classes = checks.map { ["", "", "num", "num", "num", "num", "", $0.verdict.rawValue] }
        out += HTML.table(["Requirement", "Check", results.baseline, results.candidate, "Change", "95% CI",
                           "Significance", "Verdict"], rows, classes: classes)
        if !results.recommendations.isEmpty {
            out += "<h3>Recommendations</h3><ul>" + results.recommendations.map { "<li>\(HTML.text($0))</li>" }.joined() + "</ul>"
        }
        return out
    }

    private static func regression(_ analysis: RegressionAnalysis?) -> String {
        var out = "<h2>Regressions against the history</h2>"
        guard let analysis else { return out + "<p class=\"empty\">This run was not compared with the history.</p>" }
        out += "<p class=\"meta\">\(analysis.historyRuns) earlier runs.</p>"
        if analysis.findings.isEmpty {
            out += "<p class=\"empty\">No regression found.</p>"
        } else {
            out += "<h3>Findings</h3>" + HTML.table(
                ["Architecture", "Benchmark", "Metric", "Endpoint", "Kind", "Severity", "Reference", "Current", "Change", "Robust z", "p"],
                analysis.findings.map {
                    [$0.architecture, $0.benchmark, $0.metric, $0.endpoint ?? "", $0.kind.rawValue, $0.severity.rawValue,
                     Figure.value($0.reference, metric: $0.metric), Figure.value($0.current, metric: $0.metric),
                     Figure.percent($0.changePct), $0.robustZ.map(HTML.number) ?? "", $0.pValue.map(HTML.number) ?? ""]
                }, classes: analysis.findings.map { Array(repeating: "", count: 5) + [$0.severity.rawValue] })
        }
        if !analysis.changePoints.isEmpty {
            out += "<h3>Change points</h3>" + HTML.table(
                ["Architecture", "Benchmark", "Metric", "Endpoint", "Run", "Mean before", "Mean after", "Change", "p"],
                analysis.changePoints.map {
                    [$0.architecture, $0.benchmark, $0.metric, $0.endpoint ?? "", "\($0.run)",
                     Figure.value($0.meanBefore, metric: $0.metric), Figure.value($0.meanAfter, metric: $0.metric),
                     Figure.percent($0.changePct), HTML.number($0.pValue)]
                })
        }
        if !analysis.trends.isEmpty {
            out += "<h3>Trends</h3>" + HTML.table(
                ["Architecture", "Benchmark", "Metric", "Endpoint", "Runs", "Slope per run", "Direction", "p"],
                analysis.trends.map {
                    [$0.architecture, $0.benchmark, $0.metric, $0.endpoint ?? "", "\($0.runs)",
                     Figure.percent($0.slopePctPerRun), $0.direction, HTML.number($0.pValue)]
                })
        }
        if !analysis.notes.isEmpty {
            out += "<ul>" + analysis.notes.map { "<li>\(HTML.text($0))</li>" }.joined() + "</ul>"
        }
        return out
    }

    private static func rootCauses(_ results: SuiteResults) -> String {
        var rows: [[String]] = []
        for architecture in ordered(results.architectures, results.analysis.rootCauses.keys) {
            let byBenchmark = results.analysis.rootCauses[architecture] ?? [:]
            for benchmark in byBenchmark.keys.sorted() {
                for (rank, cause) in (byBenchmark[benchmark] ?? []).enumerated() {
                    rows.append([architecture, benchmark, "\(rank + 1)", cause.cause.rawValue, "\(cause.process) (\(cause.pid))",
                                 String(format: "%.0f%%", cause.shareOfSlowRequests * 100),
                                 String(format: "%.0f%%", cause.chanceShare * 100), HTML.number(cause.pValue),
                                 cause.sentence(benchmark: benchmark)])
                }
            }
        }
        var out = "<h2>Root causes of the slowest requests</h2>"
        guard !rows.isEmpty else { return out + "<p class=\"empty\">None found (or the probes did not run).</p>" }
        out += HTML.table(["Architecture", "Benchmark", "Rank", "Cause", "Process", "Share of slow", "By chance", "p",
                           "Finding"], rows)
        return out
    }

    private static func custom(_ sections: [RenderedSection]) -> String {
        guard !sections.isEmpty else { return "" }
        var out = "<h2>Custom sections</h2>"
        for section in sections {
            out += "<h3>\(HTML.text(section.title))</h3>"
            if let error = section.error {
                out += "<p class=\"critical\">Could not be computed: \(HTML.text(error))</p>"
            } else {
                out += HTML.table(section.header, section.rows)
            }
        }
        return out
    }

    // MARK: Per benchmark

    private static func benchmarkCharts(_ results: SuiteResults, _ benchmark: String, _ charts: PageCharts) -> String {
        let architectures = results.architectures, windowNs = results.loadWindowNs
        var out = ""

        var spectrum: [PageSeries] = []
        for (index, architecture) in architectures.enumerated() {
            if let histogram = results.latencyHistograms[architecture]?[benchmark], histogram.count > 0 {
                spectrum.append(PageSeries(label: architecture, points: percentileSpectrum(histogram), color: index))
            } else if let stats = results.results[architecture]?[benchmark]?.latencyStats {
                // Without a histogram only the summary's percentiles are known: shown as points.
                spectrum.append(PageSeries(label: "\(architecture) (summary)",
                                           points: [(2, stats.p50), (20, stats.p95), (100, stats.p99)],
                                           color: index, style: "dots"))
            }
        }
        if !spectrum.isEmpty {
            out += charts.card("Latency percentile spectrum", hint: "Client latency at each percentile (HDR style).") {
                PageChart(id: $0, kind: "line", xLabel: "percentile", yLabel: "latency (ms)", unit: "ms", xLog: true,
                          yLog: true, percentileAxis: true, datasets: spectrum)
            }
        }

        var throughput: [PageSeries] = [], p99: [PageSeries] = []
        for (index, architecture) in architectures.enumerated() {
            let windows = timeline(results.rounds, architecture: architecture, benchmark: benchmark,
                                   windowNs: windowNs)
            guard !windows.isEmpty else { continue }
            throughput.append(PageSeries(label: architecture, points: windows.map { ($0.s, $0.perS) }, color: index))
            p99.append(PageSeries(label: architecture, points: windows.filter { $0.p99Ms > 0 }.map { ($0.s, $0.p99Ms) },
                                  color: index))
        }
        if !throughput.isEmpty {
            let hint = "Per window, the architecture's rounds one after another. Drag to zoom, double-click to reset."
            out += charts.card("Throughput over time", hint: hint) {
                PageChart(id: $0, kind: "line", xLabel: "time in benchmark (s)", yLabel: "responses/s", unit: "/s",
                          zoom: true, datasets: throughput)
            }
            out += charts.card("P99 latency over time", hint: hint + " The slowest load's P99 per window.") {
                PageChart(id: $0, kind: "line", xLabel: "time in benchmark (s)", yLabel: "P99 (ms)", unit: "ms",
                          yLog: true, zoom: true, datasets: p99)
            }
        }

        var sweep: [PageSeries] = []
        var knees: [String] = []
        for (index, architecture) in architectures.enumerated() {
            guard let metadata = results.results[architecture]?[benchmark]?.metadata else { continue }
            let steps = sweepSteps(metadata)
            guard !steps.isEmpty else { continue }
            sweep.append(PageSeries(label: "\(architecture) req/s", points: steps.map { ($0.connections, $0.perS) },
                                    color: index, style: "dots"))
            sweep.append(PageSeries(label: "\(architecture) P99", points: steps.map { ($0.connections, $0.p99Ms) },
                                    color: index, style: "trend", axis: "y2"))
            if case .number(let knee)? = metadata["knee_connections"], knee.isFinite {
                let top = steps.map(\.perS).max() ?? 0
                sweep.append(PageSeries(label: "\(architecture) knee", points: [(knee, 0), (knee, top)], color: index,
                                        style: "knee"))
                knees.append("\(architecture): \(Int(knee)) connections")
            }
        }
        if !sweep.isEmpty {
            let hint = "Solid: req/s (left axis); dashed: P99 (right axis); dotted vertical: the knee"
                + (knees.isEmpty ? "." : " (\(knees.joined(separator: "; "))).")
            out += charts.card("Concurrency sweep", hint: hint) {
                PageChart(id: $0, kind: "line", xLabel: "connections", yLabel: "req/s", xLog: true, y2Label: "P99 (ms)",
                          y2Log: true, datasets: sweep)
            }
        }

        var pauses: [PageSeries] = []
        var labels: [String] = []
        var onCPU: [Double] = [], offCPU: [Double] = [], runQueue: [Double] = [], rssPeak: [Double] = []
        for architecture in architectures {
            guard let report = results.kernel[architecture]?[benchmark] else { continue }
            for process in report.processes {
                let name = "\(architecture) · \(process.label ?? process.comm) (\(process.pid))"
                labels.append(name)
                onCPU.append(Double(process.oncpuNs) / 1e9)
                offCPU.append(Double(process.offcpuNs) / 1e9)
                runQueue.append(Double(process.runqNs) / 1e9)
                rssPeak.append(Double(process.rssBytes?.max ?? 0) / 1_048_576)
                let own = report.pauses.filter { $0.pid == process.pid }
                if !own.isEmpty {
                    pauses.append(PageSeries(
                        label: name,
                        points: own.map { ((Double($0.startNs) - Double(report.startNs)) / 1e9, Double($0.durationNs) / 1e6) },
                        color: pauses.count, style: "points"))
                }
            }
        }
        if !pauses.isEmpty {
            out += charts.card("Pauses per process", hint: "Each stop-the-world pause: when it started and how long it lasted. Drag to zoom.") {
                PageChart(id: $0, kind: "scatter", xLabel: "time in the probed window (s)", yLabel: "pause (ms)",
                          unit: "ms", zoom: true, datasets: pauses)
            }
        }
        if !labels.isEmpty {
            out += charts.card("CPU time per process", hint: "On-CPU, off-CPU (blocked) and run-queue (waiting for a CPU) time.") {
                PageChart(id: $0, kind: "bar", xLabel: "", yLabel: "seconds", unit: "s", stacked: true, labels: labels,
                          datasets: [PageSeries(label: "on-CPU", values: onCPU, color: 2, stack: "t"),
                                     PageSeries(label: "off-CPU", values: offCPU, color: 7, stack: "t"),
                                     PageSeries(label: "run queue", values: runQueue, color: 4, stack: "t")])
            }
            out += charts.card("Peak RSS per process") {
                PageChart(id: $0, kind: "bar", xLabel: "", yLabel: "MiB", unit: "MiB", labels: labels,
                          datasets: [PageSeries(label: "peak RSS", values: rssPeak, color: 3)])
            }
        }
        if out.isEmpty { out = "<p class=\"empty\">Nothing was recorded for this benchmark.</p>" }
        return out
    }

    /// The spectrum HDR-style: the latency at percentile p plotted at 1/(1−p), from P0 to P99.999,
    /// ten points a decade; stops where fewer requests remain than the next point would need.
    static func percentileSpectrum(_ histogram: LatencyHistogramRecord) -> [(Double, Double)] {
        let total = Double(histogram.count)
        var points: [(Double, Double)] = []
        for step in 0...50 {
            let x = pow(10, Double(step) / 10)
            if x > Swift.max(total, 1) { break }
            let percentile = 100 * (1 - 1 / x)
            points.append((x, Double(histogram.percentileNs(percentile)) / 1e6))
        }
        return points
    }

    struct WindowPoint {
        var s: Double
        var perS: Double
        var p99Ms: Double
    }

    /// The architecture's windows of `benchmark`, its rounds laid end to end so that both
    /// architectures start at zero; loads running at once are summed per window.
    static func timeline(_ rounds: [BenchmarkRound], architecture: String, benchmark: String,
                         windowNs: UInt64) -> [WindowPoint] {
        let mine = rounds.filter { $0.architecture == architecture && $0.benchmark == benchmark && $0.result != nil }
            .sorted { $0.round < $1.round }
        var bins: [Int: (responses: UInt64, p99Us: Double)] = [:]
        var offset = 0
        for round in mine {
            for load in round.result?.loads ?? [] {
                for window in load.windows where window.startNs >= round.startNs {
                    let key = offset + Int((window.startNs - round.startNs) / windowNs)
                    let old = bins[key] ?? (0, 0)
                    bins[key] = (old.responses + window.responses, Swift.max(old.p99Us, window.p99Us))
                }
            }
            offset += Int((round.endNs &- round.startNs) / windowNs) + 1
        }
        let seconds = Double(windowNs) / 1e9
        return bins.keys.sorted().map { key in
            let bin = bins[key] ?? (0, 0)
            return WindowPoint(s: Double(key) * seconds, perS: Double(bin.responses) / seconds, p99Ms: bin.p99Us / 1000)
        }
    }

    struct SweepStep {
        var connections: Double
        var perS: Double
        var p99Ms: Double
    }

    /// The concurrency sweep's steps from `step.N.requests_per_s` and `step.N.p99_ms`.
    static func sweepSteps(_ metadata: [String: MetadataValue]) -> [SweepStep] {
        var steps: [SweepStep] = []
        for (key, value) in metadata where key.hasPrefix("step.") && key.hasSuffix(".requests_per_s") {
            let middle = key.dropFirst("step.".count).dropLast(".requests_per_s".count)
            guard let connections = Double(middle), case .number(let perS) = value else { continue }
            var p99 = Double.nan
            if case .number(let ms)? = metadata["step.\(middle).p99_ms"] { p99 = ms }
            steps.append(SweepStep(connections: connections, perS: perS, p99Ms: p99))
        }
        return steps.sorted { $0.connections < $1.connections }
    }

    /// `first` in its order, then the rest of `keys` sorted.
    static func ordered(_ first: [String], _ keys: some Collection<String>) -> [String] {
        first.filter { keys.contains($0) } + keys.filter { !first.contains($0) }.sorted()
    }
}

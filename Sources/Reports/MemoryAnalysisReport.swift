import Analysis
import Foundation
import Recording

/// `memory_analysis_*.html`: each architecture's RSS over time per process with the leak detector's
/// fitted floor trend and its 95% band, the pauses on those lines, the verdicts, and the peak
/// footprint of each benchmark.
public enum MemoryAnalysisReport {
    public static func html(_ results: SuiteResults) throws -> String {
        let charts = PageCharts()
        var body = """
        <h1>archbench memory analysis</h1>
        <p class="meta">\(HTML.text(results.timestamp)) · workload \(HTML.text(results.workload)) · \
        baseline \(HTML.text(results.baseline)) · candidate \(HTML.text(results.candidate))</p>
        <p class="hint">The trend is the leak detector's Theil–Sen slope of the RSS floor (the level RSS \
        keeps returning to) after its warm-up, drawn through the floor; the band is the slope's 95% interval. \
        Drag on a chart to zoom, double-click to reset.</p>
        """
        var verdictRows: [[String]] = [], verdictClasses: [[String]] = []
        for architecture in Dashboard.ordered(results.architectures, results.kernel.keys) {
            let reports = (results.kernel[architecture] ?? [:]).sorted { $0.value.startNs < $1.value.startNs }
            guard let t0 = reports.map(\.value.startNs).min() else { continue }
            // The trend is drawn where the suite fits it: memory_usage, when it ran.
            let fitted = reports.filter { $0.key == "memory_usage" }
            let fitReports = fitted.isEmpty ? reports : fitted
            let fitStart = fitReports.map(\.value.startNs).min() ?? t0
            let fitEnd = fitReports.map(\.value.endNs).max() ?? t0
            let window = fitted.isEmpty ? "all benchmarks" : "memory_usage"

            var series: [PageSeries] = []
            for (index, process) in processes(reports.map(\.value)).enumerated() {
                let name = "\(process.name) (\(process.pid))"
                let mib = { (ns: UInt64, bytes: UInt64) in (seconds(ns, from: t0), Double(bytes) / 1_048_576) }
                series.append(PageSeries(label: name, points: process.steps.map(mib), color: index, style: "step"))

                let fitPoints = process.changes.filter { $0.ns >= fitStart && $0.ns <= fitEnd }
                let from = max(fitStart, process.startNs), to = process.exitNs.map { min($0, fitEnd) } ?? fitEnd
                let detector = LeakDetector()
                // The suite's own verdict where it has one, so this table agrees with the gate; a
                // results file without it (a custom run) gets the detector's over the same window.
                let verdict: LeakVerdict
                if let leak = results.analysis.leaks[architecture]?.first(where: { $0.pid == process.pid }) {
                    verdict = LeakVerdict(leakSuspected: leak.leakSuspected, growthBytesPerS: leak.growthBytesPerS,
                                          ci95BytesPerS: leak.ci95BytesPerS, samples: leak.samples, method: leak.method,
                                          reason: leak.reason)
                } else if fitPoints.isEmpty {
                    verdict = LeakVerdict(leakSuspected: false, growthBytesPerS: 0, ci95BytesPerS: [0, 0], samples: 0, method: "none",
                                          reason: "its RSS never moved by a recording step while probed")
                } else {
                    verdict = detector.detect(fitPoints, startNs: from, endNs: to)
                }
                if verdict.reason == nil, verdict.samples > 0,
                   let trend = trendLines(process.steps, verdict: verdict, from: detector.fitStart(startNs: from, endNs: to), to: to) {
                    let line = { (points: [(UInt64, Double)]) in points.map { (seconds($0.0, from: t0), $0.1 / 1_048_576) } }
                    series.append(PageSeries(label: "\(name) trend", points: line(trend.fit), color: index, style: "trend"))
                    series.append(PageSeries(label: "", points: line(trend.low), color: index, style: "bandlow"))
                    series.append(PageSeries(label: "\(name) 95% band", points: line(trend.high), color: index, style: "band"))
                }
                if !process.pauses.isEmpty {
                    let marks = process.pauses.map { ns in (seconds(ns, from: t0), Double(value(process.steps, at: ns) ?? 0) / 1_048_576) }
                    series.append(PageSeries(label: "\(name) pauses", points: marks, color: index, style: "marker"))
                }
                verdictRows.append([
                    architecture, process.name, "\(process.pid)", process.comm, window,
                    rate(verdict.growthBytesPerS),
                    verdict.ci95BytesPerS.count == 2 ? "[\(rate(verdict.ci95BytesPerS[0])), \(rate(verdict.ci95BytesPerS[1]))]" : "n/a",
                    "\(verdict.samples)", verdict.leakSuspected ? "yes" : "no",
                    process.peak.map { ProbeReport.bytes($0) } ?? "n/a",
                    verdict.reason ?? verdict.method,
                ])
                verdictClasses.append(["", "", "num", "", "", "num", "num", "num", verdict.leakSuspected ? "yes" : "", "num", ""])
            }
            body += "<h2>\(HTML.text(architecture))</h2>"
            if series.isEmpty {
                body += "<p class=\"empty\">No process was probed.</p>"
            } else {
                body += charts.card("RSS over time: \(architecture)",
                                    hint: "Every benchmark of the architecture in the order they ran; × marks a pause.") {
                    PageChart(id: $0, kind: "line", xLabel: "time since the first benchmark (s)", yLabel: "RSS (MiB)",
                              unit: "MiB", zoom: true, datasets: series)
                }
            }
        }

        body += "<h2>Leak verdicts</h2>"
        body += verdictRows.isEmpty ? "<p class=\"empty\">No process was probed.</p>" : HTML.table(
            ["Architecture", "Process", "PID", "Comm", "Fitted over", "Growth", "95% CI", "Floor points", "Leak suspected",
             "Peak RSS", "Method / why no verdict"], verdictRows, classes: verdictClasses)

        let benchmarks = Array(Set(results.kernel.values.flatMap(\.keys))).sorted()
        let footprint = Dashboard.ordered(results.architectures, results.kernel.keys).enumerated().map { index, architecture in
            PageSeries(label: architecture, values: benchmarks.map { benchmark in
                let processes = results.kernel[architecture]?[benchmark]?.processes ?? []
                return Double(processes.reduce(UInt64(0)) { $0 + ($1.rssBytes?.max ?? 0) }) / 1_048_576
            }, color: index)
        }
        body += "<h2>Peak footprint per benchmark</h2>"
        if benchmarks.isEmpty {
            body += "<p class=\"empty\">No benchmark was probed.</p>"
        } else {
            body += "<div class=\"grid\">" + charts.card("Peak RSS, sum of the architecture's processes") {
                PageChart(id: $0, kind: "bar", xLabel: "", yLabel: "MiB", unit: "MiB", labels: benchmarks, datasets: footprint)
            } + "</div>"
        }
        return try HTML.page(title: "archbench memory analysis \(results.timestamp)", body: body, charts: charts.specs)
    }

    /// A process over all of an architecture's benchmarks.
    struct Process {
        var pid: Int32
        var name: String
        var comm: String
        var startNs: UInt64
        var exitNs: UInt64?
        var peak: UInt64?
        /// The recorded RSS changes, in time order.
        var changes: [(ns: UInt64, bytes: UInt64)] = []
        /// What is drawn: the changes, plus each benchmark's start and end held at the value then, so
        /// a process whose RSS stayed still (no change recorded) still has a line.
        var steps: [(ns: UInt64, bytes: UInt64)] = []
        var pauses: [UInt64] = []
    }

    static func processes(_ reports: [ProbeReport]) -> [Process] {
        var byPid: [Int32: Process] = [:], order: [Int32] = []
        for report in reports {
            for record in report.processes {
                var process = byPid[record.pid] ?? Process(
                    pid: record.pid, name: record.label ?? record.comm, comm: record.comm, startNs: record.startNs,
                    exitNs: record.exitNs)
                if byPid[record.pid] == nil { order.append(record.pid) }
                let points = record.rssTimeline.filter { $0.count == 2 }.map { (ns: $0[0], bytes: $0[1]) }
                process.changes += points
                let held = value(process.steps, at: report.startNs) ?? points.first?.bytes ?? record.rssBytes?.min
                if let held { process.steps.append((report.startNs, held)) }
                process.steps += points
                if let last = points.last?.bytes ?? record.rssBytes?.last ?? held { process.steps.append((report.endNs, last)) }
                process.peak = max(process.peak ?? 0, record.rssBytes?.max ?? 0)
                process.pauses += report.pauses.filter { $0.pid == record.pid }.map(\.startNs)
                byPid[record.pid] = process
            }
        }
        return order.compactMap { pid in
            byPid[pid].map { process in
                var process = process
                process.changes.sort { $0.ns < $1.ns }
                process.steps.sort { $0.ns < $1.ns }
                return process
            }
        }
    }

    /// The RSS held at `ns`: the last point at or before it.
    static func value(_ steps: [(ns: UInt64, bytes: UInt64)], at ns: UInt64) -> UInt64? {
        steps.last { $0.ns <= ns }?.bytes
    }

    /// The verdict's slope drawn through the floor, and its interval as a band pivoting on the
    /// middle of the fit. The verdict carries slopes only, so the line is placed by the median
    /// offset of the floor (the minimum in each of 20 bins) from the slope, as Theil–Sen places it.
    static func trendLines(_ steps: [(ns: UInt64, bytes: UInt64)], verdict: LeakVerdict, from: UInt64, to: UInt64)
        -> (fit: [(UInt64, Double)], low: [(UInt64, Double)], high: [(UInt64, Double)])? {
        guard to > from, verdict.ci95BytesPerS.count == 2 else { return nil }
        let bins = 20, width = Double(to - from) / Double(bins)
        var offsets: [Double] = []
        for bin in 0..<bins {
            let start = from + UInt64(Double(bin) * width), end = from + UInt64(Double(bin + 1) * width)
            let inside = steps.filter { $0.ns > start && $0.ns <= end }.map(\.bytes)
            guard let low = (inside + [value(steps, at: start)].compactMap { $0 }).min() else { continue }
            let t = (Double(start - from) + width / 2) / 1e9
            offsets.append(Double(low) - verdict.growthBytesPerS * t)
        }
        guard let intercept = Statistics.median(offsets) else { return nil }
        let middle = from + (to - from) / 2
        let at = { (ns: UInt64, slope: Double) -> Double in
            let pivot = intercept + verdict.growthBytesPerS * Double(middle - from) / 1e9
            return pivot + slope * (Double(ns) - Double(middle)) / 1e9
        }
        let times = [from, middle, to]
        return (times.map { ($0, at($0, verdict.growthBytesPerS)) },
                times.map { ($0, at($0, verdict.ci95BytesPerS[0])) },
                times.map { ($0, at($0, verdict.ci95BytesPerS[1])) })
    }

    static func seconds(_ ns: UInt64, from t0: UInt64) -> Double { (Double(ns) - Double(t0)) / 1e9 }

    static func rate(_ bytesPerS: Double) -> String {
        let a = abs(bytesPerS)
        if a >= 1_048_576 { return String(format: "%.2f MiB/s", bytesPerS / 1_048_576) }
        if a >= 1024 { return String(format: "%.1f KiB/s", bytesPerS / 1024) }
        return String(format: "%.0f B/s", bytesPerS)
    }
}

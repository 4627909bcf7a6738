import Analysis
import ArchbenchCore
import Foundation
import Load
import Probes
import Recording
import Reports

/// What `archbench leak-hunt` is asked to do.
public struct LeakHuntOptions: Sendable {
    /// The targets (or command) to probe, and for how long.
    public var request: ProbeRequest
    /// Drive steady open-loop load at `rate` against this URL while hunting, if set.
    public var url: LoadTarget?
    public var rate: Double?
    public var connections = 16
    public var threads = 2
    /// How often the live line is redrawn on a terminal; elsewhere a plain line every 10 of these.
    public var statusEvery = 1.0
    public var json = false
    public var detector = LeakDetector()

    public init(request: ProbeRequest) {
        self.request = request
    }
}

/// `archbench leak-hunt`: record RSS (and allocation stacks) with the probes, optionally under a
/// steady load, show the verdict so far as it goes, and end with a leak verdict per process.
public enum LeakHunt {
    public static func run(_ options: LeakHuntOptions) throws -> LeakHuntReport {
        let console = SuiteConsole(json: options.json)
        let live = try LiveProbe(options.request) { console.line($0) }
        var load: LoadRun?
        if let url = options.url, let rate = options.rate {
            var config = LoadConfig(target: url)
            config.rate = rate
            config.connections = options.connections
            config.threads = options.threads
            config.duration = options.request.duration ?? 3600
            do {
                load = try LoadRun(config)
            } catch {
                _ = try? live.finish()
                throw ArchbenchError.environment("the load target \(url) is unreachable: \(error)")
            }
            console.line("driving \(formatRate(rate)) requests/s open loop at \(url)")
        }
        var ticks = 0
        let slice = 0.1, statusTicks = max(1, Int((options.statusEvery / slice).rounded()))
        while !live.hasEnded {
            Thread.sleep(forTimeInterval: slice)
            let progress = load?.poll()
            ticks += 1
            if load?.isFinished == true, options.request.duration == nil { break }
            guard ticks % (console.isTerminal ? statusTicks : statusTicks * 10) == 0,
                  let recording = try? live.snapshot() else { continue }
            let status = statusLine(LeakHuntReport(recording: recording, load: nil, detector: options.detector),
                                    elapsed: Double(ticks) * slice, total: options.request.duration, progress: progress)
            if console.isTerminal { console.progress(status) } else { console.line(status) }
        }
        load?.stop()
        let loadResult = load.map { $0.result(stoppedEarly: live.hasEnded) }
        let recording = try live.finish()
        console.line("")
        return LeakHuntReport(recording: recording, load: loadResult.map(LeakHuntLoad.init), detector: options.detector)
    }

    /// The live line: elapsed, the processes' RSS, the fastest-growing floor so far and the verdict.
    static func statusLine(_ report: LeakHuntReport, elapsed: Double, total: Double?, progress: LoadProgress?) -> String {
        let rss = report.processes.compactMap { $0.rssBytes?.last }.reduce(0, +)
        var parts = [String(format: "%.0f", elapsed) + (total.map { String(format: " / %.0f s", $0) } ?? " s"),
                     "\(report.processes.count) process\(report.processes.count == 1 ? "" : "es")",
                     "RSS \(ProbeReport.bytes(rss))"]
        if let progress, elapsed > 0 { parts.append("\(formatRate(Double(progress.completed) / elapsed)) req/s") }
        let fitted = report.processes.filter { $0.reason == nil }
        if let fastest = fitted.max(by: { $0.growthBytesPerS < $1.growthBytesPerS }) {
            parts.append("\(fastest.process) \(ProbeReport.signedBytes(fastest.growthBytesPerS))/s "
                + "[\(ProbeReport.signedBytes(fastest.ci95BytesPerS[0])), \(ProbeReport.signedBytes(fastest.ci95BytesPerS[1]))]")
        }
        let suspects = report.processes.filter(\.leakSuspected).map { "\($0.process) (\($0.pid))" }
        parts.append(suspects.isEmpty ? (fitted.isEmpty ? "verdict: not enough data yet" : "verdict so far: no leak")
                     : "verdict so far: leak suspected in \(suspects.joined(separator: ", "))")
        return parts.joined(separator: " · ")
    }

    static func formatRate(_ rate: Double) -> String { String(format: rate >= 100 ? "%.0f" : "%.1f", rate) }
}

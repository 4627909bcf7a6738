import Analysis
import ArchbenchCore
import Foundation

extension LeakHuntReport {
    /// The `leak-hunt --json` document.
    public func json() throws -> String {
        try JSONCoding.string(self)
    }

    /// A readable verdict: one block per process, suspects first, with the floor's slope and its
    /// interval, and the outstanding allocation stacks when they were recorded.
    public func text() -> String {
        var lines: [String] = []
        let seconds = Double(endNs &- startNs) / 1e9
        lines.append(String(format: "archbench leak-hunt: %d %@ watched for %.1f s, ended by %@", processes.count,
                            processes.count == 1 ? "process" : "processes", seconds,
                            endReason.replacingOccurrences(of: "_", with: " ")))
        if let load {
            lines.append(String(format: "load: %llu requests at %.1f/s (target %.1f/s) to %@, %llu errors", load.requests,
                                load.requestsPerS, load.targetRate, load.url, load.errors))
        }
        if !lostEvents.isEmpty {
            let lost = lostEvents.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            lines.append("LOST EVENTS (RSS points may be missing): \(lost.joined(separator: ", "))")
        }
        let suspects = processes.filter(\.leakSuspected)
        lines.append(suspects.isEmpty ? "VERDICT  no leak suspected"
                     : "VERDICT  leak suspected in " + suspects.map { "\($0.process) (pid \($0.pid))" }.joined(separator: ", "))
        for process in processes.sorted(by: { ($0.leakSuspected ? 0 : 1, -$0.growthBytesPerS) < ($1.leakSuspected ? 0 : 1, -$1.growthBytesPerS) }) {
            lines.append("")
            lines.append("PID \(process.pid)  \(process.comm)" + (process.process != process.comm ? "  [\(process.process)]" : "")
                + (process.leakSuspected ? "  LEAK SUSPECTED" : ""))
            if let rss = process.rssBytes {
                lines.append("  rss      min \(ProbeReport.size(rss.min)), max \(ProbeReport.size(rss.max)), last \(ProbeReport.size(rss.last));"
                    + " \(process.rssPoints) points")
            }
            if let reason = process.reason {
                lines.append("  growth   no verdict: \(reason)")
            } else {
                lines.append(String(format: "  growth   %@/s, 95%% CI [%@, %@] over %d floor points (%@)",
                                    ProbeReport.signedBytes(process.growthBytesPerS), ProbeReport.signedBytes(process.ci95BytesPerS[0]),
                                    ProbeReport.signedBytes(process.ci95BytesPerS[1]), process.samples, process.method))
            }
            lines += process.allocations.map(ProbeReport.allocationLines) ?? []
        }
        return lines.map(Figure.plain).joined(separator: "\n")
    }
}

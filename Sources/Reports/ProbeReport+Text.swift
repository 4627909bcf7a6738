import Analysis
import Foundation

extension ProbeReport {
    /// How many syscalls each process's table lists before summing the rest into one line.
    public static let syscallRowsShown = 12

    /// A readable summary: one block per process, its syscalls by count, most frequent first.
    public func text() -> String {
        var lines: [String] = []
        let plural = processes.count == 1 ? "process" : "processes"
        lines.append(String(format: "archbench probe: %d %@ watched for %.3f s (CLOCK_MONOTONIC %llu .. %llu), ended by %@",
                            processes.count, plural, durationSeconds, startNs, endNs,
                            endReason.replacingOccurrences(of: "_", with: " ")))
        if let command {
            let outcome = command.exit.map(\.description) ?? "still running"
            let stopped = command.stoppedByArchbench ? " (stopped by archbench)" : ""
            lines.append("command: \(command.argv.joined(separator: " ")) (pid \(command.pid)) \(outcome)\(stopped)")
        }
        if !syscallsTraced {
            lines.append("syscalls: not traced (--syscalls traces them: their raw tracepoints slow every syscall on the machine)")
        }
        if !lostEvents.isEmpty {
            let lost = lostEvents.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            lines.append("LOST EVENTS (the counts below are short by these): \(lost.joined(separator: ", "))")
        }
        if !pauses.isEmpty {
            let durations = pauses.map(\.durationNs).sorted()
            lines.append("PAUSES   \(pauses.count) stop-the-world pauses, median \(Self.duration(durations[durations.count / 2])),"
                + " longest \(Self.duration(durations.last ?? 0))")
            for pause in pauses.prefix(5) {
                let runner = pause.runningThread.map { ", thread \($0) ran" } ?? ""
                lines.append("  pid \(pause.pid) at \(pause.startNs) for \(Self.duration(pause.durationNs)):"
                    + " \(pause.stoppedThreads.count) threads stopped\(runner)")
            }
            if pauses.count > 5 { lines.append("  … \(pauses.count - 5) more in --json") }
        }
        for process in processes {
            lines.append("")
            let exit = process.exit.map { ", \($0)" } ?? ", running"
            let label = process.label.map { "[\($0)]  " } ?? ""
            lines.append("PID \(process.pid)  \(process.comm)  \(label)(ppid \(process.ppid)\(exit))  "
                + (syscallsTraced ? "\(process.syscallTotal) syscalls, " : "") + "\(process.threads.count) threads")
            lines.append("  cpu      on \(Self.duration(process.oncpuNs)), off \(Self.duration(process.offcpuNs))"
                + " (run queue \(Self.duration(process.runqNs)), stolen \(Self.duration(process.stolenNs)))")
            if let rss = process.rssBytes {
                lines.append("  memory   RSS min \(Self.size(rss.min)), max \(Self.size(rss.max)), last \(Self.size(rss.last));"
                    + " \(process.pageFaults) page faults; \(process.rssTimeline.count) timeline points")
            }
            if let tcp = process.tcp {
                lines.append("  tcp      \(tcp.retransmits) retransmits, \(tcp.resetsSent) resets sent, "
                    + "\(tcp.resetsReceived) received, \(tcp.listenOverflows) listen overflows, \(tcp.drops) drops")
            }
            lines += process.allocations.map(Self.allocationLines) ?? []
            let sorted = process.syscalls.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            guard !sorted.isEmpty else { continue }
            lines.append("  " + "SYSCALL".padding(toLength: 20, withPad: " ", startingAt: 0) + "COUNT".leftPadded(10)
                + "P50".leftPadded(11) + "P99".leftPadded(11) + "MAX".leftPadded(11))
            for (name, count) in sorted.prefix(Self.syscallRowsShown) {
                let latency = process.syscallLatencyNs[name]
                lines.append("  " + name.padding(toLength: 20, withPad: " ", startingAt: 0) + "\(count)".leftPadded(10)
                    + (latency.map { Self.duration($0.p50) } ?? "-").leftPadded(11)
                    + (latency.map { Self.duration($0.p99) } ?? "-").leftPadded(11)
                    + (latency.map { Self.duration($0.max) } ?? "-").leftPadded(11))
            }
            let rest = sorted.dropFirst(Self.syscallRowsShown)
            if !rest.isEmpty {
                let label = "(\(rest.count) others)".padding(toLength: 20, withPad: " ", startingAt: 0)
                lines.append("  " + label + "\(rest.reduce(0) { $0 + $1.value })".leftPadded(10))
            }
        }
        return lines.map(Figure.plain).joined(separator: "\n")
    }

    static func duration(_ ns: UInt64) -> String {
        let value = Double(ns)
        if value >= 1e9 { return String(format: "%.2fs", value / 1e9) }
        if value >= 1e6 { return String(format: "%.2fms", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1fµs", value / 1e3) }
        return "\(ns)ns"
    }

    static func size(_ bytes: UInt64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

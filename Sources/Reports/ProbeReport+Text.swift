import Foundation
import Probes

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
        if !lostEvents.isEmpty {
            let lost = lostEvents.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            lines.append("LOST EVENTS (the counts below are short by these): \(lost.joined(separator: ", "))")
        }
        for process in processes {
            lines.append("")
            let exit = process.exit.map { ", \($0)" } ?? ", running"
            lines.append("PID \(process.pid)  \(process.comm)  (ppid \(process.ppid)\(exit))  "
                + "\(process.syscallTotal) syscalls")
            let sorted = process.syscalls.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            guard !sorted.isEmpty else { continue }
            lines.append("  " + "SYSCALL".padding(toLength: 24, withPad: " ", startingAt: 0) + "COUNT".leftPadded(12))
            for (name, count) in sorted.prefix(Self.syscallRowsShown) {
                lines.append("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0) + "\(count)".leftPadded(12))
            }
            let rest = sorted.dropFirst(Self.syscallRowsShown)
            if !rest.isEmpty {
                let label = "(\(rest.count) others)".padding(toLength: 24, withPad: " ", startingAt: 0)
                lines.append("  " + label + "\(rest.reduce(0) { $0 + $1.value })".leftPadded(12))
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

import Analysis
import Foundation
import Recording

extension ProbeReport {
    /// Stacks printed per process (the JSON has up to `AllocationRecord.stacksListed`), and frames per stack.
    public static let allocationStacksShown = 5
    public static let allocationFramesShown = 12

    /// The `alloc` lines of a process: what is still allocated, its sampling, and the top stacks.
    static func allocationLines(_ report: AllocationRecord) -> [String] {
        if let error = report.error { return ["  alloc    \(error)"] }
        let exact = report.sampleEvery == 1
        let sampling = exact
            ? "every allocation tracked (exact)"
            : "sampled: 1 in \(report.sampleEvery) allocations tracked, weighted ×\(report.sampleEvery);"
                + " all of \(bytes(report.alwaysSampledBytes)) or more"
        let approx = exact ? "" : "~"
        var lines = ["  alloc    outstanding \(approx)\(bytes(report.estimatedBytes)) in \(approx)\(report.estimatedCount) blocks"
            + " (\(report.sampledCount) tracked); \(sampling)"]
        guard !report.stacks.isEmpty else { return lines }
        lines.append("  " + "OUTSTANDING".leftPadded(14) + "BLOCKS".leftPadded(12) + "TRACKED".leftPadded(10) + "  STACK (innermost first)")
        for stack in report.stacks.prefix(allocationStacksShown) {
            let frames = stack.frames.isEmpty ? ["[stack not captured]"] : stack.frames
            lines.append("  " + "\(approx)\(bytes(stack.estimatedBytes))".leftPadded(14)
                + "\(approx)\(stack.estimatedCount)".leftPadded(12) + "\(stack.sampledCount)".leftPadded(10)
                + "  " + frames[0])
            for frame in frames.dropFirst().prefix(allocationFramesShown - 1) {
                lines.append(String(repeating: " ", count: 40) + frame)
            }
            if frames.count > allocationFramesShown {
                lines.append(String(repeating: " ", count: 40) + "… \(frames.count - allocationFramesShown) more frames")
            }
        }
        let rest = report.stacks.count - min(report.stacks.count, allocationStacksShown) + report.stacksNotShown
        if rest > 0 { lines.append("  … \(rest) more stacks with outstanding allocations (--json lists \(AllocationRecord.stacksListed))") }
        return lines
    }

    /// A size in B, KiB or MiB.
    public static func bytes(_ count: UInt64) -> String {
        let value = Double(count)
        if value >= 1_048_576 { return String(format: "%.1f MiB", value / 1_048_576) }
        if value >= 1024 { return String(format: "%.1f KiB", value / 1024) }
        return "\(count) B"
    }

    /// A growth (or a bound of one) with its sign: "+12.5 KiB", "-300 B".
    public static func signedBytes(_ value: Double) -> String {
        (value < 0 ? "-" : "+") + bytes(UInt64(abs(value).rounded()))
    }
}

import ArchbenchCore
import Recording

/// What `archbench probe` reports: the recording's processes with the pauses the analysis found in
/// it (the `probe --json` shape of docs/architecture.md, encoded with snake_case keys).
public struct ProbeReport: Codable, Sendable {
    public var clock: String
    public var startNs: UInt64
    public var endNs: UInt64
    /// Why the run ended: duration, signal, command_exited or targets_exited.
    public var endReason: String
    public var processes: [ProcessRecord]
    /// The spawned command, when there was one.
    public var command: CommandOutcome?
    /// Events the kernel side dropped, by family and reason; empty when none were.
    public var lostEvents: [String: UInt64]
    /// Stop-the-world pauses: detected in the off-CPU intervals, or confirmed by the runtime.
    public var pauses: [DetectedPause]
    /// How many off-CPU intervals of at least `min_offcpu_interval_ns` the kernel sent.
    public var offcpuIntervals: Int
    /// The longest of those intervals (at most `ProbeAnalysis.offcpuSpansKept`), by start: what a
    /// trace is drawn from once the recording is gone.
    public var offcpuSpans: [OffCPUInterval] = []
    /// Intervals left out of `offcpuSpans` (the shortest).
    public var offcpuSpansDropped: Int = 0
    /// USDT probes of runtimes found in the targets (attached, or why not).
    public var runtimeProbes: [String]
    public var minOffcpuIntervalNs: UInt64
    /// The probe families loaded (bpf/NAME.bpf.c).
    public var families: [String]
}

extension ProbeReport: ProbeSpan {}

/// Turns a probe recording into its report.
public enum ProbeAnalysis {
    /// Off-CPU spans a report keeps: enough for a trace of a long run, while a busy one (every
    /// thread blocking a thousand times a second) cannot grow the results file without bound.
    public static let offcpuSpansKept = 20_000

    /// The recording with its pauses: the detector's over the off-CPU intervals, merged with the
    /// runtimes' own (`PauseConfirmation`).
    public static func report(of recording: ProbeRecording, detector: PauseDetector = PauseDetector()) -> ProbeReport {
        let activity = recording.processes.flatMap { process in
            process.threads.map { ThreadActivity(tid: $0.tid, tgid: process.pid, onCpuNs: $0.oncpuNs) }
        }
        let pauses = PauseConfirmation.merge(
            detector.detect(recording.offcpuIntervals, threads: activity), with: recording.runtimePauses,
            runtimeProbed: Set(recording.runtimeProbedPids))
        let spans = longestSpans(recording.offcpuIntervals, keeping: offcpuSpansKept)
        return ProbeReport(
            clock: recording.clock, startNs: recording.startNs, endNs: recording.endNs, endReason: recording.endReason,
            processes: recording.processes, command: recording.command, lostEvents: recording.lostEvents,
            pauses: pauses, offcpuIntervals: recording.offcpuIntervals.count,
            offcpuSpans: spans, offcpuSpansDropped: recording.offcpuIntervals.count - spans.count,
            runtimeProbes: recording.runtimeProbes, minOffcpuIntervalNs: recording.minOffcpuIntervalNs,
            families: recording.families)
    }

    /// The `limit` longest intervals, by start. The long ones are what a trace is read for (pauses,
    /// blocking under a slow request); ties are broken by start and thread so the choice is stable.
    static func longestSpans(_ intervals: [OffCPUInterval], keeping limit: Int) -> [OffCPUInterval] {
        intervals.sorted { ($0.startNs, $0.tid, $0.endNs) < ($1.startNs, $1.tid, $1.endNs) }.longest(limit, by: \.durationNs)
    }
}

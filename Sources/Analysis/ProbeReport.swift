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
    /// USDT probes of runtimes found in the targets (attached, or why not).
    public var runtimeProbes: [String]
    public var minOffcpuIntervalNs: UInt64
    /// The probe families loaded (bpf/NAME.bpf.c).
    public var families: [String]
}

extension ProbeReport: ProbeSpan {}

/// Turns a probe recording into its report.
public enum ProbeAnalysis {
    /// The recording with its pauses: the detector's over the off-CPU intervals, merged with the
    /// runtimes' own (`PauseConfirmation`).
    public static func report(of recording: ProbeRecording, detector: PauseDetector = PauseDetector()) -> ProbeReport {
        let activity = recording.processes.flatMap { process in
            process.threads.map { ThreadActivity(tid: $0.tid, tgid: process.pid, onCpuNs: $0.oncpuNs) }
        }
        let pauses = PauseConfirmation.merge(
            detector.detect(recording.offcpuIntervals, threads: activity), with: recording.runtimePauses,
            runtimeProbed: Set(recording.runtimeProbedPids))
        return ProbeReport(
            clock: recording.clock, startNs: recording.startNs, endNs: recording.endNs, endReason: recording.endReason,
            processes: recording.processes, command: recording.command, lostEvents: recording.lostEvents,
            pauses: pauses, offcpuIntervals: recording.offcpuIntervals.count, runtimeProbes: recording.runtimeProbes,
            minOffcpuIntervalNs: recording.minOffcpuIntervalNs, families: recording.families)
    }
}

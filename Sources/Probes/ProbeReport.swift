import Analysis

/// What `archbench probe` found: the DESIGN.md JSON shape (encoded with snake_case keys).
public struct ProbeReport: Codable, Sendable {
    public var clock = "CLOCK_MONOTONIC"
    public var startNs: UInt64
    public var endNs: UInt64
    /// Why the run ended: duration, signal, command_exited or targets_exited.
    public var endReason: String
    public var processes: [ProcessReport]
    /// The spawned command, when there was one.
    public var command: CommandOutcome?
    /// Events the kernel side dropped, by family and reason; empty when none were.
    public var lostEvents: [String: UInt64]
    /// Stop-the-world pauses found in the off-CPU intervals (Analysis/PauseDetector).
    public var pauses: [DetectedPause]
    /// How many off-CPU intervals of at least `min_offcpu_interval_ns` the kernel sent.
    public var offcpuIntervals: Int
    /// USDT probes of runtimes found in the targets (attached, or why not).
    public var runtimeProbes: [String]
    public var minOffcpuIntervalNs: UInt64
    /// The probe families loaded (bpf/NAME.bpf.c). Without "syscalls" (opt-in: `--syscalls`) the
    /// processes' syscall counts and latencies are empty because they were not traced.
    public var families: [String]

    public var syscallsTraced: Bool { families.contains(ProbeFamily.syscalls.rawValue) }

    public var durationSeconds: Double { Double(endNs &- startNs) / 1e9 }
}

public struct ProcessReport: Codable, Sendable {
    public var pid: Int32
    public var ppid: Int32
    public var comm: String
    /// The label given to it or to the target it descends from (e.g. "monolith", "orders").
    public var label: String?
    public var startNs: UInt64
    public var exitNs: UInt64?
    /// The process's exit as wait(2) decoded it; nil while it still ran at the end.
    public var exit: ExitStatus?
    public var syscalls: [String: UInt64]
    public var syscallTotal: UInt64
    /// Entry-to-exit latency by syscall (calls that had entered before the probes attached, or never
    /// return, are not timed).
    public var syscallLatencyNs: [String: LatencyStats]
    /// Sums over the process's threads: on CPU, off CPU, and the runnable part of off CPU.
    public var oncpuNs: UInt64
    public var offcpuNs: UInt64
    public var runqNs: UInt64
    /// Part of offcpu_ns: switched in, but the task clock did not advance (hypervisor steal).
    public var stolenNs: UInt64
    public var threads: [ThreadReport]
    public var pageFaults: UInt64
    /// Nil when the process's RSS never changed while probed.
    public var rssBytes: RSSSummary?
    /// [CLOCK_MONOTONIC ns, bytes], one point per change of max(64 KiB, RSS/128).
    public var rssTimeline: [[UInt64]]
    /// Nil when none of its sockets had trouble.
    public var tcp: TCPTrouble?
    /// Outstanding native allocations by stack; nil unless asked for (`--alloc`).
    public var allocations: AllocationReport? = nil
}

public struct TCPTrouble: Codable, Sendable, Equatable {
    public var retransmits: UInt64
    public var resetsSent: UInt64
    public var resetsReceived: UInt64
    public var listenOverflows: UInt64
    public var drops: UInt64
}

public struct ThreadReport: Codable, Sendable {
    public var tid: Int32
    public var oncpuNs: UInt64
    public var offcpuNs: UInt64
    public var runqNs: UInt64
    public var stolenNs: UInt64
    public var switches: UInt32
}

public struct RSSSummary: Codable, Sendable, Equatable {
    public var min: UInt64
    public var max: UInt64
    public var last: UInt64
}

public struct CommandOutcome: Codable, Sendable {
    public var argv: [String]
    public var pid: Int32
    /// Nil when the command was still running at the end and had to be stopped.
    public var exit: ExitStatus?
    /// True when archbench stopped the command (at the end of --duration, or on a signal).
    public var stoppedByArchbench: Bool
}

/// A decoded wait(2) status.
public struct ExitStatus: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The exit code, when the process exited normally.
    public var code: Int32?
    /// The signal that killed it, otherwise.
    public var signal: Int32?

    public init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            code = (status >> 8) & 0xff
        } else {
            signal = status & 0x7f
        }
    }

    public var description: String {
        if let code { return "exited with status \(code)" }
        return "killed by signal \(signal ?? 0)"
    }
}

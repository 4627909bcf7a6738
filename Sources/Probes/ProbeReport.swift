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

    public var durationSeconds: Double { Double(endNs &- startNs) / 1e9 }
}

public struct ProcessReport: Codable, Sendable {
    public var pid: Int32
    public var ppid: Int32
    public var comm: String
    public var startNs: UInt64
    public var exitNs: UInt64?
    /// The process's exit as wait(2) decoded it; nil while it still ran at the end.
    public var exit: ExitStatus?
    public var syscalls: [String: UInt64]
    public var syscallTotal: UInt64
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

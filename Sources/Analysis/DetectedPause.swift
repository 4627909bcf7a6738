/// How a pause is known.
public enum PauseKind: String, Codable, Sendable, Hashable {
    /// Inferred from the scheduler alone by `PauseDetector`.
    case stopTheWorld = "stop_the_world"
    /// Reported by the runtime itself (a USDT GC probe: HotSpot's gc__begin/gc__end today).
    case confirmed
}

/// One pause of one process: the `pauses` entries of `archbench probe --json` (docs/architecture.md). Encoded with
/// `.convertToSnakeCase` its keys are `pid`, `start_ns`, `duration_ns`, `kind`, plus `stopped_threads`
/// and `running_thread` (absent when no thread ran).
public struct DetectedPause: Codable, Sendable, Hashable {
    public var pid: Int32
    /// When the last of the stopped threads stopped, CLOCK_MONOTONIC ns.
    public var startNs: UInt64
    public var durationNs: UInt64
    public var kind: PauseKind
    /// The threads that were held and released together, ascending.
    public var stoppedThreads: [Int32]
    /// The thread that ran for most of the pause while the others waited (the collector), if one did.
    public var runningThread: Int32?

    public init(pid: Int32, startNs: UInt64, durationNs: UInt64, kind: PauseKind = .stopTheWorld,
                stoppedThreads: [Int32], runningThread: Int32? = nil) {
        self.pid = pid
        self.startNs = startNs
        self.durationNs = durationNs
        self.kind = kind
        self.stoppedThreads = stoppedThreads
        self.runningThread = runningThread
    }

    /// When the threads were released.
    public var endNs: UInt64 { startNs.addingReportingOverflow(durationNs).overflow ? .max : startNs + durationNs }
}

import Recording

/// What `archbench leak-hunt` found: a leak verdict per process (the `leak-hunt --json` shape of
/// docs/architecture.md), over one probe recording.
public struct LeakHuntReport: Codable, Sendable {
    /// A leak is suspected in at least one process.
    public var leakSuspected: Bool
    public var clock = "CLOCK_MONOTONIC"
    public var startNs: UInt64
    public var endNs: UInt64
    /// Why the recording ended: duration, the targets' exit, a signal.
    public var endReason: String
    public var processes: [ProcessLeak]
    /// The steady load archbench drove itself, when asked (`--url`, `--rate`).
    public var load: LeakHuntLoad?
    public var lostEvents: [String: UInt64]

    public init(recording: ProbeRecording, load: LeakHuntLoad?, detector: LeakDetector = LeakDetector()) {
        let labels = Dictionary(recording.processes.compactMap { process in process.label.map { (process.pid, $0) } },
                                uniquingKeysWith: { first, _ in first })
        processes = ProcessLeak.of(recording.processes, startNs: recording.startNs, endNs: recording.endNs, labels: labels,
                                   detector: detector)
        leakSuspected = processes.contains(where: \.leakSuspected)
        startNs = recording.startNs
        endNs = recording.endNs
        endReason = recording.endReason
        self.load = load
        lostEvents = recording.lostEvents
    }
}

/// The load a leak hunt drove: open loop at a fixed rate.
public struct LeakHuntLoad: Codable, Sendable, Equatable {
    public var url: String
    public var targetRate: Double
    public var requests: UInt64
    public var requestsPerS: Double
    public var errors: UInt64

    public init(_ result: LoadResult) {
        url = result.url
        targetRate = result.targetRate ?? 0
        requests = result.requests
        requestsPerS = result.requestsPerS
        errors = result.errors.total
    }
}

import Recording

/// Which pauses a run reports, where the runtime's own word and the scheduler's view meet.
public enum PauseConfirmation {
    /// The runtime's own GC pauses (USDT) are the truth where there are any: each becomes a confirmed
    /// pause with the runtime's start and duration. In a process whose runtime probes are attached
    /// (`runtimeProbed`), the detector's pauses are dropped: the runtime reports its collections
    /// itself, and on a thread-pool server the scheduler's view alone mistakes the pool's rhythm for
    /// pauses (docs/pause-detection.md shows it on a Java HttpServer). In other processes the
    /// detector's pauses stay, but those overlapping a confirmed one go.
    public static func merge(_ detected: [DetectedPause], with runtimePauses: [RuntimePause],
                             runtimeProbed: Set<Int32> = []) -> [DetectedPause] {
        let confirmed = runtimePauses.map { pause in
            DetectedPause(pid: pause.pid, startNs: pause.startNs, durationNs: pause.endNs - pause.startNs,
                          kind: .confirmed, stoppedThreads: [], runningThread: pause.tid)
        }
        let inferred = detected.filter { pause in
            !runtimeProbed.contains(pause.pid)
                && !confirmed.contains { $0.pid == pause.pid && $0.startNs < pause.endNs && pause.startNs < $0.endNs }
        }
        return (confirmed + inferred).sorted { $0.startNs < $1.startNs }
    }
}

import CProbe
import Recording

/// bpf/sched.bpf.c: on-CPU, off-CPU, run-queue and stolen time per thread, and each off-CPU interval
/// of at least `minOffCPUIntervalNs` one by one (with the syscall it blocked in) for the analysis.
final class SchedProbe: FamilyProbe {
    static let family = ProbeFamily.sched
    private static let events = "sched_events"
    let ringBuffer: String? = events
    /// Off-CPU intervals at least this long are sent one by one (`targ_min_offcpu_ns`): long enough
    /// to leave ordinary wake-ups out, short enough for the shortest pause worth reporting.
    static let minOffCPUIntervalNs: UInt64 = 1_000_000

    private let session: ProbeSession
    /// What the ring buffer delivered so far.
    private(set) var intervals: [OffCPUInterval] = []

    /// Sets the family's tunables; call before the session loads.
    init(session: ProbeSession) throws(ProbeError) {
        self.session = session
        try session.setTunable(.sched, "targ_min_offcpu_ns", Self.minOffCPUIntervalNs)
    }

    /// Starts gathering the ring buffer; call after the session loaded.
    func collect() throws(ProbeError) {
        try session.collect(Self.events, as: offcpu_event.self)
    }

    func drain() throws(ProbeError) {
        intervals += try session.take(Self.events, as: offcpu_event.self).map { event in
            OffCPUInterval(tid: Int32(bitPattern: event.tid), tgid: Int32(bitPattern: event.tgid), startNs: event.start_ns,
                           endNs: event.end_ns, runqNs: event.runq_ns, syscall: event.syscall,
                           preempted: event.preempted != 0)
        }
    }

    /// Every thread's totals with the time up to `endNs` of the switch each thread is still in: the
    /// kernel adds a stretch to the totals at the switch that ends it, so the stretch open at the end
    /// of the run is added here, by the same rule (bpf/sched.bpf.c: off-CPU from the switch-out, of
    /// which run queue from the wake-up, or all of it when preempted; on-CPU from the switch-in).
    func threads(at endNs: UInt64) throws(ProbeError) -> [(tgid: Int32, thread: ThreadRecord)] {
        var totals: [Int32: thread_sched] = [:]
        for entry in try session.entries(of: "thread_sched", key: UInt32.self, value: thread_sched.self) {
            totals[Int32(bitPattern: entry.key)] = entry.value
        }
        for entry in try session.entries(of: "thread_state", key: UInt32.self, value: thread_state.self) {
            let tid = Int32(bitPattern: entry.key), state = entry.value
            guard var times = totals[tid] else { continue }
            if state.out_ns > 0, endNs > state.out_ns {
                times.offcpu_ns += endNs - state.out_ns
                if state.preempted != 0 {
                    times.runq_ns += endNs - state.out_ns
                } else if state.wake_ns != 0, state.wake_ns >= state.out_ns, endNs > state.wake_ns {
                    // (A live snapshot reads the maps after `endNs`: a wake-up since is not counted.)
                    times.runq_ns += endNs - state.wake_ns
                }
            } else if state.in_ns > 0, endNs > state.in_ns {
                times.oncpu_ns += endNs - state.in_ns
            }
            totals[tid] = times
        }
        return totals.map { tid, times in
            (Int32(bitPattern: times.tgid),
             ThreadRecord(tid: tid, oncpuNs: times.oncpu_ns, offcpuNs: times.offcpu_ns, runqNs: times.runq_ns,
                          stolenNs: times.stolen_ns, switches: times.switches))
        }
    }
}

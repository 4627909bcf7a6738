/// One off-CPU interval of a thread, as the kernel delivers it (`struct offcpu_event` in bpf/sched.h):
/// from the switch-out to the next switch-in of one thread.
///
/// The kernel reports only intervals at least its threshold long (`ProbeRecording.minOffcpuIntervalNs`).
/// A shorter one is never seen, so between two reported intervals a thread was on a CPU, or off it only
/// briefly: the analysis counts that time as on-CPU.
public struct OffCPUInterval: Codable, Sendable, Hashable {
    public var tid: Int32
    public var tgid: Int32
    /// The switch-out, CLOCK_MONOTONIC ns.
    public var startNs: UInt64
    /// The switch-in, CLOCK_MONOTONIC ns.
    public var endNs: UInt64
    /// The part of the interval spent runnable, waiting for a CPU: all of it when the thread was
    /// preempted, the tail after the wake-up when it blocked.
    public var runqNs: UInt64
    /// The syscall it was blocked in, by the kernel's number (`SyscallTable` names it), nil when none
    /// (the kernel's -1).
    public var syscall: Int32?
    /// It was switched out while runnable (preempted), not because it blocked.
    public var preempted: Bool

    /// `syscall` takes the kernel's number as is: a negative one (the kernel's -1) becomes nil.
    public init(tid: Int32, tgid: Int32, startNs: UInt64, endNs: UInt64, runqNs: UInt64 = 0,
                syscall: Int32?, preempted: Bool = false) {
        self.tid = tid
        self.tgid = tgid
        self.startNs = startNs
        self.endNs = max(startNs, endNs)
        self.runqNs = runqNs
        self.syscall = syscall.flatMap { $0 < 0 ? nil : $0 }
        self.preempted = preempted
    }

    /// Decoded through the init, so an interval read from a file keeps its end at or after its start.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tid: try container.decode(Int32.self, forKey: .tid), tgid: try container.decode(Int32.self, forKey: .tgid),
                  startNs: try container.decode(UInt64.self, forKey: .startNs), endNs: try container.decode(UInt64.self, forKey: .endNs),
                  runqNs: try container.decode(UInt64.self, forKey: .runqNs),
                  syscall: try container.decodeIfPresent(Int32.self, forKey: .syscall),
                  preempted: try container.decode(Bool.self, forKey: .preempted))
    }

    public var durationNs: UInt64 { endNs - startNs }

    /// When the thread was woken: the end of the sleeping part, `endNs − runqNs`. The run-queue wait
    /// that follows is the scheduler's delay, not the thread's wait, so a release is dated by its wake
    /// rather than by the switch-in (which on a busy machine comes milliseconds later). A preempted
    /// interval was runnable throughout, so its wake is its start.
    public var wakeNs: UInt64 { endNs - min(runqNs, durationNs) }
}

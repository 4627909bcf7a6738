import Recording

/// Per-thread totals over the run (the kernel's `struct thread_sched`, plus the thread list): what the
/// detector needs to know about a thread that it may not have seen off-CPU.
public struct ThreadActivity: Codable, Sendable, Hashable {
    public var tid: Int32
    public var tgid: Int32
    /// Time on a CPU over the run. It bounds how long the thread can have run inside any interval,
    /// which tells a thread that sat blocked (and so never reported an interval) from one that ran.
    public var onCpuNs: UInt64

    public init(tid: Int32, tgid: Int32, onCpuNs: UInt64) {
        self.tid = tid
        self.tgid = tgid
        self.onCpuNs = onCpuNs
    }
}

/// What an off-CPU interval says about a thread's progress.
public enum WaitKind: String, Sendable, Hashable {
    /// Blocked in a lock or condition wait (futex, …): the thread wanted to go on and something held
    /// it; a stop-the-world pause parks threads this way.
    case stopping
    /// Waiting for work (epoll_wait, accept, read on a socket, nanosleep, …): an idle server waits
    /// this way and must not look paused.
    case idle
    /// Anything else: preempted (runnable), blocked outside a syscall (a page fault) or in another
    /// syscall (disk I/O, …). The thread made no progress, but nothing says the process stopped it.
    case other
}

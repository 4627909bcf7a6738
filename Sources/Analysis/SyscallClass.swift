import Recording

/// What a thread blocked in a syscall is waiting for, by the syscall's name; numbers come from the
/// one syscall table the probes name syscalls with (`SyscallTable`).
public enum SyscallClass: CaseIterable, Sendable {
    /// Held by a lock or condition: futexes, signal-based stop-the-world (pause, rt_sigsuspend, as in
    /// the Boehm collector), System V semaphores.
    case stopping
    /// Waiting for work: socket reads and accepts, polling, sleeping, io_uring.
    case idle

    public var names: [String] {
        switch self {
        case .stopping:
            ["futex", "futex_waitv", "pause", "rt_sigsuspend", "semop", "semtimedop"]
        case .idle:
            ["read", "readv", "poll", "select", "pselect6", "ppoll", "epoll_wait", "epoll_pwait", "epoll_pwait2",
             "accept", "accept4", "recvfrom", "recvmsg", "recvmmsg", "nanosleep", "clock_nanosleep",
             "rt_sigtimedwait", "io_uring_enter"]
        }
    }

    /// The syscall numbers of `names` on this architecture (a name it lacks is left out).
    public var numbers: Set<Int32> {
        Set(names.compactMap(SyscallTable.number(of:)))
    }
}

import Analysis
import ArchbenchCore
import Recording

/// x86_64 syscall numbers the synthetic traces use.
enum Syscall {
    static let read: Int32 = 0
    static let fsync: Int32 = 74
    static let futex: Int32 = 202
    static let clockNanosleep: Int32 = 230
    static let epollWait: Int32 = 232
}

/// Synthetic traces are written in milliseconds from an arbitrary CLOCK_MONOTONIC origin.
let origin: UInt64 = 5_000_000_000_000

func at(_ ms: Double) -> UInt64 { origin + nanoseconds(ms) }
func nanoseconds(_ ms: Double) -> UInt64 { UInt64((ms * 1_000_000).rounded()) }

/// The off-CPU intervals of one process, as the kernel would report them.
struct Trace {
    var pid: Int32 = 100
    var intervals: [OffCPUInterval] = []

    /// `tid` was off-CPU from `from` to `to` ms; `runq` ms of it (the tail, or all when preempted)
    /// waiting for a CPU.
    mutating func off(_ tid: Int32, _ from: Double, _ to: Double, in syscall: Int32?, runq: Double = 0,
                      preempted: Bool = false) {
        intervals.append(OffCPUInterval(tid: tid, tgid: pid, startNs: at(from), endNs: at(to),
                                        runqNs: nanoseconds(runq), syscall: syscall, preempted: preempted))
    }

    /// `tid` serves requests from `from` to `to` ms: 2 ms idle in epoll_wait, then 1 ms of work, …
    mutating func serve(_ tid: Int32, from: Double, to: Double) {
        var t = from
        while t + 3 <= to {
            off(tid, t, t + 2, in: Syscall.epollWait)
            t += 3
        }
    }
}


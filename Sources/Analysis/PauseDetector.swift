import Recording

/// Finds stop-the-world pauses of any runtime (a GC, a global lock, a safepoint) from the scheduler's
/// view alone: intervals in which a process's request-serving threads all stopped making progress at
/// once, either all blocked or one running while the rest waited, and were then released together.
///
/// ## The picture
///
/// A stop-the-world collector raises a flag; every mutator thread parks at its next safepoint on a
/// lock or condition variable (a futex); the collector runs; then it releases them all at once. In the
/// kernel's off-CPU intervals (`OffCPUInterval`) that leaves a signature that neither an idle server
/// nor ordinary lock contention has:
///
/// 1. **Released together.** Several threads of the process come out of a *stopping* wait (futex and
///    the like, `WaitKind.stopping`) within `resumeWindowNs` of each other. Each release is dated by
///    its wake-up (`OffCPUInterval.wakeNs`), not its switch-in, so a busy run queue after the release
///    does not smear it. Idle waits (epoll_wait, accept, nanosleep, …) never count: an idle server's
///    threads all sit off-CPU at once and may well wake together when a burst of requests arrives.
///    A contended lock hands over to one waiter at a time, each after the previous one's critical
///    section, so its waiters wake spread out; waiters that block at unrelated times are never all
///    off-CPU together.
/// 2. **Stopped together.** Going back from its release, each of those threads (the *stopped
///    threads*) was off-CPU without a run longer than `gapToleranceNs` back to its *stop time*, the
///    start of that stretch, whatever it waited in on the way: a worker that was idle in epoll_wait or
///    preempted when the flag went up comes back, checks the flag for a few microseconds and parks; it
///    never made progress. The pause runs from the last stop time to the release:
///
///        start = the (k+1)-th latest stop time, k = ⌊lateStopFraction × stopped threads⌋
///        end   = lower median of the stopped threads' wake-ups
///
///    With two or three stopped threads k is 0 and the start is the last stop, when every one of them
///    was off-CPU. With more, a quarter may stop late without moving the start: a thread preempted
///    for less than the kernel's threshold just before it parks seems to have run until it parked,
///    and a straggler on its way to the safepoint belongs to the pause in the runtime's own log. The
///    median keeps one stray release at the edge of the window from moving the end. If every
///    stopped thread was already waiting when the pause began, the last stop time comes before the
///    pause: then the pause cannot have begun after the first thread parked, and if the thread that
///    ran the pause (step 3) was switched in after a wait between those two moments, the pause starts
///    at that switch-in (the collector woke up to stop the world).
/// 3. **Nothing else made progress.** Over `[start, end)` each other thread's on-CPU time is estimated
///    as the length of the pause minus its reported off-CPU time inside it, and never more than its
///    run total (`ThreadActivity.onCpuNs`), so that a thread that sat blocked without reporting an
///    interval does not look busy. Up to `maxRunningThreads` request-serving threads may run (the
///    collector); the others together may run at most `maxProgressFraction` of the pause. The thread
///    that ran longest is reported as `runningThread` if it ran at least `runnerMinOnCpuFraction` of
///    the pause.
///    If none ran that long, the others' CPU time plus the longest busy wait of one of them (a
///    lock holder blocked on the disk) must reach `minWorkFraction` of the pause: a process whose
///    threads were all parked or idle did no work to stop anyone for (a thread pool idle on its
///    queue's futex and woken by a burst of requests).
/// 4. **One pause per event.** Every release, with the releases that follow it within the window,
///    makes a candidate that must last at least `minPauseNs` and have at least `minStoppedThreads`
///    stopped threads. Candidates that overlap in time or share a release are views of one event (the
///    same release seen from each of its threads; a release convoy right after a pause, which
///    stretches back into it): the one with the most stopped threads is kept, then the one that ends
///    first.
///
/// **Request-serving threads** are inferred: a thread that waited at least `minWaitsForServing` times
/// in an idle or stopping wait serves, or waits for work (a pool on a condition variable). A thread
/// never seen in such a wait — one that only computes, or only ever blocks briefly — is taken as a
/// helper (a JIT compiler, a spinning GC worker) and may run during a pause freely.
///
/// ## The kernel's threshold
///
/// The kernel reports only off-CPU intervals at least `targ_min_offcpu_ns` long (1 ms, set in
/// Sources/Probes/SchedProbe.swift; the recording carries it as `minOffcpuIntervalNs`). Nothing in
/// the maths depends on its value, but a pause shorter than it cannot be seen, so keep `minPauseNs` at
/// or above it. Shorter off-CPU periods count as on-CPU time: a thread preempted for less than the
/// threshold just before it parks seems to stop late (a later start), and other threads seem busier.
/// Either makes a pause shorter or rejects it; neither invents one.
///
/// ## Limits
///
/// - A pause is seen only through threads that try to run during it. A runtime that collects on its
///   only serving thread (Node.js's main thread) shows no stopped thread: only its USDT probes can tell
///   (`PauseKind.confirmed`). On a CPU-starved machine, workers that never get a CPU during a pause
///   never reach its safepoint, and the pause goes unseen in them.
/// - Anything that parks every serving thread on a futex and releases them together looks the same: a
///   global lock or barrier released by a broadcast, or timed condition waits that happen to expire
///   together in an otherwise idle process.
/// - Two pauses with no run of the stopped threads in between (released only to wait for a CPU and
///   park again, on a starved machine) make one stretch: the second reaches back into the first, and
///   only the first is reported.
/// - A parallel collector runs several threads during the pause; if those threads also count as
///   serving (they wait on futexes between collections), raise `maxRunningThreads` to their number.
/// - A pause still running when the recording ends has no release, so it is not reported.
public struct PauseDetector: Sendable {
    /// The shortest pause reported. Default 1 ms, the kernel's off-CPU threshold: a
    /// shorter pause cannot be seen.
    public var minPauseNs: UInt64 = 1_000_000
    /// How close together the stopped threads' wake-ups must be to count as one release. Default
    /// 1 ms: a broadcast wakes every waiter within microseconds; 1 ms leaves room for a collector that
    /// releases threads one by one in a loop.
    public var resumeWindowNs: UInt64 = 1_000_000
    /// The longest run between two off-CPU intervals of one thread that still counts as not running.
    /// Default 100 µs: enough to return from an idle wait, check a flag and park; less than any real
    /// piece of work, which breaks the stretch.
    public var gapToleranceNs: UInt64 = 100_000
    /// Default 2: one thread waiting on a lock is not the world stopping.
    public var minStoppedThreads = 2
    /// The share of the stopped threads that may stop after the pause has started (rounded down):
    /// the pause starts at the stop of the next one. Default 0.25, one in four: with two or three
    /// stopped threads the last stop is the start, with four to seven the second last.
    public var lateStopFraction = 0.25
    /// How many threads may run during a pause without counting as progress (the collector). Default 1.
    public var maxRunningThreads = 1
    /// How much CPU the request-serving threads other than the stopped and the running ones may use
    /// during a pause, as a fraction of its length (0.25: a quarter of one thread). Default 0.25.
    public var maxProgressFraction = 0.25
    /// The share of the pause a thread must have been on-CPU to be reported as the one that ran.
    /// Default 0.5.
    public var runnerMinOnCpuFraction = 0.5
    /// How much work a pause with no running thread must show, as a share of its length: the other
    /// threads' CPU time plus the longest busy wait (`WaitKind.other`) of one of them. Default 0.5.
    /// Below it every thread was parked or idle — a thread pool idle on its queue (a futex) and
    /// woken by a burst of requests looks released together — and nothing was stopped.
    public var minWorkFraction = 0.5
    /// How many idle or stopping waits make a thread request-serving. Default 2.
    public var minWaitsForServing = 2
    /// Syscalls in which a blocked thread is stopped (held by a lock or condition).
    public var stoppingSyscalls: Set<Int32> = PauseDetector.defaultStoppingSyscalls
    /// Syscalls in which a blocked thread is idle (waiting for work).
    public var idleSyscalls: Set<Int32> = PauseDetector.defaultIdleSyscalls

    public static let defaultStoppingSyscalls = SyscallClass.stopping.numbers
    public static let defaultIdleSyscalls = SyscallClass.idle.numbers

    public init() {}

    /// What `interval` says about its thread: preempted is `.other` whatever the syscall.
    public func waitKind(of interval: OffCPUInterval) -> WaitKind {
        guard !interval.preempted, let syscall = interval.syscall else { return .other }
        if stoppingSyscalls.contains(syscall) { return .stopping }
        if idleSyscalls.contains(syscall) { return .idle }
        return .other
    }

    /// `waitKind(of:)` for many intervals at a time: the syscall sets read once into a table.
    struct WaitKinds {
        let detector: PauseDetector
        /// By syscall number, up to the largest in either set.
        let table: [WaitKind]

        init(_ detector: PauseDetector) {
            self.detector = detector
            let top = min(Int(detector.stoppingSyscalls.union(detector.idleSyscalls).max() ?? -1), 4095)
            table = top < 0 ? [] : (0...top).map { number in
                detector.stoppingSyscalls.contains(Int32(number)) ? .stopping
                    : detector.idleSyscalls.contains(Int32(number)) ? .idle : .other
            }
        }

        func callAsFunction(_ interval: OffCPUInterval) -> WaitKind {
            guard !interval.preempted, let syscall = interval.syscall else { return .other }
            return syscall >= 0 && Int(syscall) < table.count ? table[Int(syscall)] : detector.waitKind(of: interval)
        }
    }

    /// The pauses of every process in `intervals`, by start time. `threads` (optional, any order)
    /// adds each thread's run totals and the threads that never went off-CPU long enough to be seen.
    public func detect(_ intervals: [OffCPUInterval], threads: [ThreadActivity] = []) -> [DetectedPause] {
        let intervalsByPid = Dictionary(grouping: intervals, by: \.tgid)
        let threadsByPid = Dictionary(grouping: threads, by: \.tgid)
        return intervalsByPid.keys.sorted().flatMap { pid in
            ProcessPauses(pid: pid, intervals: intervalsByPid[pid] ?? [], threads: threadsByPid[pid] ?? [],
                          detector: self).find()
        }.sorted { ($0.startNs, $0.pid) < ($1.startNs, $1.pid) }
    }
}

/// One thread's reported off-CPU intervals, in order.
struct ThreadTimeline {
    let tid: Int32
    let intervals: [OffCPUInterval]
    let kinds: [WaitKind]
    /// `reachedNs[i]`: the latest end among intervals 0…i (non-decreasing, so it can be searched even
    /// if the kernel ever sent overlapping intervals).
    let reachedNs: [UInt64]
    let onCpuTotalNs: UInt64?

    init(tid: Int32, intervals: [OffCPUInterval], onCpuTotalNs: UInt64?, waitKind: PauseDetector.WaitKinds) {
        self.tid = tid
        self.intervals = intervals.sorted { ($0.startNs, $0.endNs) < ($1.startNs, $1.endNs) }
        kinds = self.intervals.map { waitKind($0) }
        var reached: UInt64 = 0
        reachedNs = self.intervals.map { reached = max(reached, $0.endNs); return reached }
        self.onCpuTotalNs = onCpuTotalNs
    }

    /// The start of the unbroken off-CPU stretch that ends with interval `index`: going back, an
    /// interval belongs to it while the run between them is at most `toleranceNs`.
    func stretchStart(endingWith index: Int, toleranceNs: UInt64) -> UInt64 {
        var start = intervals[index].startNs
        var i = index - 1
        while i >= 0, reachedNs[i] + toleranceNs >= start {
            start = min(start, intervals[i].startNs)
            i -= 1
        }
        return start
    }

    /// The latest switch-in, at or before `limit`, that ended an idle or stopping wait (not a
    /// preemption, not a page fault): when the thread last began to run because something asked it
    /// to. The switch-in, not the wake-up: a thread acts only once it has a CPU.
    func lastRunAfterWait(atOrBefore limit: UInt64) -> UInt64? {
        var index = intervals.partitionIndex { $0.startNs > limit }
        while index > 0 {
            index -= 1
            if kinds[index] != .other, intervals[index].endNs <= limit { return intervals[index].endNs }
        }
        return nil
    }

    /// Estimated on-CPU time in `[from, to)`: its length minus the reported off-CPU time inside it
    /// (the union of the intervals, clipped), and no more than the run's total.
    func onCpuNs(from: UInt64, to: UInt64) -> UInt64 {
        var offNs: UInt64 = 0
        var covered = from
        for interval in intervals[reachedNs.partitionIndex { $0 > from }...] {
            if interval.startNs >= to { break }
            let start = max(interval.startNs, covered), end = min(interval.endNs, to)
            if end > start {
                offNs += end - start
                covered = end
            }
        }
        let onNs = (to - from) - offNs
        return min(onNs, onCpuTotalNs ?? onNs)
    }

    /// Its time in `[from, to)` off CPU in a busy wait (`WaitKind.other`: disk I/O, a page fault,
    /// runnable but preempted): working, though not on a CPU.
    func busyOffCpuNs(from: UInt64, to: UInt64) -> UInt64 {
        var busyNs: UInt64 = 0
        for index in intervals.indices[reachedNs.partitionIndex { $0 > from }...] {
            let interval = intervals[index]
            if interval.startNs >= to { break }
            guard kinds[index] == .other else { continue }
            let start = max(interval.startNs, from), end = min(interval.endNs, to)
            if end > start { busyNs += end - start }
        }
        return busyNs
    }
}

/// The search for one process's pauses. Threads are kept in an array by tid and named by their
/// place in it (`slot`), so that the search, which tries every release, looks nothing up by hash.
struct ProcessPauses {
    /// A stopping wait's end: a candidate release.
    struct Release {
        let slot: Int
        let tid: Int32
        let index: Int
        let wakeNs: UInt64
    }

    /// Another thread's estimated on-CPU time during a candidate pause.
    struct Other {
        let slot: Int
        let tid: Int32
        let onCpuNs: UInt64
    }

    let pid: Int32
    let detector: PauseDetector
    /// By tid.
    let timelines: [ThreadTimeline]
    /// By slot: the thread serves requests.
    let serving: [Bool]

    init(pid: Int32, intervals: [OffCPUInterval], threads: [ThreadActivity], detector: PauseDetector) {
        self.pid = pid
        self.detector = detector
        let intervalsByTid = Dictionary(grouping: intervals, by: \.tid)
        let onCpuByTid = Dictionary(threads.map { ($0.tid, $0.onCpuNs) }, uniquingKeysWith: max)
        let waitKind = PauseDetector.WaitKinds(detector)
        timelines = Set(intervalsByTid.keys).union(onCpuByTid.keys).sorted().map { tid in
            ThreadTimeline(tid: tid, intervals: intervalsByTid[tid] ?? [], onCpuTotalNs: onCpuByTid[tid], waitKind: waitKind)
        }
        serving = timelines.map { timeline in
            timeline.kinds.count { $0 == .stopping || $0 == .idle } >= detector.minWaitsForServing
        }
    }

    /// Every release, with the ones that follow it within the resume window (the latest per thread),
    /// is a candidate (step 4 above). Of valid candidates that overlap in time or share a release,
    /// the one with the most stopped threads is kept, then the one that ends first.
    func find() -> [DetectedPause] {
        var releases: [Release] = []
        for (slot, timeline) in timelines.enumerated() {
            for index in timeline.kinds.indices where timeline.kinds[index] == .stopping {
                releases.append(Release(slot: slot, tid: timeline.tid, index: index, wakeNs: timeline.intervals[index].wakeNs))
            }
        }
        releases.sort { ($0.wakeNs, $0.tid) < ($1.wakeNs, $1.tid) }
        var candidates: [(pause: DetectedPause, releases: Range<Int>)] = []
        var latestByThread: [Release] = []
        for first in releases.indices {
            var next = first
            while next < releases.count, releases[next].wakeNs - releases[first].wakeNs <= detector.resumeWindowNs {
                next += 1
            }
            // A window inside the last valid one has the same threads or fewer, and never wins.
            if let last = candidates.last, last.releases.upperBound == next { continue }
            latestByThread.removeAll(keepingCapacity: true)
            for release in releases[first..<next] {
                if let seen = latestByThread.firstIndex(where: { $0.slot == release.slot }) {
                    latestByThread[seen] = release
                } else {
                    latestByThread.append(release)
                }
            }
            guard latestByThread.count >= detector.minStoppedThreads,
                  let pause = pause(releasedBy: latestByThread) else { continue }
            candidates.append((pause, first..<next))
        }
        candidates.sort {
            ($0.pause.stoppedThreads.count, $1.pause.endNs, $0.pause.durationNs)
                > ($1.pause.stoppedThreads.count, $0.pause.endNs, $1.pause.durationNs)
        }
        var kept: [(pause: DetectedPause, releases: Range<Int>)] = []
        for candidate in candidates where !kept.contains(where: {
            $0.releases.overlaps(candidate.releases)
                || ($0.pause.startNs < candidate.pause.endNs && candidate.pause.startNs < $0.pause.endNs)
        }) {
            kept.append(candidate)
        }
        return kept.map(\.pause).sorted { $0.startNs < $1.startNs }
    }

    /// The pause that `releases` (one per thread) end, if the threads were stopped together and
    /// nothing else made progress meanwhile.
    func pause(releasedBy releases: [Release]) -> DetectedPause? {
        let wakes = releases.map(\.wakeNs).sorted()
        let end = wakes[(wakes.count - 1) / 2]
        let stops = releases.map {
            timelines[$0.slot].stretchStart(endingWith: $0.index, toleranceNs: detector.gapToleranceNs)
        }.sorted(by: >)
        var start = stops[min(stops.count - 1, Int(Double(stops.count) * detector.lateStopFraction))]
        guard end > start, end - start >= detector.minPauseNs else { return nil }
        // The start only moves later below: a thread woken before it rules the candidate out now.
        guard wakes[0] >= start else { return nil }
        var stopped = [Bool](repeating: false, count: timelines.count)
        for release in releases { stopped[release.slot] = true }
        // Every stopped thread may have been waiting already when the pause began (idle, say): then
        // the last stop is too early. The earliest park is late enough; if the thread that ran began
        // to run after a wait in between, that is when the pause began.
        var others = onCpu(besides: stopped, from: start, to: end)
        let firstParkNs = releases.map { timelines[$0.slot].intervals[$0.index].startNs }.min()!
        if let runner = others.first, runner.onCpuNs > 0,
           let began = timelines[runner.slot].lastRunAfterWait(atOrBefore: firstParkNs), began > start {
            start = began
            guard end - start >= detector.minPauseNs else { return nil }
            others = onCpu(besides: stopped, from: start, to: end)
        }
        guard wakes[0] >= start else { return nil }
        let lengthNs = Double(end - start)

        let progressNs = others.filter { serving[$0.slot] }
            .dropFirst(detector.maxRunningThreads)
            .reduce(0) { $0 + $1.onCpuNs }
        guard Double(progressNs) <= detector.maxProgressFraction * lengthNs else { return nil }
        let runner = others.first.flatMap {
            Double($0.onCpuNs) >= detector.runnerMinOnCpuFraction * lengthNs ? $0.tid : nil
        }
        // Step 3b: something did the pause's work, on a CPU or in a busy wait (a lock holder in
        // fsync). Otherwise every thread was parked or idle: an idle thread pool woken by a burst
        // of requests, which stops nothing.
        if runner == nil {
            let workNs = others.reduce(0) { $0 + $1.onCpuNs }
                + (timelines.indices.filter { !stopped[$0] }.map { timelines[$0].busyOffCpuNs(from: start, to: end) }.max() ?? 0)
            guard Double(workNs) >= detector.minWorkFraction * lengthNs else { return nil }
        }
        return DetectedPause(pid: pid, startNs: start, durationNs: end - start,
                             stoppedThreads: releases.map(\.tid).sorted(), runningThread: runner)
    }

    /// The other threads' estimated on-CPU time in `[from, to)`, longest first, then lowest tid.
    func onCpu(besides stopped: [Bool], from: UInt64, to: UInt64) -> [Other] {
        var others: [Other] = []
        others.reserveCapacity(timelines.count)
        for slot in timelines.indices where !stopped[slot] {
            others.append(Other(slot: slot, tid: timelines[slot].tid, onCpuNs: timelines[slot].onCpuNs(from: from, to: to)))
        }
        others.sort { ($0.onCpuNs, $1.tid) > ($1.onCpuNs, $0.tid) }
        return others
    }
}

extension RandomAccessCollection {
    /// The first index whose element satisfies `isAbove`, for a predicate false up to some point and
    /// true after it (binary search); `endIndex` if none does.
    func partitionIndex(where isAbove: (Element) -> Bool) -> Index {
        var lower = startIndex, count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(lower, offsetBy: half)
            if isAbove(self[middle]) {
                count = half
            } else {
                lower = index(after: middle)
                count -= half + 1
            }
        }
        return lower
    }
}

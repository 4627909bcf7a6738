import Analysis
import Recording
import Foundation
import XCTest

/// Synthetic off-CPU traces with known pauses (times in ms from `origin`): the detector must find
/// exactly those, with exact boundaries, and nothing in idle or ordinarily contended processes.
final class PauseDetectorTests: XCTestCase {
    let detector = PauseDetector()

    /// Three workers (101–103) that serve, park in futex when the collector (104) runs, and are
    /// released together; 105 is the main thread, asleep throughout.
    func stopTheWorldTrace() -> Trace {
        var trace = Trace()
        for worker: Int32 in 101...103 { trace.serve(worker, from: 0, to: 9) }
        // Pause 1: the collector raises the flag at 10; the workers park within 50 µs; the broadcast
        // wakes them at 30.000–30.002, and two then wait for a CPU.
        trace.off(101, 10.020, 30.060, in: Syscall.futex, runq: 0.060)
        trace.off(102, 10.030, 30.001, in: Syscall.futex)
        trace.off(103, 10.050, 31.502, in: Syscall.futex, runq: 1.5)
        for worker: Int32 in 101...103 { trace.serve(worker, from: 31.6, to: 59) }
        // Pause 2, from 60 to 70.
        trace.off(101, 60.004, 70.003, in: Syscall.futex)
        trace.off(102, 60.010, 70.002, in: Syscall.futex)
        trace.off(103, 60.007, 70.001, in: Syscall.futex)
        for worker: Int32 in 101...103 { trace.serve(worker, from: 70.1, to: 99) }
        // The collector sleeps between collections and runs through each.
        trace.off(104, 0, 10, in: Syscall.clockNanosleep)
        trace.off(104, 30.010, 60, in: Syscall.clockNanosleep)
        trace.off(104, 70.010, 100, in: Syscall.clockNanosleep)
        trace.off(105, 0, 100, in: Syscall.clockNanosleep)
        return trace
    }

    func testFindsEachPauseWithExactBoundsStoppedThreadsAndTheThreadThatRan() {
        let pauses = detector.detect(stopTheWorldTrace().intervals)
        XCTAssertEqual(pauses, [
            // Starts when the last worker parked; ends at the median wake-up (the run-queue waits
            // after the wake-ups are not part of the pause).
            DetectedPause(pid: 100, startNs: at(10.050), durationNs: at(30.001) - at(10.050),
                          stoppedThreads: [101, 102, 103], runningThread: 104),
            DetectedPause(pid: 100, startNs: at(60.010), durationNs: at(70.002) - at(60.010),
                          stoppedThreads: [101, 102, 103], runningThread: 104),
        ])
    }

    func testAPauseWhereEveryThreadIsBlockedHasNoRunningThread() {
        var trace = Trace()
        for worker: Int32 in 101...103 { trace.serve(worker, from: 0, to: 9) }
        // The lock holder is itself blocked on the disk while the workers wait for the lock.
        trace.off(104, 9.5, 20.5, in: Syscall.fsync)
        for worker: Int32 in 101...103 { trace.off(worker, 9.8 + Double(worker - 101) * 0.1, 20.6, in: Syscall.futex) }
        let pauses = detector.detect(trace.intervals)
        XCTAssertEqual(pauses.count, 1)
        XCTAssertEqual(pauses.first?.startNs, at(10.0))
        XCTAssertEqual(pauses.first?.durationNs, nanoseconds(10.6))
        XCTAssertNil(pauses.first?.runningThread)
    }

    func testAnIdleServerIsNotPausedEvenWhenItsThreadsWakeTogether() {
        // Every worker idle in epoll_wait from 10 to 60 ms, all woken by one burst of requests at 60,
        // and a thread sleeping in clock_nanosleep; the acceptor (104) runs meanwhile.
        func idleServer(waitingIn idleWait: Int32) -> [OffCPUInterval] {
            var trace = Trace()
            for worker: Int32 in 101...104 {
                trace.serve(worker, from: 0, to: 9)
                if worker != 104 { trace.off(worker, 10 + Double(worker - 101) * 0.01, 60.0 + Double(worker - 101) * 0.001, in: idleWait) }
                trace.serve(worker, from: 61, to: 90)
            }
            trace.off(105, 10, 60.002, in: Syscall.clockNanosleep)
            return trace.intervals
        }
        XCTAssertEqual(detector.detect(idleServer(waitingIn: Syscall.epollWait)), [])
        XCTAssertEqual(detector.detect(idleServer(waitingIn: Syscall.read)), [])
        // The same shape in futex is a pause: only the kind of wait tells the two apart.
        XCTAssertEqual(detector.detect(idleServer(waitingIn: Syscall.futex)).count, 1)
    }

    func testAnIdleThreadPoolWokenByABurstIsNotAPause() {
        // Four pool threads idle on their queue (futex) since finishing their last requests at
        // unrelated times, a dispatcher idle in epoll_wait; a burst of requests at 20 ms wakes the
        // dispatcher, which hands one to each within microseconds: what a Java HttpServer with a
        // fixed pool of 4 does under load (docs/accuracy.md).
        var trace = Trace()
        for worker: Int32 in 101...104 {
            trace.serve(worker, from: 0, to: 9)
            trace.off(worker, 10 + Double(worker - 101) * 1.5, 20.01 + Double(worker - 101) * 0.002, in: Syscall.futex)
            trace.serve(worker, from: 21, to: 40)
        }
        trace.off(105, 9, 20.0, in: Syscall.epollWait)
        trace.off(105, 9 - 5, 9 - 3, in: Syscall.epollWait)
        XCTAssertEqual(detector.detect(trace.intervals), [])
        // The same, with a thread working through it (a collector): a pause.
        trace.off(106, 2, 4, in: Syscall.futex)
        trace.off(106, 5, 7, in: Syscall.futex)
        XCTAssertEqual(detector.detect(trace.intervals).count, 1)
    }

    func testStaggeredLockContentionIsNotAPause() {
        var trace = Trace()
        // Four serving threads block on a lock at unrelated times and get it one after another:
        // they overlap in pairs but are never all off-CPU, and no two wake within the resume window.
        for worker: Int32 in 101...104 { trace.serve(worker, from: 0, to: 9) }
        trace.off(101, 10, 14, in: Syscall.futex)
        trace.off(102, 12, 17, in: Syscall.futex)
        trace.off(103, 15, 20.5, in: Syscall.futex)
        trace.off(104, 19, 23, in: Syscall.futex)
        // Then two of them wake together (a reader-writer lock released to both readers) while the
        // other two are busy serving.
        trace.off(101, 30, 36, in: Syscall.futex)
        trace.off(102, 31, 36.2, in: Syscall.futex)
        for worker: Int32 in 101...104 { trace.serve(worker, from: 40, to: 60) }
        XCTAssertEqual(detector.detect(trace.intervals), [])

        // What rejects the pair is the other two threads' progress: allow it and it is a "pause".
        var lenient = PauseDetector()
        lenient.maxProgressFraction = 10
        XCTAssertEqual(lenient.detect(trace.intervals).map(\.stoppedThreads), [[101, 102]])
    }

    func testJitteredResumesAPreemptedThreadAndIdleWorkersStillGiveThePause() {
        var trace = Trace()
        for worker: Int32 in 101...106 { trace.serve(worker, from: 0, to: 9) }
        // The flag goes up at 10. 101 and 102 park at once.
        trace.off(101, 10.010, 35.900, in: Syscall.futex, runq: 0.500)
        trace.off(102, 10.040, 37.100, in: Syscall.futex, runq: 2.000)
        // 103 was preempted before it reached its safepoint, ran a moment, then parked.
        trace.off(103, 9.700, 11.500, in: nil, runq: 1.800, preempted: true)
        trace.off(103, 11.520, 35.650, in: Syscall.futex, runq: 0.050)
        // 104 was idle in epoll_wait when the flag went up; it came back, saw the flag and parked.
        trace.off(104, 9.200, 12.000, in: Syscall.epollWait)
        trace.off(104, 12.004, 35.700, in: Syscall.futex)
        // 105 stayed idle in epoll_wait through the whole pause.
        trace.off(105, 9.000, 40.000, in: Syscall.epollWait)
        // 106 parked too, the last to stop (preempted before, for less than the kernel reports).
        trace.off(106, 10.080, 36.000, in: Syscall.futex, runq: 0.390)
        // The collector (107) ran, preempted for 2 ms in the middle.
        trace.off(107, 0, 10, in: Syscall.clockNanosleep)
        trace.off(107, 20, 22, in: nil, runq: 2, preempted: true)
        trace.off(107, 35.7, 60, in: Syscall.clockNanosleep)
        for worker: Int32 in 101...106 { trace.serve(worker, from: 41, to: 60) }

        // Stops (each back over breaks of at most 100 µs): 101 10.010, 102 10.040, 103 9.700 (the
        // preemption), 104 9.200 (the idle wait), 106 10.080. One of five may stop late: the pause
        // starts at the second last stop, 10.040.
        // Wake-ups: 102 35.100, 101 35.400, 103 35.600, 106 35.610, 104 35.700: it ends at 35.600.
        let pauses = detector.detect(trace.intervals)
        XCTAssertEqual(pauses, [
            DetectedPause(pid: 100, startNs: at(10.040), durationNs: at(35.600) - at(10.040),
                          stoppedThreads: [101, 102, 103, 104, 106], runningThread: 107),
        ])
        // Allowing no late stop, the pause starts when 106 parked.
        var strict = PauseDetector()
        strict.lateStopFraction = 0
        XCTAssertEqual(strict.detect(trace.intervals).map(\.startNs), [at(10.080)])
    }

    func testWhenEveryStoppedThreadWasIdleThePauseStartsWhenTheCollectorRan() {
        var trace = Trace()
        for worker: Int32 in 101...102 { trace.serve(worker, from: 0, to: 8) }
        // Both workers are idle when the flag goes up at 10 and park when they come back.
        trace.off(101, 8.2, 10.9, in: Syscall.epollWait)
        trace.off(101, 10.91, 20.0, in: Syscall.futex)
        trace.off(102, 9.5, 11.4, in: Syscall.epollWait)
        trace.off(102, 11.405, 20.001, in: Syscall.futex)
        // The collector's timer fires at 9.5; it gets a CPU, and raises the flag, at 10.
        trace.off(103, 0, 10, in: Syscall.clockNanosleep, runq: 0.5)
        trace.off(103, 20.01, 40, in: Syscall.clockNanosleep)
        for worker: Int32 in 101...102 { trace.serve(worker, from: 20.1, to: 40) }
        // The last stop (9.5) is before the pause; the first park (10.91) after its start.
        XCTAssertEqual(detector.detect(trace.intervals), [
            DetectedPause(pid: 100, startNs: at(10), durationNs: nanoseconds(10), stoppedThreads: [101, 102],
                          runningThread: 103),
        ])
    }

    func testAReleaseConvoyRightAfterAPauseIsNotASecondPause() {
        // Released from pause 2 at 70.001–70.003, the workers at once block on a lock whose holder is
        // preempted, and are released together again at 72.5: a candidate that reaches back into the
        // pause, with as many stopped threads. The one that ends first is the pause.
        var trace = stopTheWorldTrace()
        trace.intervals.removeAll { $0.startNs > at(70.1) && $0.tid != 104 && $0.tid != 105 }
        trace.off(101, 70.020, 72.500, in: Syscall.futex)
        trace.off(102, 70.030, 72.510, in: Syscall.futex)
        trace.off(103, 70.015, 72.520, in: Syscall.futex)
        let pauses = detector.detect(trace.intervals)
        XCTAssertEqual(pauses.map(\.startNs), [at(10.050), at(60.010)])
        XCTAssertEqual(pauses.map(\.endNs), [at(30.001), at(70.002)])
    }

    func testThreadActivityKeepsAThreadThatNeverReportedFromLookingBusy() {
        // Thread 106 serves elsewhere in the run but sits blocked across the pause in a wait that ends
        // after the recording (so it is never reported): only its run total says it did not run.
        var trace = stopTheWorldTrace()
        trace.off(106, 0, 2, in: Syscall.epollWait)
        trace.off(106, 2.2, 4.2, in: Syscall.epollWait)
        let activity = [ThreadActivity(tid: 106, tgid: 100, onCpuNs: nanoseconds(0.4))]
        XCTAssertEqual(detector.detect(trace.intervals, threads: activity).count, 2)
        // Without it, 106 looks as if it ran through both pauses, which is progress.
        XCTAssertEqual(detector.detect(trace.intervals), [])
    }

    func testProcessesAreAnalysedApart() {
        var first = stopTheWorldTrace()
        var second = Trace()
        second.pid = 200
        // A busy process whose threads run through the first one's pauses, and one of its threads
        // waking from a futex with them.
        for thread: Int32 in 201...203 { second.serve(thread, from: 0, to: 9) }
        second.off(201, 12, 30.001, in: Syscall.futex)
        first.intervals += second.intervals
        let pauses = detector.detect(first.intervals)
        XCTAssertEqual(pauses.map(\.pid), [100, 100])
        XCTAssertEqual(pauses.map(\.stoppedThreads), [[101, 102, 103], [101, 102, 103]])
    }

    func testTheKernelsMinusOneSyscallAndTheWakeTime() {
        let preempted = OffCPUInterval(tid: 1, tgid: 1, startNs: 100, endNs: 400, runqNs: 300, syscall: -1,
                                       preempted: true)
        XCTAssertNil(preempted.syscall)
        XCTAssertEqual(preempted.wakeNs, 100)
        XCTAssertEqual(detector.waitKind(of: preempted), .other)
        let blocked = OffCPUInterval(tid: 1, tgid: 1, startNs: 100, endNs: 400, runqNs: 50, syscall: 202)
        XCTAssertEqual(blocked.wakeNs, 350)
        XCTAssertEqual(detector.waitKind(of: blocked), .stopping)
        XCTAssertEqual(detector.waitKind(of: OffCPUInterval(tid: 1, tgid: 1, startNs: 0, endNs: 1, syscall: 232)), .idle)
        XCTAssertEqual(detector.waitKind(of: OffCPUInterval(tid: 1, tgid: 1, startNs: 0, endNs: 1, syscall: 74)), .other)
    }

    func testJSONKeysAreTheContracts() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let pause = DetectedPause(pid: 7, startNs: 10, durationNs: 5, stoppedThreads: [8, 9])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: encoder.encode(pause)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["pid", "start_ns", "duration_ns", "kind", "stopped_threads"])
        XCTAssertEqual(object["kind"] as? String, "stop_the_world")
        var running = pause
        running.runningThread = 11
        running.kind = .confirmed
        let withRunner = try XCTUnwrap(JSONSerialization.jsonObject(with: encoder.encode(running)) as? [String: Any])
        XCTAssertEqual(withRunner["running_thread"] as? Int, 11)
        XCTAssertEqual(withRunner["kind"] as? String, "confirmed")
    }
}

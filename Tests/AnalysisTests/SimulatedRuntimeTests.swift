import Analysis
import ArchbenchCore
import XCTest

/// A stop-the-world runtime simulated at the level the kernel sees it, with the noise of a busy
/// machine, scored with `PauseScore` against the pauses it injected: the bar (recall and
/// precision ≥ 90%, median duration error ≤ 1 ms) on synthetic data whose truth is exact.
final class SimulatedRuntimeTests: XCTestCase {
    /// Workers serve (bursts of work, idle waits in epoll_wait) and park in futex at their next
    /// safepoint once a pause begins, or when they come back from an idle wait during one; some are
    /// preempted just before the flag, some take an ordinary contended lock now and then, and after a
    /// release some wait for a CPU. The collector sleeps in clock_nanosleep and runs through each
    /// pause, sometimes preempted. Off-CPU intervals under the kernel's 1 ms threshold are dropped.
    struct Simulation {
        var random: SplitMix64
        let workers: Int32
        var trace = Trace()
        var known: [KnownPause] = []

        init(seed: UInt64, workers: Int32, durationMs: Double) {
            random = SplitMix64(seed: seed)
            self.workers = workers
            var pauses: [(start: Double, end: Double)] = []
            var next = random.uniform(20, 60)
            while next + 25 < durationMs {
                let length = random.uniform(2, 20)
                pauses.append((next, next + length))
                next += length + random.uniform(20, 60)
            }
            known = pauses.map { KnownPause(pid: trace.pid, startNs: at($0.start), endNs: at($0.end)) }
            for worker in 1...workers { simulateWorker(100 + worker, pauses: pauses, until: durationMs) }
            simulateCollector(100, pauses: pauses, until: durationMs)
            trace.intervals.removeAll { $0.durationNs < nanoseconds(1) }
        }

        /// Parks `tid` from `park` until the release at `pauseEnd`, woken with a little jitter and
        /// sometimes left waiting for a CPU; returns when it runs again.
        mutating func park(_ tid: Int32, at park: Double, releasedAt pauseEnd: Double) -> Double {
            let wake = pauseEnd + random.uniform(0, 0.2)
            let runq = random.uniform(0, 1) < 0.5 ? random.uniform(0, 2) : 0
            trace.off(tid, park, wake + runq, in: Syscall.futex, runq: runq)
            return wake + runq
        }

        mutating func simulateWorker(_ tid: Int32, pauses: [(start: Double, end: Double)], until end: Double) {
            var t = random.uniform(0, 2)
            while t < end {
                // Back from a wait during a pause: straight to the safepoint.
                if let pause = pauses.first(where: { $0.start <= t && t < $0.end }) {
                    t = park(tid, at: t + 0.005, releasedAt: pause.end)
                    continue
                }
                let burst = random.uniform(0.3, 1.5)
                if let pause = pauses.first(where: { $0.start >= t && $0.start < t + burst }) {
                    var reached = pause.start + random.uniform(0, 0.05)
                    if random.uniform(0, 1) < 0.15 {
                        let preemptedAt = pause.start - random.uniform(0, 0.3)
                        let preemptedFor = random.uniform(0.5, min(3, (pause.end - pause.start) / 2))
                        trace.off(tid, preemptedAt, preemptedAt + preemptedFor, in: nil, runq: preemptedFor,
                                  preempted: true)
                        reached = preemptedAt + preemptedFor + 0.01
                    }
                    t = park(tid, at: reached, releasedAt: pause.end)
                    continue
                }
                t += burst
                if random.uniform(0, 1) < 0.05 {    // an ordinary contended lock
                    let wait = random.uniform(1, 3)
                    trace.off(tid, t, t + wait, in: Syscall.futex)
                    t += wait
                    continue
                }
                let idleEnd = t + random.uniform(1, 3)
                trace.off(tid, t, idleEnd, in: Syscall.epollWait)
                t = idleEnd
            }
        }

        mutating func simulateCollector(_ tid: Int32, pauses: [(start: Double, end: Double)], until end: Double) {
            var asleepSince = 0.0
            for pause in pauses {
                trace.off(tid, asleepSince, pause.start, in: Syscall.clockNanosleep)
                if random.uniform(0, 1) < 0.3 {
                    let preemptedAt = random.uniform(pause.start, pause.end - 1)
                    let preemptedFor = random.uniform(0.5, (pause.end - preemptedAt) / 2)
                    trace.off(tid, preemptedAt, preemptedAt + preemptedFor, in: nil, runq: preemptedFor, preempted: true)
                }
                asleepSince = pause.end + 0.01
            }
            trace.off(tid, asleepSince, end, in: Syscall.clockNanosleep)
        }
    }

    func check(seed: UInt64, workers: Int32) {
        let simulation = Simulation(seed: seed, workers: workers, durationMs: 5_000)
        let detected = PauseDetector().detect(simulation.trace.intervals)
        let score = PauseScore(detected: detected, known: simulation.known)
        let label = "seed \(seed), \(workers) workers: \(score.knownCount) known, \(score.detectedCount) found"
        XCTAssertGreaterThan(score.knownCount, 50, label)
        XCTAssertGreaterThanOrEqual(score.recall, 0.9, label)
        XCTAssertGreaterThanOrEqual(score.precision, 0.9, label)
        XCTAssertLessThanOrEqual(try XCTUnwrap(score.medianDurationErrorNs, label), 1_000_000, label)
        // Well inside it: the start and end rules are exact up to the safepoint check and the wake-up
        // jitter, a few tens of microseconds each.
        XCTAssertLessThanOrEqual(try XCTUnwrap(score.medianDurationErrorNs, label), 250_000, label)
        // The collector is the thread that ran, wherever it was found.
        let runners = Set(score.matches.compactMap { detected[$0.detected].runningThread })
        XCTAssertEqual(runners, [100], label)
        print("simulated \(label): recall \(score.recall), precision \(score.precision), median duration error \(score.medianDurationErrorNs ?? 0) ns, median start error \(score.medianStartErrorNs ?? 0) ns")
    }

    func testSimulatedPausesWithTwoWorkers() { check(seed: 1, workers: 2) }
    func testSimulatedPausesWithFourWorkers() { check(seed: 2, workers: 4) }
    func testSimulatedPausesWithSixteenWorkers() { check(seed: 3, workers: 16) }
}

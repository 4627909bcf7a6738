@testable import Analysis
import Recording
import XCTest

/// Builders for synthetic client and kernel timelines (times in ms from 0).
enum Synthetic {
    static func ns(_ ms: Double) -> UInt64 { UInt64((ms * 1_000_000).rounded()) }

    /// A load whose P99 is `p99Ms` and whose slow requests are `slow` (sent, answered) in ms.
    static func load(p99Ms: Double, slow: [(Double, Double)], windows: [LoadWindow] = []) -> LoadResult {
        let latency = LatencySummary(p50: 0, p90: 0, p99: p99Ms * 1000, p999: 0, max: 0, mean: 0)
        return LoadResult(
            url: "", threads: 1, connections: 1, mode: "closed", requests: 0, sent: 0, durationS: 1, requestsPerS: 0,
            latencyUs: latency, errors: ErrorCounts(), statusCounts: [:], achievedRate: 0, lateSends: 0, droppedSends: 0,
            bytesRead: 0, bytesWritten: 0, connects: 0, pingsAnswered: 0, serverCloses: 0, startNs: 0, endNs: 0,
            endpoints: [], windows: windows,
            slowRequests: slow.map { SlowRequest(intendedNs: ns($0.0), sentNs: ns($0.0), endNs: ns($0.1), connection: 0, endpoint: 0, status: 200) },
            slowRequestsDropped: 0, windowsDropped: 0, stoppedEarly: false)
    }

    static func process(_ pid: Int32, _ comm: String) -> ProcessRecord {
        ProcessRecord(pid: pid, ppid: 1, comm: comm, startNs: 0, syscalls: [:], syscallTotal: 0, syscallLatencyNs: [:],
                      oncpuNs: 0, offcpuNs: 0, runqNs: 0, stolenNs: 0, threads: [], pageFaults: 0, rssTimeline: [])
    }

    static func recording(_ processes: [ProcessRecord], offcpu: [OffCPUInterval] = [], endMs: Double) -> ProbeRecording {
        ProbeRecording(startNs: 0, endNs: ns(endMs), endReason: "", processes: processes, command: nil, lostEvents: [:],
                       offcpuIntervals: offcpu, minOffcpuIntervalNs: 1_000_000, runtimePauses: [], runtimeProbedPids: [],
                       runtimeProbes: [], families: ["sched"])
    }

    static func pause(_ pid: Int32, _ fromMs: Double, _ toMs: Double) -> DetectedPause {
        DetectedPause(pid: pid, startNs: ns(fromMs), durationNs: ns(toMs) - ns(fromMs), stoppedThreads: [])
    }
}

final class IntervalSetTests: XCTestCase {
    func testJoinsOverlapsAndMeasuresCoverage() {
        let set = IntervalSet([(10, 20), (15, 30), (40, 50), (50, 55), (60, 60)])
        XCTAssertEqual(set.intervals.map { [$0.start, $0.end] }, [[10, 30], [40, 55]])
        XCTAssertEqual(set.totalNs, 35)
        XCTAssertEqual(set.overlapNs(start: 0, end: 100), 35)
        XCTAssertEqual(set.overlapNs(start: 25, end: 45), 10)
        XCTAssertEqual(set.overlapNs(start: 30, end: 40), 0)
    }

    func testSubtractingCutsHoles() {
        let set = IntervalSet([(0, 100), (200, 300)]).subtracting(IntervalSet([(10, 20), (90, 210), (250, 260)]))
        XCTAssertEqual(set.intervals.map { [$0.start, $0.end] }, [[0, 10], [20, 90], [210, 250], [260, 300]])
    }

    /// The placements of a length are the starts t at which [t, t + length) overlaps the set by at
    /// least the minimum: checked against counting starts one by one.
    func testPlacementsAgreeWithCountingEveryStart() {
        // Starts every 10 ns, in the middle of each step, against the measure: each of the four
        // intervals' two edges may be off by a step.
        let set = IntervalSet([(10_000, 16_000), (40_000, 44_000), (46_000, 80_000), (180_000, 240_000)])
        for length: UInt64 in [2_000, 4_000, 8_000, 20_000, 100_000] {
            for minimum: UInt64 in [1, 2_000, 6_000, 10_000] {
                let counted = stride(from: 5, to: 200_000, by: 10).filter {
                    set.overlapNs(start: UInt64($0), end: UInt64($0) + length) >= minimum
                }.count
                XCTAssertEqual(set.placements(lengthNs: length, minOverlapNs: minimum, start: 0, end: 200_000), Double(counted) * 10,
                               accuracy: 80, "length \(length), at least \(minimum)")
            }
        }
        // [100, 140) met by 60 ns from t: by at least 1 ns for t in [41, 139], 30 ns for t in [70, 110].
        XCTAssertEqual(IntervalSet([(100, 140)]).placements(lengthNs: 60, minOverlapNs: 1, start: 0, end: 1000), 98, accuracy: 1e-9)
        XCTAssertEqual(IntervalSet([(100, 140)]).placements(lengthNs: 60, minOverlapNs: 30, start: 0, end: 1000), 40, accuracy: 1e-9)
        XCTAssertEqual(IntervalSet([(100, 140)]).placements(lengthNs: 60, minOverlapNs: 50, start: 0, end: 1000), 0)
    }
}

final class RootCauseTests: XCTestCase {
    /// Ten requests above P99 in a 10 s round; seven overlap a pause of pid 7 ("orders") by 30, 30,
    /// 30, 20, 20, 10, 10 ms; the pauses (40 ms each, 7 of them) cover 2.8% of the round.
    func testAPauseUnderMostSlowRequestsIsTheTopCauseWithItsShareAndMedianOverlap() throws {
        let pauseStarts: [Double] = [1000, 2000, 3000, 4000, 5000, 6000, 7000]
        let pauses = pauseStarts.map { Synthetic.pause(7, $0, $0 + 40) }
        let overlaps: [Double] = [30, 30, 30, 20, 20, 10, 10]
        var slow = zip(pauseStarts, overlaps).map { start, overlap in (start + 40 - overlap, start + 40 + 5) }
        slow += [(8500, 8560), (9000, 9060), (9500, 9560)]
        slow.append((9800, 9805))  // 5 ms: not above P99, left out
        let round = RoundTimeline(startNs: 0, endNs: Synthetic.ns(10_000), loads: [Synthetic.load(p99Ms: 10, slow: slow)],
                                  recording: Synthetic.recording([Synthetic.process(7, "java")], endMs: 10_000), pauses: pauses)
        let found = RootCauseAnalysis().analyse([round], labels: [7: "orders"])
        let top = try XCTUnwrap(found.causes.first)
        XCTAssertEqual(found.causes.count, 1, "\(found.causes)")
        XCTAssertEqual(top.cause, .pause)
        XCTAssertEqual(top.process, "orders")
        XCTAssertEqual(top.pid, 7)
        XCTAssertEqual(top.slowRequests, 10)
        XCTAssertEqual(top.shareOfSlowRequests, 0.7, accuracy: 1e-12)
        XCTAssertEqual(top.medianOverlapMs, 20, accuracy: 1e-9)
        // Chance: a request of length L overlaps one of the seven 40 ms pauses by a tenth of L when
        // it starts in [start − L + L/10, end − L/10]: 7 × (40 + 0.8 L) ms of the 10 000 − L ms of
        // starts that keep it inside the round, averaged over the ten (lengths are rounded down by
        // up to 1% for it).
        let lengths = overlaps.map { $0 + 5 } + [60, 60, 60]
        let expectedChance = lengths.map { 7 * (40 + 0.8 * $0) / (10_000 - $0) }.reduce(0, +) / 10
        XCTAssertEqual(top.chanceShare, expectedChance, accuracy: expectedChance * 0.01)
        XCTAssertLessThan(top.pValue, 1e-6)
    }

    /// Requests that are slow only when the server is not paused: the pauses are not a cause, and
    /// "no kernel-side cause" is an empty list.
    func testPausesAwayFromTheSlowRequestsAreNoCause() {
        let pauses = [Synthetic.pause(7, 1000, 1040), Synthetic.pause(7, 3000, 3040)]
        let slow: [(Double, Double)] = [(5000, 5060), (6000, 6060), (7000, 7060)]
        let round = RoundTimeline(startNs: 0, endNs: Synthetic.ns(10_000), loads: [Synthetic.load(p99Ms: 40, slow: slow)],
                                  recording: Synthetic.recording([Synthetic.process(7, "java")], endMs: 10_000), pauses: pauses)
        XCTAssertEqual(RootCauseAnalysis().analyse([round]).causes, [])
    }

    /// A thread pool's idle futex waits cover nearly all the time: every slow request overlaps them,
    /// but so would any request, so they are no cause. A lock held 100 ms under each slow request,
    /// outside of which the process never blocks, is.
    func testACauseMustBeatChance() throws {
        var offcpu: [OffCPUInterval] = []
        for second in 0..<10 {  // pid 8: blocked in futex 990 ms of every second
            offcpu.append(OffCPUInterval(tid: 80, tgid: 8, startNs: Synthetic.ns(Double(second) * 1000),
                                         endNs: Synthetic.ns(Double(second) * 1000 + 990), syscall: 202))
        }
        let slowStarts: [Double] = [500, 2500, 4500, 6500, 8500]
        for start in slowStarts {  // pid 9: blocked in fsync under each slow request
            offcpu.append(OffCPUInterval(tid: 90, tgid: 9, startNs: Synthetic.ns(start), endNs: Synthetic.ns(start + 100), syscall: 74))
        }
        let round = RoundTimeline(
            startNs: 0, endNs: Synthetic.ns(10_000), loads: [Synthetic.load(p99Ms: 50, slow: slowStarts.map { ($0, $0 + 120) })],
            recording: Synthetic.recording([Synthetic.process(8, "pool"), Synthetic.process(9, "db")], offcpu: offcpu, endMs: 10_000),
            pauses: [])
        let causes = RootCauseAnalysis().analyse([round]).causes
        XCTAssertEqual(causes.map { [$0.cause.rawValue, $0.process] }, [["offcpu", "db"]])
        XCTAssertEqual(try XCTUnwrap(causes.first).medianOverlapMs, 100, accuracy: 1e-9)
    }

    /// Run-queue time is the end of an interval (its runq part), off-CPU the rest; both outside the
    /// process's pauses.
    func testCauseSetsSplitAnIntervalAndLeavePausesToThePause() {
        let interval = OffCPUInterval(tid: 1, tgid: 5, startNs: 0, endNs: 100, runqNs: 30, syscall: 74)
        let preempted = OffCPUInterval(tid: 1, tgid: 5, startNs: 200, endNs: 260, runqNs: 60, syscall: nil, preempted: true)
        let idle = OffCPUInterval(tid: 2, tgid: 5, startNs: 0, endNs: 1000, syscall: 232)
        let sets = RootCauseAnalysis().causeSets(Synthetic.recording([Synthetic.process(5, "x")], offcpu: [interval, preempted, idle], endMs: 1),
                                                 pauses: [DetectedPause(pid: 5, startNs: 50, durationNs: 10, stoppedThreads: [])])
        XCTAssertEqual(sets[.init(cause: .offcpu, pid: 5)]?.intervals.map { [$0.start, $0.end] }, [[0, 50], [60, 70]])
        XCTAssertEqual(sets[.init(cause: .runq, pid: 5)]?.intervals.map { [$0.start, $0.end] }, [[70, 100], [200, 260]])
        XCTAssertEqual(sets[.init(cause: .pause, pid: 5)]?.totalNs, 10)
        XCTAssertNil(sets[.init(cause: .pageFaults, pid: 5)], "no wait outside a syscall")
    }

    /// A thread blocked outside any syscall (a major fault) is a page-fault moment, not off-CPU.
    func testABlockOutsideASyscallIsAPageFault() {
        let fault = OffCPUInterval(tid: 1, tgid: 5, startNs: 1000, endNs: 3000, runqNs: 500, syscall: nil)
        let read = OffCPUInterval(tid: 2, tgid: 5, startNs: 5000, endNs: 6000, syscall: 74)
        let sets = RootCauseAnalysis().causeSets(Synthetic.recording([Synthetic.process(5, "x")], offcpu: [fault, read], endMs: 1),
                                                 pauses: [])
        XCTAssertEqual(sets[.init(cause: .pageFaults, pid: 5)]?.intervals.map { [$0.start, $0.end] }, [[1000, 2500]])
        XCTAssertEqual(sets[.init(cause: .offcpu, pid: 5)]?.intervals.map { [$0.start, $0.end] }, [[5000, 6000]])
        XCTAssertEqual(sets[.init(cause: .runq, pid: 5)]?.intervals.map { [$0.start, $0.end] }, [[2500, 3000]])
    }

    /// Per window, client P99 against pause time in the window: rank correlation 1 when every
    /// paused window is slower than every other and the more paused the slower.
    func testWindowCorrelationFollowsPauseTimeByRank() throws {
        var windows: [LoadWindow] = []
        for index in 0..<20 {
            let paused = index % 4 == 0
            windows.append(LoadWindow(startNs: Synthetic.ns(Double(index) * 100), responses: 100, errors: 0, p50Us: 100,
                                      p90Us: 200, p99Us: paused ? 5000 + Double(index) : 1000, maxUs: 0, log2Counts: []))
        }
        let pauses = stride(from: 0, to: 20, by: 4).map { Synthetic.pause(3, Double($0) * 100 + 10, Double($0) * 100 + 20 + Double($0)) }
        let round = RoundTimeline(startNs: 0, endNs: Synthetic.ns(2000), loads: [Synthetic.load(p99Ms: 1, slow: [], windows: windows)],
                                  recording: Synthetic.recording([Synthetic.process(3, "svc")], endMs: 2000), pauses: pauses)
        let correlation = try XCTUnwrap(RootCauseAnalysis().analyse([round]).correlations.first { $0.cause == .pause })
        XCTAssertEqual(correlation.windows, 20)
        XCTAssertEqual(correlation.rho, 1, accuracy: 1e-12)
    }
}

final class GCImpactTests: XCTestCase {
    func testPauseShareQuantilesAndSlowRequestsOverlapping() throws {
        let pauses = [Synthetic.pause(4, 100, 110), Synthetic.pause(4, 300, 320), Synthetic.pause(4, 500, 530)]
        let slow: [(Double, Double)] = [(105, 150), (600, 700)]
        let round = RoundTimeline(startNs: 0, endNs: Synthetic.ns(1000), loads: [Synthetic.load(p99Ms: 10, slow: slow)],
                                  recording: Synthetic.recording([Synthetic.process(4, "java")], endMs: 1000), pauses: pauses)
        let impact = try XCTUnwrap(GCImpact.of([round], labels: [4: "orders"]).first)
        XCTAssertEqual(impact.process, "orders")
        XCTAssertEqual(impact.pauses, 3)
        XCTAssertEqual(impact.pauseShare, 0.06, accuracy: 1e-12)
        XCTAssertEqual(impact.p50Ms, 20, accuracy: 1e-9)
        XCTAssertEqual(impact.maxMs, 30, accuracy: 1e-9)
        XCTAssertEqual(impact.p99Ms, 29.8, accuracy: 1e-9)  // linear interpolation between 20 and 30
        XCTAssertEqual(impact.slowRequestsOverlapping, 1)
        XCTAssertEqual(impact.slowRequests, 2)
    }
}

/// A cause that is nearly always there, met by every one of many slow requests, beats chance by a
/// trivial margin that a binomial test alone would call significant: it is no cause.
final class ExcessShareTests: XCTestCase {
    func testATrivialExcessOverChanceIsNoCause() {
        // Blocked all but 10 ms of every second; 2000 slow requests of 5 ms, all inside blocked
        // time. Chance: a 5 ms request misses by a tenth only inside a gap, about 0.55% of starts.
        let offcpu = (0..<100).map { OffCPUInterval(tid: 1, tgid: 2, startNs: Synthetic.ns(Double($0) * 1000 + 10),
                                                    endNs: Synthetic.ns(Double($0) * 1000 + 1000), syscall: 202) }
        let slow = (0..<2000).map { index -> (Double, Double) in
            let start = Double(index / 20) * 1000 + 100 + Double(index % 20) * 40
            return (start, start + 5)
        }
        let round = RoundTimeline(startNs: 0, endNs: Synthetic.ns(100_000), loads: [Synthetic.load(p99Ms: 1, slow: slow)],
                                  recording: Synthetic.recording([Synthetic.process(2, "pool")], offcpu: offcpu, endMs: 100_000),
                                  pauses: [])
        var analysis = RootCauseAnalysis()
        XCTAssertEqual(analysis.analyse([round]).causes, [])
        analysis.minExcessShare = 0
        XCTAssertEqual(analysis.analyse([round]).causes.map(\.cause), [.offcpu], "the binomial test alone would call it")
    }
}

/// TCP events become moments by kind, and slow requests under them make TCP a cause.
final class TCPCauseTests: XCTestCase {
    func testEachKindHoldsRequestsUpForItsOwnTime() {
        let ms: UInt64 = 1_000_000
        XCTAssertEqual(RootCauseAnalysis.tcpMoment([1000 * ms, TCPEventKind.retransmit.rawValue]).map { [$0.0, $0.1] }, [800 * ms, 1000 * ms])
        XCTAssertEqual(RootCauseAnalysis.tcpMoment([1000 * ms, TCPEventKind.drop.rawValue]).map { [$0.0, $0.1] }, [1000 * ms, 1200 * ms])
        XCTAssertEqual(RootCauseAnalysis.tcpMoment([1000 * ms, TCPEventKind.listenOverflow.rawValue]).map { [$0.0, $0.1] }, [0, 2000 * ms])
        XCTAssertEqual(RootCauseAnalysis.tcpMoment([1000 * ms, TCPEventKind.resetReceived.rawValue]).map { [$0.0, $0.1] }, [999 * ms, 1001 * ms])
        XCTAssertNil(RootCauseAnalysis.tcpMoment([1000 * ms, 9]))
    }

    func testRetransmitsUnderTheSlowRequestsAreTheirCause() throws {
        var process = Synthetic.process(6, "api")
        // Five retransmits, each ending a 250 ms slow request that began 220 ms before it.
        let retransmits: [Double] = [1000, 3000, 5000, 7000, 9000]
        process.tcpEvents = retransmits.map { [Synthetic.ns($0), TCPEventKind.retransmit.rawValue] }
        let slow = retransmits.map { ($0 - 220, $0 + 30) }
        let round = RoundTimeline(startNs: 0, endNs: Synthetic.ns(10_000), loads: [Synthetic.load(p99Ms: 50, slow: slow)],
                                  recording: Synthetic.recording([process], endMs: 10_000), pauses: [])
        let top = try XCTUnwrap(RootCauseAnalysis().analyse([round]).causes.first)
        XCTAssertEqual(top.cause, .tcp)
        XCTAssertEqual(top.shareOfSlowRequests, 1)
        XCTAssertEqual(top.medianOverlapMs, 200, accuracy: 1e-9)
    }
}

/// Slow syscalls that are not idle waits are moments of the `syscall` cause.
final class SyscallCauseTests: XCTestCase {
    func testSlowSyscallsUnderTheSlowRequestsAreTheirCauseButIdleWaitsAreNot() throws {
        var process = Synthetic.process(6, "db")
        let starts: [Double] = [1000, 3000, 5000, 7000, 9000]
        // fsync (74) for 30 ms under each slow request; epoll_wait (232) for 30 ms under the same.
        process.slowSyscalls = starts.flatMap { [[Synthetic.ns($0), Synthetic.ns(30), 74], [Synthetic.ns($0), Synthetic.ns(30), 232]] }
        let round = RoundTimeline(startNs: 0, endNs: Synthetic.ns(10_000),
                                  loads: [Synthetic.load(p99Ms: 10, slow: starts.map { ($0 - 5, $0 + 40) })],
                                  recording: Synthetic.recording([process], endMs: 10_000), pauses: [])
        let causes = RootCauseAnalysis().analyse([round]).causes
        XCTAssertEqual(causes.map(\.cause), [.syscall])
        XCTAssertEqual(try XCTUnwrap(causes.first).medianOverlapMs, 30, accuracy: 1e-9)
        let sets = RootCauseAnalysis().causeSets(Synthetic.recording([process], endMs: 10_000), pauses: [])
        XCTAssertEqual(sets[.init(cause: .syscall, pid: 6)]?.totalNs, 5 * Synthetic.ns(30), "the epoll_waits are left out")
    }
}

import Recording
import XCTest

/// Windows of a probe session: the difference of two snapshots, and several windows as one.
final class WindowTests: XCTestCase {
    func process(pid: Int32 = 10, oncpu: UInt64, faults: UInt64, timeline: [[UInt64]], exitNs: UInt64? = nil) -> ProcessRecord {
        ProcessRecord(pid: pid, ppid: 1, comm: "p", startNs: 5, exitNs: exitNs, syscalls: ["read": oncpu], syscallTotal: oncpu,
                      syscallLatencyNs: [:], oncpuNs: oncpu, offcpuNs: 2 * oncpu, runqNs: 0, stolenNs: 0,
                      threads: [ThreadRecord(tid: pid, oncpuNs: oncpu, offcpuNs: 2 * oncpu, runqNs: 0, stolenNs: 0, switches: 1)],
                      pageFaults: faults, rssBytes: RSSSummary(min: timeline.map { $0[1] }.min() ?? 0, max: timeline.map { $0[1] }.max() ?? 0,
                                                               last: timeline.last?[1] ?? 0),
                      rssTimeline: timeline)
    }

    func recording(_ processes: [ProcessRecord], start: UInt64, end: UInt64, intervals: [OffCPUInterval] = []) -> ProbeRecording {
        ProbeRecording(startNs: start, endNs: end, endReason: "running", processes: processes, command: nil, lostEvents: [:],
                       offcpuIntervals: intervals, minOffcpuIntervalNs: 1, runtimePauses: [], runtimeProbedPids: [],
                       runtimeProbes: [], families: ["targets", "sched"])
    }

    func testAWindowIsTheDifferenceOfTotalsAndTheEventsInside() throws {
        let early = recording([process(oncpu: 100, faults: 7, timeline: [[10, 1000], [20, 3000]])], start: 0, end: 50,
                              intervals: [OffCPUInterval(tid: 10, tgid: 10, startNs: 30, endNs: 40, syscall: nil)])
        let late = recording([process(oncpu: 160, faults: 9, timeline: [[10, 1000], [20, 3000], [60, 2000], [70, 5000]]),
                              process(pid: 11, oncpu: 4, faults: 1, timeline: [])],
                             start: 0, end: 100,
                             intervals: [OffCPUInterval(tid: 10, tgid: 10, startNs: 30, endNs: 40, syscall: nil),
                                         OffCPUInterval(tid: 10, tgid: 10, startNs: 55, endNs: 65, syscall: 202)])
        let window = late.since(early)
        XCTAssertEqual(window.startNs, 50)
        XCTAssertEqual(window.endNs, 100)
        let old = try XCTUnwrap(window.processes.first { $0.pid == 10 })
        XCTAssertEqual(old.oncpuNs, 60)
        XCTAssertEqual(old.offcpuNs, 120)
        XCTAssertEqual(old.threads.first?.oncpuNs, 60)
        XCTAssertEqual(old.pageFaults, 2)
        XCTAssertEqual(old.syscalls["read"], 60)
        XCTAssertEqual(old.rssTimeline, [[60, 2000], [70, 5000]])
        XCTAssertEqual(old.rssBytes, RSSSummary(min: 2000, max: 5000, last: 5000), "with the size it had when the window opened")
        let born = try XCTUnwrap(window.processes.first { $0.pid == 11 })
        XCTAssertEqual(born.oncpuNs, 4, "born inside the window: all of it")
        XCTAssertEqual(window.offcpuIntervals.map(\.startNs), [55])
    }

    func testAProcessThatExitedBeforeTheWindowIsLeftOut() {
        let gone = process(pid: 12, oncpu: 5, faults: 0, timeline: [], exitNs: 30)
        let window = recording([gone], start: 0, end: 100).since(recording([gone], start: 0, end: 50))
        XCTAssertTrue(window.processes.isEmpty)
    }

    func testWindowsTogetherSumTheirCountersAndSpanThemAll() throws {
        let first = recording([process(oncpu: 10, faults: 1, timeline: [[60, 2000]])], start: 50, end: 60)
        let second = recording([process(oncpu: 30, faults: 2, timeline: [[80, 7000]])], start: 70, end: 90)
        let merged = try XCTUnwrap(ProbeRecording.merging([first, second]))
        XCTAssertEqual(merged.startNs, 50)
        XCTAssertEqual(merged.endNs, 90)
        XCTAssertEqual(merged.processes.count, 1)
        XCTAssertEqual(merged.processes[0].oncpuNs, 40)
        XCTAssertEqual(merged.processes[0].threads.first?.oncpuNs, 40)
        XCTAssertEqual(merged.processes[0].pageFaults, 3)
        XCTAssertEqual(merged.processes[0].rssBytes, RSSSummary(min: 2000, max: 7000, last: 7000))
        XCTAssertNil(ProbeRecording.merging([]))
    }
}

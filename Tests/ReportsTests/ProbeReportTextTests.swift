@testable import Analysis
import Foundation
import Recording
@testable import Reports
import XCTest

/// The `archbench probe` text report's lines for what went wrong or is worth a look: lost events,
/// pauses, TCP trouble and outstanding allocations, from a report whose figures are known.
final class ProbeReportTextTests: XCTestCase {
    private func process(_ pid: Int32, tcp: TCPTrouble? = nil, allocations: AllocationRecord? = nil) -> ProcessRecord {
        ProcessRecord(pid: pid, ppid: 1, comm: "server", startNs: 1, syscalls: [:], syscallTotal: 0, syscallLatencyNs: [:],
                      oncpuNs: 0, offcpuNs: 0, runqNs: 0, stolenNs: 0,
                      threads: [ThreadRecord(tid: pid, oncpuNs: 0, offcpuNs: 0, runqNs: 0, stolenNs: 0, switches: 0)],
                      pageFaults: 0, rssTimeline: [], tcp: tcp, allocations: allocations)
    }

    private func report(_ processes: [ProcessRecord], lost: [String: UInt64] = [:], pauses: [DetectedPause] = []) -> ProbeReport {
        ProbeReport(clock: "CLOCK_MONOTONIC", startNs: 1_000, endNs: 2_000_001_000, endReason: "duration",
                    processes: processes, command: nil, lostEvents: lost, pauses: pauses, offcpuIntervals: 0,
                    runtimeProbes: [], minOffcpuIntervalNs: 1_000_000, families: ["sched", "memory", "tcp"])
    }

    /// The lines of one process's block: from its `PID` line to the blank line before the next.
    private func block(_ text: String, pid: Int32) -> [String] {
        let blocks = text.components(separatedBy: "\n\n").map { $0.components(separatedBy: "\n") }
        return blocks.first { $0.first?.hasPrefix("PID \(pid) ") == true } ?? []
    }

    func testLostEventsAreListedByFamilyAndNoneMeansNoLine() {
        let lossy = report([process(100)], lost: ["sched.ringbuf_full": 12, "alloc.no_stack": 3, "tcp.ringbuf_full": 1]).text()
        let lines = lossy.components(separatedBy: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("LOST EVENTS") },
                       ["LOST EVENTS (the counts below are short by these): alloc.no_stack 3, sched.ringbuf_full 12, tcp.ringbuf_full 1"],
                       lossy)
        // Above the processes: it qualifies every figure below it.
        XCTAssertLessThan(lines.firstIndex { $0.hasPrefix("LOST EVENTS") } ?? .max, lines.firstIndex { $0.hasPrefix("PID ") } ?? -1, lossy)

        // Nothing lost: no line at all, not one saying zero.
        let clean = report([process(100)]).text()
        XCTAssertFalse(clean.contains("LOST"), clean)
        XCTAssertFalse(clean.lowercased().contains("lost"), clean)
    }

    func testPausesLineGivesCountMedianLongestAndTheFirstFive() throws {
        let pauses = [
            DetectedPause(pid: 100, startNs: 1_000_000_000, durationNs: 2_000_000, stoppedThreads: [101, 102, 103], runningThread: 104),
            DetectedPause(pid: 100, startNs: 2_000_000_000, durationNs: 500_000, stoppedThreads: [101, 102]),
            DetectedPause(pid: 100, startNs: 3_000_000_000, durationNs: 3_000_000, stoppedThreads: [101, 102]),
            DetectedPause(pid: 100, startNs: 4_000_000_000, durationNs: 1_500_000_000, kind: .confirmed, stoppedThreads: [101, 102, 103]),
            DetectedPause(pid: 100, startNs: 5_000_000_000, durationNs: 900, stoppedThreads: [101, 102]),
            DetectedPause(pid: 100, startNs: 6_000_000_000, durationNs: 4_000_000, stoppedThreads: [101, 102]),
            DetectedPause(pid: 100, startNs: 7_000_000_000, durationNs: 5_000_000, stoppedThreads: [101, 102]),
        ]
        let text = report([process(100)], pauses: pauses).text()
        let lines = text.components(separatedBy: "\n")
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("PAUSES") }, text)
        // Sorted durations 900 ns, 500 µs, 2, 3, 4, 5 ms, 1.5 s: the median is the fourth, the longest the last.
        XCTAssertEqual(Array(lines[start...].prefix(7)), [
            "PAUSES   7 stop-the-world pauses, median 3.00ms, longest 1.50s",
            "  pid 100 at 1000000000 for 2.00ms: 3 threads stopped, thread 104 ran",
            "  pid 100 at 2000000000 for 500.0µs: 2 threads stopped",
            "  pid 100 at 3000000000 for 3.00ms: 2 threads stopped",
            "  pid 100 at 4000000000 for 1.50s: 3 threads stopped",
            "  pid 100 at 5000000000 for 900ns: 2 threads stopped",
            "  … 2 more in --json",
        ], text)
        XCTAssertFalse(text.contains("at 6000000000"), "only the first five are listed: \(text)")

        // Exactly five: all listed, no "more" line; none: no PAUSES line.
        let five = report([process(100)], pauses: Array(pauses.prefix(5))).text()
        XCTAssertTrue(five.contains("PAUSES   5 stop-the-world pauses, median 2.00ms, longest 1.50s"), five)
        XCTAssertFalse(five.contains("more in --json"), five)
        XCTAssertFalse(report([process(100)]).text().contains("PAUSES"))
    }

    func testTCPLineCarriesEachCounterOfItsProcessOnly() {
        let trouble = TCPTrouble(retransmits: 5, resetsSent: 2, resetsReceived: 1, listenOverflows: 4, drops: 3)
        let text = report([process(100, tcp: trouble), process(200)]).text()
        XCTAssertEqual(block(text, pid: 100).filter { $0.hasPrefix("  tcp ") },
                       ["  tcp      5 retransmits, 2 resets sent, 1 received, 4 listen overflows, 3 drops"], text)
        XCTAssertFalse(block(text, pid: 200).isEmpty, text)
        XCTAssertEqual(block(text, pid: 200).filter { $0.hasPrefix("  tcp ") }, [], "a process with no TCP record has no tcp line: \(text)")
    }

    func testAllocationLinesExactSampledAndFailed() {
        let exact = AllocationRecord(
            sampleEvery: 1, alwaysSampledBytes: 0, probes: "libc", error: nil,
            stacks: [
                AllocationStack(estimatedBytes: 1_048_576, estimatedCount: 2, sampledBytes: 1_048_576, sampledCount: 2,
                                frames: ["leaky+0x10 (app)", "main+0x20 (app)"]),
                AllocationStack(estimatedBytes: 524_288, estimatedCount: 1, sampledBytes: 524_288, sampledCount: 1, frames: []),
            ],
            totals: AllocationStack(estimatedBytes: 1_572_864, estimatedCount: 3, sampledBytes: 1_572_864, sampledCount: 3, frames: []))
        let sampled = AllocationRecord(
            sampleEvery: 64, alwaysSampledBytes: 65_536, probes: "libc", error: nil,
            stacks: [AllocationStack(estimatedBytes: 1_572_864, estimatedCount: 384, sampledBytes: 24_576, sampledCount: 6,
                                     frames: ["grow+0x8 (libapp.so)"])],
            stacksNotShown: 4,
            totals: AllocationStack(estimatedBytes: 2_097_152, estimatedCount: 640, sampledBytes: 32_768, sampledCount: 10, frames: []))
        let failed = AllocationRecord(sampleEvery: 1, alwaysSampledBytes: 0, probes: nil,
                                      error: "the allocation probes could not attach: no libc in the process")
        let text = report([process(100, allocations: exact), process(200, allocations: sampled),
                           process(300, allocations: failed), process(400)]).text()

        func allocLines(_ pid: Int32) -> [String] {
            // From the alloc line to the end of the block (no syscalls traced: nothing follows it).
            let lines = block(text, pid: pid)
            return lines.firstIndex { $0.hasPrefix("  alloc ") }.map { Array(lines[$0...]) } ?? []
        }
        let frame = String(repeating: " ", count: 40)
        XCTAssertEqual(allocLines(100), [
            "  alloc    outstanding 1.5 MiB in 3 blocks (3 tracked); every allocation tracked (exact)",
            "     OUTSTANDING      BLOCKS   TRACKED  STACK (innermost first)",
            "         1.0 MiB           2         2  leaky+0x10 (app)",
            frame + "main+0x20 (app)",
            "       512.0 KiB           1         1  [stack not captured]",
        ], text)
        XCTAssertEqual(allocLines(200), [
            "  alloc    outstanding ~2.0 MiB in ~640 blocks (10 tracked); sampled: 1 in 64 allocations tracked, weighted ×64;"
                + " all of 64.0 KiB or more",
            "     OUTSTANDING      BLOCKS   TRACKED  STACK (innermost first)",
            "        ~1.5 MiB        ~384         6  grow+0x8 (libapp.so)",
            "  … 4 more stacks with outstanding allocations (--json lists 20)",
        ], text)
        XCTAssertEqual(allocLines(300), ["  alloc    the allocation probes could not attach: no libc in the process"], text)
        XCTAssertEqual(allocLines(400), [], "no --alloc, no alloc line: \(text)")
    }
}

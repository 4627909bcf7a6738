import Foundation
import Probes
import Recording
import TestSupport
import XCTest

/// Each kernel-side figure against an independent reference: the program's own timing, /proc.
final class KernelReferenceTests: XCTestCase {
    override func setUpWithError() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
    }

    /// Runs the helper under the probes (through sh, so its output can go to a file) and returns the
    /// report, the helper's process, and what it printed.
    func probeHelper(_ arguments: String, prefix: String = "") throws -> (ProbeRecording, ProcessRecord, [String]) {
        let output = FileManager.default.temporaryDirectory.appending(path: "ab-helper-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let report = try ProbeRecorder.record(
            traced(ProbeRequest(command: ["/bin/sh", "-c", "\(prefix)\(BuiltProducts.helper) \(arguments) > \(output)"]))) { _ in }
        XCTAssertEqual(report.command?.exit?.code, 0)
        let helper = try XCTUnwrap(report.processes.first { $0.comm == "ab-testhelper" })
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        return (report, helper, lines)
    }

    func testNanosleepLatencyMatchesTheProgramsOwnTiming() throws {
        let (_, helper, lines) = try probeHelper("nanosleep 200 2000")
        let own = try XCTUnwrap(lines.first { $0.hasPrefix("nanosleep ") }).split(separator: " ").compactMap { Double($0) }
        let (ownMean, ownP50) = (own[0], own[1])
        // glibc's nanosleep() is clock_nanosleep to the kernel.
        let latency = try XCTUnwrap(helper.syscallLatencyNs["clock_nanosleep"])
        XCTAssertEqual(latency.count, 200)
        XCTAssertEqual(Double(latency.mean), ownMean, accuracy: ownMean * 0.05)
        XCTAssertEqual(Double(latency.p50), ownP50, accuracy: ownP50 * 0.05)
        XCTAssertGreaterThanOrEqual(latency.p50, 2_000_000, "never shorter than asked")
        // Each call of 1 ms or more is also an event in time, for the root-cause analysis.
        let nanosleep = UInt64(try XCTUnwrap(SyscallTable.number(of: "clock_nanosleep")))
        let slow = (helper.slowSyscalls ?? []).filter { $0[2] == nanosleep }
        XCTAssertEqual(slow.count, 200)
        XCTAssertTrue(slow.allSatisfy { $0[1] >= 2_000_000 && $0[0] >= helper.startNs }, "\(slow.prefix(3))")
        let slowMean = Double(slow.reduce(0) { $0 + $1[1] }) / Double(max(slow.count, 1))
        XCTAssertEqual(slowMean, ownMean, accuracy: ownMean * 0.05)
        XCTAssertEqual(slow.map { $0[0] }, slow.map { $0[0] }.sorted(), "in time order")
    }

    func testRSSMatchesProcStatusAtTheSameMoments() throws {
        let (_, helper, lines) = try probeHelper("rss-steps 8 16")
        let samples = lines.filter { $0.hasPrefix("rss ") }.map { $0.split(separator: " ").compactMap { UInt64($0) } }
        XCTAssertEqual(samples.count, 8)
        XCTAssertGreaterThan(helper.rssTimeline.count, 8)
        for sample in samples {
            let (moment, procRSS) = (sample[0], Double(sample[1]))
            let ours = try XCTUnwrap(helper.rssTimeline.last { $0[0] <= moment }, "no RSS event before \(moment)")
            XCTAssertEqual(Double(ours[1]), procRSS, accuracy: procRSS * 0.02, "at \(moment)")
        }
        let rss = try XCTUnwrap(helper.rssBytes)
        XCTAssertGreaterThanOrEqual(Double(rss.max), 8 * 16 * 1024 * 1024)
        XCTAssertGreaterThan(helper.pageFaults, 8 * 16 * 256 / 2, "touching 128 MiB faults in most of its pages")
        // The kernel's own count, read by the helper just before it exits: the probe adds only the
        // few faults of its last printf and its exit.
        let faults = try XCTUnwrap(lines.first { $0.hasPrefix("faults ") }).split(separator: " ").compactMap { Double($0) }
        let own = faults[0] + faults[1]
        XCTAssertEqual(Double(helper.pageFaults), own, accuracy: max(own * 0.002, 20), "minflt + majflt \(faults)")
    }

    func testOffCPUAndRunQueueMatchSchedstat() throws {
        let (_, helper, lines) = try probeHelper("sleep-spin 10 30")
        let sched = try XCTUnwrap(lines.first { $0.hasPrefix("sched ") }).split(separator: " ").compactMap { UInt64($0) }
        let (endNs, oncpu, runDelay) = (sched[0], Double(sched[1]), Double(sched[2]))
        XCTAssertEqual(helper.threads.count, 1)
        XCTAssertEqual(Double(helper.oncpuNs), oncpu, accuracy: oncpu * 0.05, Self.detail(helper, sched))
        // Off CPU over its life: the time from its fork to the schedstat read, less the time on CPU.
        let offcpu = Double(endNs - helper.startNs) - oncpu
        XCTAssertEqual(Double(helper.offcpuNs), offcpu, accuracy: offcpu * 0.05, Self.detail(helper, sched))
        // The run queue within 5%, or 5 ms when that is more: over a quiet life of a few ms of run
        // delay the probes now and then come out short by most of it (cause not found, docs/accuracy.md).
        // This bounds that shortfall; the pinned-spinner test below holds large waits to 5%.
        XCTAssertEqual(Double(helper.runqNs), runDelay, accuracy: max(runDelay * 0.05, 5_000_000), Self.detail(helper, sched, lines))
        XCTAssertGreaterThan(helper.offcpuNs, 280_000_000, "ten 30 ms sleeps")
    }

    /// Run-queue time where it is large and known: the helper and a spinner pinned to one CPU take
    /// turns on it, so each of the helper's spins waits for the spinner's slices. Reporting nothing,
    /// or only part of each wait, fails the tight bound that the quiet test above cannot afford.
    func testRunQueueTimeUnderAPinnedSpinnerMatchesSchedstat() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { throw XCTSkip("taskset (util-linux) is not installed") }
        let spinner = try RunningProcess("/usr/bin/taskset", ["-c", "0", "/bin/sh", "-c", "while :; do :; done"])
        defer { kill(spinner.pid, SIGKILL); _ = spinner.finish(timeout: 5) }
        let (_, helper, lines) = try probeHelper("sleep-spin 10 30", prefix: "/usr/bin/taskset -c 0 ")
        let sched = try XCTUnwrap(lines.first { $0.hasPrefix("sched ") }).split(separator: " ").compactMap { UInt64($0) }
        let runDelay = Double(sched[2])
        XCTAssertGreaterThan(runDelay, 100_000_000, "ten 30 ms spins sharing a CPU with a spinner wait for it: \(Self.detail(helper, sched, lines))")
        XCTAssertEqual(Double(helper.runqNs), runDelay, accuracy: runDelay * 0.05, Self.detail(helper, sched, lines))
    }

    /// A thread's last run ends in exit, after its process was marked exited: that run (here a
    /// 300 ms spin with no switch in it on a quiet CPU) must still count as on-CPU time.
    func testTheLastRunBeforeExitIsCounted() throws {
        let (_, helper, lines) = try probeHelper("sleep-spin 1 300")
        let sched = try XCTUnwrap(lines.first { $0.hasPrefix("sched ") }).split(separator: " ").compactMap { UInt64($0) }
        let oncpu = Double(sched[1])
        // Spun by the wall clock, so a busy machine gives it less CPU; a tenth is plenty for the
        // missing last run to show against 5%.
        XCTAssertGreaterThanOrEqual(oncpu, 30_000_000, "a 300 ms spin of wall time")
        XCTAssertEqual(Double(helper.oncpuNs), oncpu, accuracy: oncpu * 0.05, Self.detail(helper, sched))
    }

    /// What a failure needs to be understood: the probes' thread figures beside the reference's.
    /// The probes' figures beside the kernel's, and the kernel's when the helper's rounds began
    /// (`sched-start`: what ran before it is the fork, the hold and the exec).
    static func detail(_ helper: ProcessRecord, _ sched: [UInt64], _ lines: [String] = []) -> String {
        let threads = helper.threads.map { "tid \($0.tid): on \($0.oncpuNs) off \($0.offcpuNs) runq \($0.runqNs) stolen \($0.stolenNs) switches \($0.switches)" }
        let start = lines.first { $0.hasPrefix("sched-start ") } ?? "no sched-start line"
        return "schedstat end/on/run_delay \(sched) (\(start)); probes: \(threads.joined(separator: "; ")); start \(helper.startNs) exit \(helper.exitNs ?? 0)"
    }
}

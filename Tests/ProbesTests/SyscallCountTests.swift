import CProbe
import Foundation
import Probes
import Recording
import TestSupport
import XCTest

/// Kernel-selftest style: restrict the probes to a process we control, make it issue an exact number
/// of a known syscall, and assert the exact count.
final class SyscallCountTests: XCTestCase {
    static let calls = 100_000

    override func setUpWithError() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
    }

    func testSpawnedCommandGetppidCountIsExact() throws {
        let report = try ProbeRecorder.record(
            traced(ProbeRequest(command: [BuiltProducts.helper, "getppid", "\(Self.calls)"]))) { _ in }
        let command = try XCTUnwrap(report.command)
        XCTAssertEqual(command.exit, ExitStatus(waitStatus: 0))
        XCTAssertEqual(report.endReason, "command_exited")
        let process = try XCTUnwrap(report.processes.first { $0.pid == command.pid })
        XCTAssertEqual(process.syscalls["getppid"], UInt64(Self.calls))
        XCTAssertEqual(process.comm, "ab-testhelper", "comm is taken from the exec")
        XCTAssertEqual(process.syscalls["exit_group"], 1)
        XCTAssertEqual(process.syscallTotal, process.syscalls.values.reduce(0, +))
        XCTAssertEqual(report.processes.count, 1, "no other process is counted")
        XCTAssertTrue(report.lostEvents.isEmpty)
    }

    func testForkedChildrenAreFollowedEachWithExactCounts() throws {
        let report = try ProbeRecorder.record(
            traced(ProbeRequest(command: [BuiltProducts.helper, "fork-tree", "3", "\(Self.calls)"]))) { _ in }
        let parent = try XCTUnwrap(report.command?.pid)
        XCTAssertEqual(report.command?.exit?.code, 0)
        XCTAssertEqual(report.processes.count, 4)
        let children = report.processes.filter { $0.ppid == parent }
        XCTAssertEqual(children.count, 3)
        for process in report.processes {
            XCTAssertEqual(process.syscalls["getppid"], UInt64(Self.calls), "pid \(process.pid)")
            XCTAssertEqual(process.exit?.code, 0, "pid \(process.pid) exit recorded")
        }
        let total = report.processes.compactMap { $0.syscalls["getppid"] }.reduce(0, +)
        XCTAssertEqual(total, 4 * UInt64(Self.calls))
        XCTAssertEqual(report.processes.first { $0.pid == parent }?.syscalls["wait4"], 3)
    }

    func testAttachingByPidCountsEveryCallAfterAttach() throws {
        let target = try RunningProcess(BuiltProducts.helper, ["wait-getppid", "5000"])
        defer { _ = target.finish(timeout: 5) }
        let messages = MessageLog()
        let runner = RunnerThread { try ProbeRecorder.record(traced(ProbeRequest(pids: [target.pid], duration: 30))) { messages.add($0) } }
        XCTAssertTrue(messages.wait(containing: "probing pid \(target.pid)"), "the probe never attached")
        target.write("go\n")
        let report = try runner.result()
        XCTAssertEqual(report.endReason, "targets_exited")
        let process = try XCTUnwrap(report.processes.first { $0.pid == target.pid })
        XCTAssertEqual(process.syscalls["getppid"], 5000)
        XCTAssertEqual(process.exit?.code, 0)
    }

    func testSyscallsAreOnlyTracedWhenAskedFor() throws {
        let report = try ProbeRecorder.record(ProbeRequest(command: [BuiltProducts.helper, "getppid", "1000"])) { _ in }
        XCTAssertFalse(report.syscallsTraced)
        XCTAssertFalse(report.families.contains("syscalls"), "\(report.families)")
        XCTAssertTrue(report.families.contains("sched"), "\(report.families)")
        let process = try XCTUnwrap(report.processes.first)
        XCTAssertTrue(process.syscalls.isEmpty, "untraced syscalls must not show as zero counts")
        XCTAssertEqual(process.exit?.code, 0, "the other families still follow the command")
    }

    func testTheDurationEndsTheRunAndStopsTheCommand() throws {
        let started = Date()
        let report = try ProbeRecorder.record(
            ProbeRequest(command: [BuiltProducts.helper, "sleep", "30"], duration: 0.5)) { _ in }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(report.endReason, "duration")
        XCTAssertEqual(report.command?.stoppedByArchbench, true)
        XCTAssertEqual(report.command?.exit?.signal, SIGTERM)
        XCTAssertGreaterThanOrEqual(report.durationSeconds, 0.5)
        XCTAssertLessThan(report.durationSeconds, 2)
    }

    /// A command that ignores SIGTERM is killed after the grace period rather than outliving the run,
    /// and a SIGINT for archbench reaches the command as SIGINT.
    func testAStoppedCommandThatIgnoresSIGTERMIsKilledAndSIGINTIsPassedOn() throws {
        let started = Date()
        let stubborn = try ProbeRecorder.record(ProbeRequest(command: ["/bin/sh", "-c", "trap '' TERM; exec sleep 60"], duration: 0.5)) { _ in }
        XCTAssertEqual(stubborn.command?.stoppedByArchbench, true)
        XCTAssertEqual(stubborn.command?.exit?.signal, SIGKILL, "SIGTERM ignored, so SIGKILL after the grace period")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "half a second, the grace period, then the kill")

        let messages = MessageLog()
        let runner = RunnerThread { try ProbeRecorder.record(ProbeRequest(command: [BuiltProducts.helper, "sleep", "60"], duration: 30)) { messages.add($0) } }
        XCTAssertTrue(messages.wait(containing: "probing"), "the probe never attached")
        kill(getpid(), SIGINT)
        let interrupted = try runner.result(timeout: 30)
        XCTAssertEqual(interrupted.endReason, "signal")
        XCTAssertEqual(interrupted.command?.exit?.signal, SIGINT, "the command gets the signal archbench got")
    }

    /// A status other than 0, from the command and from children only the kernel sees end (their
    /// parent reaps them): an exit handler that always recorded 0, or swapped code and signal, fails.
    func testExitCodesAndDeathsBySignalAreRecordedAsTheKernelSawThem() throws {
        let report = try ProbeRecorder.record(ProbeRequest(command: [BuiltProducts.helper, "exit", "7"])) { _ in }
        XCTAssertEqual(report.command?.exit, ExitStatus(waitStatus: 7 << 8))
        XCTAssertEqual(report.processes.first?.exit?.code, 7)

        let output = try temporaryDirectory("ab-exit").appending(path: "children-end.out").path
        let children = try ProbeRecorder.record(ProbeRequest(
            command: ["/bin/sh", "-c", "exec \(BuiltProducts.helper) children-end 42 \(SIGUSR1) > \(output)"])) { _ in }
        XCTAssertEqual(children.command?.exit?.code, 0, "the helper saw both children end as planned")
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
        let exiting = try XCTUnwrap(Int32(lines[0][1])), killed = try XCTUnwrap(Int32(lines[1][1]))
        let byPid = Dictionary(children.processes.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(byPid[exiting]?.exit?.code, 42, "\(children.processes.map { ($0.pid, $0.exit as Any) })")
        XCTAssertNil(byPid[exiting]?.exit?.signal)
        XCTAssertEqual(byPid[killed]?.exit?.signal, SIGUSR1, "\(children.processes.map { ($0.pid, $0.exit as Any) })")
        XCTAssertNil(byPid[killed]?.exit?.code)
    }
}


/// Progress messages collected from a runner on another thread.
final class MessageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func add(_ message: String) { lock.withLock { messages.append(message) } }

    func wait(containing text: String, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lock.withLock({ messages.contains { $0.contains(text) } }) { return true }
            usleep(10_000)
        }
        return false
    }
}

/// Runs a probe session on its own thread so the test can act on the target meanwhile.
final class RunnerThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<ProbeRecording, Error>?

    init(_ body: @escaping @Sendable () throws -> ProbeRecording) {
        Thread { [self] in
            outcome = Result { try body() }
            done.signal()
        }.start()
    }

    struct Hung: Error, CustomStringConvertible {
        let seconds: Double
        var description: String { "the probe run did not finish in \(seconds) s: a hang is a failure" }
    }

    /// The run's recording. A run still going after `timeout` fails the test (a deadlock must not
    /// pass as a skip); the request's own duration bounds the run, so this then waits up to `drain`
    /// seconds more for it to end and detach its probes before the next test loads its own.
    func result(timeout: Double = 60, drain: Double = 60) throws -> ProbeRecording {
        guard done.wait(timeout: .now() + timeout) == .success else {
            if done.wait(timeout: .now() + drain) == .success { done.signal() }
            throw Hung(seconds: timeout)
        }
        done.signal()
        return try outcome!.get()
    }
}

/// The request with syscall tracing (opt-in) turned on.
func traced(_ request: ProbeRequest) -> ProbeRequest {
    var request = request
    request.optionalFamilies.insert(.syscalls)
    return request
}

final class RunnerThreadTests: XCTestCase {
    struct Stopped: Error {}

    /// The hang path itself: a run past its timeout throws a failure (not XCTSkip) once it has ended.
    func testARunThatDoesNotFinishInTimeFailsTheTestRatherThanSkipping() {
        let finished = MessageLog()
        let runner = RunnerThread {
            Thread.sleep(forTimeInterval: 1)
            finished.add("finished")
            throw Stopped()
        }
        XCTAssertThrowsError(try runner.result(timeout: 0.1, drain: 10)) { error in
            XCTAssertTrue(error is RunnerThread.Hung, "\(error)")
            XCTAssertFalse(error is XCTSkip)
        }
        XCTAssertTrue(finished.wait(containing: "finished", timeout: 0.05), "the run was waited for before the failure")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Probes
import TestSupport
import XCTest

/// The probes are detached on every way a run ends, checked from inside this process: the kernel
/// drops unpinned links when their process exits, so only a count taken while the process that
/// loaded them still lives would see a missing detach.
final class LinkLeakTests: XCTestCase {
    var before = 0

    override func setUpWithError() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        guard let links = try archbenchLinksInKernel() else { throw XCTSkip("bpftool is not installed") }
        before = links
    }

    /// Runs `request` on its own thread, checks bpftool sees its links while it runs (not for a run
    /// ended by a short duration, `countWhileRunning: false`: bpftool may take seconds to start on a
    /// busy machine, and the other tests show it sees them), ends it with `end` once attached, and returns the links counted
    /// right after the recorder returned.
    func linksAfter(_ request: ProbeRequest, countWhileRunning: Bool = true, end: @escaping () -> Void = {}) throws -> Int {
        let messages = MessageLog()
        let runner = RunnerThread { try ProbeRecorder.record(request) { messages.add($0) } }
        XCTAssertTrue(messages.wait(containing: "probing"), "the probe never attached")
        if countWhileRunning {
            XCTAssertGreaterThan(try XCTUnwrap(archbenchLinksInKernel()), before, "bpftool sees this process's links while it runs")
        }
        end()
        _ = try runner.result(timeout: 30)
        return try XCTUnwrap(archbenchLinksInKernel())
    }

    func testLinksAreDetachedWhenTheCommandExits() throws {
        let target = try RunningProcess(BuiltProducts.helper, ["wait-getppid", "10"])
        defer { _ = target.finish(timeout: 5) }
        XCTAssertEqual(try linksAfter(ProbeRequest(pids: [target.pid], duration: 30)) { target.write("go\n") }, before)
    }

    func testLinksAreDetachedWhenTheDurationEnds() throws {
        let target = try RunningProcess(BuiltProducts.helper, ["sleep", "30"])
        defer { kill(target.pid, SIGKILL); _ = target.finish(timeout: 5) }
        XCTAssertEqual(try linksAfter(ProbeRequest(pids: [target.pid], duration: 1), countWhileRunning: false), before)
    }

    func testLinksAreDetachedWhenASignalEndsTheRun() throws {
        let target = try RunningProcess(BuiltProducts.helper, ["sleep", "30"])
        defer { kill(target.pid, SIGKILL); _ = target.finish(timeout: 5) }
        // The recorder traps SIGINT while it runs (the CLI's Ctrl-C); it is sent once attached.
        XCTAssertEqual(try linksAfter(ProbeRequest(pids: [target.pid], duration: 30)) { kill(getpid(), SIGINT) }, before)
    }

    /// Ended by the caller (as the suite ends its rounds), which stops the command.
    func testLinksAreDetachedWhenASpawnedCommandIsStopped() throws {
        let live = try LiveProbe(ProbeRequest(command: [BuiltProducts.helper, "sleep", "30"], duration: 30)) { _ in }
        XCTAssertGreaterThan(try XCTUnwrap(archbenchLinksInKernel()), before, "bpftool sees this process's links while it runs")
        let recording = try live.finish()
        XCTAssertEqual(recording.command?.stoppedByArchbench, true, "\(String(describing: recording.command))")
        XCTAssertEqual(try XCTUnwrap(archbenchLinksInKernel()), before)
    }
}

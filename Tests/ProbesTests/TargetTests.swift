import ArchbenchCore
import Foundation
import Probes
import TestSupport
import XCTest

/// Targets named by port and by cgroup, with labels that follow forks.
final class TargetTests: XCTestCase {
    func testListeningPortResolvesToTheServer() throws {
        let server = try TestServer()
        defer { _ = server.stop() }
        XCTAssertEqual(ProcessTable.listening(onPort: server.port).map(\.pid), [server.process.pid])
    }

    func testLabelsFollowForksAndPortsAreProbed() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let server = try TestServer()
        defer { _ = server.stop() }
        let report = try ProbeRecorder.record(ProbeRequest(targets: [TargetSpec(.port(server.port), label: "web")], duration: 0.5)) { _ in }
        let process = try XCTUnwrap(report.processes.first { $0.pid == server.process.pid })
        XCTAssertEqual(process.label, "web")

        let forked = try ProbeRecorder.record(
            ProbeRequest(command: [BuiltProducts.helper, "fork-tree", "2", "10"], commandLabel: "orders")) { _ in }
        XCTAssertEqual(forked.processes.count, 3)
        XCTAssertEqual(Set(forked.processes.map(\.label)), ["orders"], "children inherit the label")
    }

    func testAPortNobodyListensOnIsAnEnvironmentError() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let server = try TestServer()
        let port = server.port
        _ = server.stop()
        XCTAssertThrowsError(try ProbeRecorder.record(ProbeRequest(targets: [TargetSpec(.port(port))])) { _ in }) { error in
            XCTAssertEqual("\(error)", "no process listens on TCP port \(port)")
            XCTAssertEqual((error as? ProbeError)?.exitCode, .environment)
        }
    }

    func testCgroupMembersAreFound() throws {
        guard geteuid() == 0 else { throw XCTSkip("creating a cgroup needs root") }
        guard let mount = ProcessTable.cgroup2Mount else { throw XCTSkip("no cgroup v2 hierarchy is mounted") }
        let name = "archbench-test-\(getpid())"
        let path = "\(mount)/\(name)"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } catch {
            throw XCTSkip("cannot create a cgroup here: \(error)")
        }
        let sleeper = try RunningProcess(BuiltProducts.helper, ["sleep", "30"])
        defer {
            kill(sleeper.pid, SIGKILL)
            _ = sleeper.finish(timeout: 5)
            rmdir(path)
        }
        try "\(sleeper.pid)\n".write(toFile: path + "/cgroup.procs", atomically: false, encoding: .utf8)
        XCTAssertEqual(ProcessTable.inCgroup(name)?.map(\.pid), [sleeper.pid])
        XCTAssertEqual(ProcessTable.inCgroup(path)?.map(\.pid), [sleeper.pid], "an absolute path works too")
        XCTAssertNil(ProcessTable.inCgroup("archbench-no-such-cgroup"))
    }
}

import Foundation
import TestSupport
import XCTest

/// The `archbench probe` command line as a user meets it: exit codes, messages, JSON, signals.
final class ProbeCommandTests: XCTestCase {
    let archbench = BuiltProducts.archbench

    func testHelpDescribesTheCommand() throws {
        let result = try runToCompletion(archbench, ["probe", "--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("--pid"), result.stdout)
        XCTAssertTrue(result.stdout.contains("--duration"), result.stdout)
        let top = try runToCompletion(archbench, ["--help"])
        XCTAssertEqual(top.status, 0)
        XCTAssertTrue(top.stdout.contains("probe"), top.stdout)
    }

    func testUnknownFlagIsAUsageError() throws {
        let result = try runToCompletion(archbench, ["probe", "--bogus", "--", "/bin/true"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("--bogus"), result.stderr)
    }

    func testBadValuesAreUsageErrors() throws {
        for (args, named) in [(["probe", "--pid", "abc"], "abc"), (["probe", "--pid", "0"], "--pid 0"),
                              (["probe", "--duration", "0", "--", "/bin/true"], "--duration"),
                              (["probe"], "--pid"), (["probe", "--pid", "1", "--", "/bin/true"], "not both")] {
            let result = try runToCompletion(archbench, args)
            XCTAssertEqual(result.status, 2, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(named), "\(args) should name \(named): \(result.stderr)")
        }
    }

    func testDeadPidIsAnEnvironmentError() throws {
        let pid = try deadPid()
        let result = try runToCompletion(archbench, ["probe", "--pid", "\(pid)", "--duration", "1"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("no process with pid \(pid)"), result.stderr)
    }

    func testMissingBTFIsAnEnvironmentErrorNamingIt() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let result = try runToCompletion(archbench, ["probe", "--btf", "/nonexistent/vmlinux.btf", "--", "/bin/true"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("the BTF file /nonexistent/vmlinux.btf does not exist"), result.stderr)
        // And a real BTF file given with --btf is used: the kernel's own, by path.
        let given = try runToCompletion(archbench, ["probe", "--btf", "/sys/kernel/btf/vmlinux", "--syscalls", "--json", "--",
                                                    BuiltProducts.helper, "getppid", "10"])
        XCTAssertEqual(given.status, 0, given.stderr)
        XCTAssertTrue(given.stdout.contains("\"getppid\" : 10"), given.stdout)
    }

    func testCommandNotFoundIsAUsageError() throws {
        let result = try runToCompletion(archbench, ["probe", "--", "/nonexistent/archbench-no-such-program"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("command not found: /nonexistent/archbench-no-such-program"), result.stderr)
    }

    func testUnprivilegedRunNamesTheMissingPrivilege() throws {
        guard geteuid() == 0 else { throw XCTSkip("dropping privileges with setpriv needs root to start from") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("setpriv (util-linux) is not installed")
        }
        // A copy nobody can reach: the checkout may sit in a directory only root can enter.
        let directory = FileManager.default.temporaryDirectory.appending(path: "archbench-setpriv-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appending(path: "archbench").path
        try FileManager.default.copyItem(atPath: archbench, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
        let result = try runToCompletion("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            copy, "probe", "--", "/bin/true",
        ])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("needs root, or CAP_BPF + CAP_PERFMON"), result.stderr)
        XCTAssertTrue(result.stderr.contains("uid 65534"), result.stderr)
    }

    func testJSONHasTheDesignKeysAndExactCounts() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let result = try runToCompletion(archbench, ["probe", "--syscalls", "--json", "--", BuiltProducts.helper, "fork-tree", "1", "20000"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["clock"] as? String, "CLOCK_MONOTONIC")
        let start = try XCTUnwrap(json["start_ns"] as? UInt64)
        let end = try XCTUnwrap(json["end_ns"] as? UInt64)
        XCTAssertGreaterThan(end, start)
        let processes = try XCTUnwrap(json["processes"] as? [[String: Any]])
        XCTAssertEqual(processes.count, 2)
        let lost = json["lost_events"].map { "\($0)" } ?? "none"
        for process in processes {
            XCTAssertNotNil(process["pid"] as? Int)
            XCTAssertEqual(process["comm"] as? String, "ab-testhelper")
            let syscalls = try XCTUnwrap(process["syscalls"] as? [String: Int])
            XCTAssertEqual(syscalls["getppid"], 20000, "lost events: \(lost)")
            XCTAssertEqual(process["syscall_total"] as? Int, syscalls.values.reduce(0, +))
        }
        let command = try XCTUnwrap(json["command"] as? [String: Any])
        XCTAssertEqual((command["exit"] as? [String: Any])?["code"] as? Int, 0)
    }

    func testTextTableListsCountsByName() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let result = try runToCompletion(archbench, ["probe", "--syscalls", "--", BuiltProducts.helper, "getppid", "777"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let row = result.stdout.split(separator: "\n").first { $0.hasPrefix("  getppid ") }
        XCTAssertEqual(row?.split(separator: " ").dropFirst().first, "777", result.stdout)
        XCTAssertTrue(result.stdout.contains("exited with status 0"), result.stdout)
    }

    func testWithoutSyscallsTheReportSaysTheyWereNotTraced() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let result = try runToCompletion(archbench, ["probe", "--", BuiltProducts.helper, "getppid", "777"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("syscalls: not traced (--syscalls"), result.stdout)
        XCTAssertFalse(result.stdout.contains("  getppid "), result.stdout)
    }

    func testSIGINTDetachesEveryLinkAndStillReports() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        guard try archbenchLinksInKernel() != nil else { throw XCTSkip("bpftool is not installed") }
        let target = try RunningProcess(BuiltProducts.helper, ["sleep", "60"])
        defer { kill(target.pid, SIGKILL); _ = target.finish(timeout: 5) }
        let probe = try RunningProcess(archbench, ["probe", "--json", "--pid", "\(target.pid)"])
        XCTAssertTrue(probe.waitForStderr(containing: "probing pid"), probe.stderrSoFar)
        let attached = try XCTUnwrap(archbenchLinksInKernel())
        XCTAssertGreaterThan(attached, 0, "bpftool should see our links while the probe runs")
        kill(probe.pid, SIGINT)
        let result = probe.finish(timeout: 20)
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["end_reason"] as? String, "signal")
        XCTAssertEqual(try archbenchLinksInKernel(), 0, "links left behind after SIGINT")
    }
}

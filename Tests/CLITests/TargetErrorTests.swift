import ArchbenchCore
import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `archbench probe`'s targets as a user gets them wrong: a malformed `[LABEL=]VALUE` is a usage
/// error naming it, a well-formed one that names nothing is an environment error naming what it
/// looked for (the label stripped), and a command that exists but cannot be executed is a usage error.
final class TargetErrorTests: XCTestCase {
    let archbench = BuiltProducts.archbench

    /// Every run is bounded (`--duration`, and the process's own timeout), so that a target the
    /// checks wrongly let through ends the run instead of hanging the test.
    private func probe(_ arguments: [String]) throws -> ProcessResult {
        try runToCompletion(archbench, ["probe", "--duration", "1"] + arguments, timeout: 30)
    }

    func testMalformedTargetsAreUsageErrorsNamingThem() throws {
        for (target, message) in [
            (["--pid", "web=abc"], "--pid web=abc is not a process id (must be a positive integer)"),
            (["--pid", "web="], "--pid web= is not a process id"),
            (["--pid", "=42"], "--pid =42 is not a process id"),
            (["--port", "api=80x"], "--port api=80x is not a TCP port (1-65535)"),
            (["--port", "api=70000"], "--port api=70000 is not a TCP port"),
            (["--port", "0"], "--port 0 is not a TCP port"),
            (["--cgroup", "web="], "--cgroup web= names no cgroup"),
        ] {
            let result = try probe(target)
            XCTAssertEqual(result.status, 2, "\(target): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(target) should say \"\(message)\": \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(target): nothing is reported")
        }
    }

    func testACgroupThatDoesNotExistIsAnEnvironmentErrorNamingIt() throws {
        let name = "archbench-no-such-cgroup-\(getpid())"
        for target in [name, "web=\(name)"] {
            let result = try probe(["--cgroup", target])
            XCTAssertEqual(result.status, 3, "\(target): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("no cgroup \(name) (looked under /sys/fs/cgroup)"), "\(target): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("web="), "the label is not part of the path: \(result.stderr)")
        }
    }

    func testAnEmptyCgroupIsAnEnvironmentErrorNamingIt() throws {
        guard geteuid() == 0 else { throw XCTSkip("creating a cgroup needs root") }
        guard let mount = ProcessTable.cgroup2Mount else { throw XCTSkip("no cgroup v2 hierarchy is mounted") }
        let name = "archbench-empty-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: "\(mount)/\(name)", withIntermediateDirectories: false)
        } catch {
            throw XCTSkip("cannot create a cgroup here: \(error)")
        }
        defer { rmdir("\(mount)/\(name)") }
        let result = try probe(["--cgroup", "batch=\(name)"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("cgroup \(name) has no processes"), result.stderr)
    }

    func testAPortNobodyListensOnIsAnEnvironmentErrorNamingIt() throws {
        // A port bound here but not listening: nobody else can listen on it while the test runs.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        XCTAssertTrue(bound, String(cString: strerror(errno)))
        let port = Int(UInt16(bigEndian: address.sin_port))
        for target in ["\(port)", "api=\(port)"] {
            let result = try probe(["--port", target])
            XCTAssertEqual(result.status, 3, "\(target): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("no process listens on TCP port \(port)"), "\(target): \(result.stderr)")
        }
    }

    /// The command exists and is executable, so it passes the PATH lookup; only exec(2) refuses it,
    /// in the held child, after the probes are loaded.
    func testACommandThatCannotBeExecutedIsAUsageErrorNamingIt() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let directory = try temporaryDirectory("ab-noexec")
        // No ELF header and no #!: execve fails with ENOEXEC.
        let path = directory.appending(path: "not-a-program").path
        try "this is not a program\n".write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        let result = try probe(["--", path])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot run \(path): \(String(cString: strerror(ENOEXEC)))"), result.stderr)
        XCTAssertEqual(result.stdout, "", "no report for a command that never ran")
    }
}

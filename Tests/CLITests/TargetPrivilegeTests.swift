import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Least privilege for spawned targets: archbench run as root under sudo starts an architecture's
/// `command` as the user who ran sudo (groups, gid, then uid; no capabilities left), unless `run_as`
/// says otherwise; not under sudo nothing changes. The command prints its own credentials as the
/// kernel has them (/proc/self/status) and exits, so the run ends at once (exit 3: it exited before
/// its URL accepted connections) with the credentials in targets_STAMP.log.
final class TargetPrivilegeTests: XCTestCase {
    let archbench = BuiltProducts.archbench
    /// What the command prints: real, effective, saved and filesystem ids, groups, capabilities, HOME,
    /// and the shell's open descriptors (listed by a child, so that the listing opens none of its).
    static let printCredentials = ["/bin/sh", "-c",
                                   #"grep -E '^(Uid|Gid|Groups|CapEff):' /proc/self/status; echo "HOME=$HOME"; printf 'FDS='; ls -m /proc/$$/fd"#]
    static let sudo = ["SUDO_UID": "65534", "SUDO_GID": "65534", "SUDO_USER": "nobody", "SUDO_COMMAND": "archbench run"]

    /// Runs archbench with this test's environment, minus any SUDO_* of its own, plus `extra`;
    /// `leaking`: through a shell that leaves descriptors 7 and 8 open to it, without close-on-exec.
    private func archbench(_ arguments: [String], environment extra: [String: String], in directory: URL,
                           timeout: Double = 60, leaking: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SUDO_") }
        environment.merge(extra) { $1 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: leaking ? "/bin/sh" : archbench)
        process.arguments = leaking ? ["-c", #"exec 7</dev/null 8>/dev/null; exec "$0" "$@""#, archbench] + arguments : arguments
        process.environment = environment
        let out = directory.appending(path: "stdout-\(UUID().uuidString)"), err = directory.appending(path: "stderr-\(UUID().uuidString)")
        XCTAssertTrue(FileManager.default.createFile(atPath: out.path, contents: nil))
        XCTAssertTrue(FileManager.default.createFile(atPath: err.path, contents: nil))
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// A config whose first architecture spawns `command` (with `runAs`, when given).
    private func config(in directory: URL, runAs: String? = nil) throws -> String {
        func architecture(_ port: Int) throws -> [String: Any] {
            var spec: [String: Any] = ["base_url": "http://127.0.0.1:\(port)/", "websocket_url": "ws://127.0.0.1:\(port)/ws",
                                       "connection_pool_size": 1, "ready_timeout_s": 5, "command": Self.printCredentials]
            if let runAs { spec["run_as"] = runAs }
            return spec
        }
        // Port 9 (discard) is not listened on: the command's exit ends the wait for it. The text is
        // put together by hand: the first architecture in the file is the one started first.
        let spec = String(decoding: try JSONSerialization.data(withJSONObject: try architecture(9)), as: UTF8.self)
        let path = directory.appending(path: "config-\(UUID().uuidString).json").path
        try #"{"monolithic": \#(spec), "microservices": \#(spec)}"#.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The credential lines the spawned command wrote to the targets log, by field.
    private func credentials(in results: URL) throws -> [String: String] {
        let log = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: results.path).first { $0.hasPrefix("targets_") },
                                "no targets log in \(results.path)")
        return Self.fields(try String(contentsOf: results.appending(path: log), encoding: .utf8))
    }

    static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let separator = line.firstIndex(where: { $0 == ":" || $0 == "=" }) else { continue }
            let key = String(line[..<separator])
            guard ["Uid", "Gid", "Groups", "CapEff", "HOME", "FDS"].contains(key) else { continue }
            fields[key] = line[line.index(after: separator)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        }
        return fields
    }

    private func run(runAs: String? = nil, environment: [String: String], probes: Bool = false) throws -> [String: String] {
        let directory = try temporaryDirectory("ab-privilege")
        let results = directory.appending(path: "results")
        let result = try archbench(["run", "--config", try config(in: directory, runAs: runAs), "--results-dir", results.path]
                                   + (probes ? ["--require-probes"] : ["--no-probes"]),
                                   environment: environment, in: directory)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("monolithic: its command exited"), result.stderr)
        return try credentials(in: results)
    }

    private func requireRoot() throws {
        guard geteuid() == 0 else { throw XCTSkip("switching a spawned command's user needs archbench to run as root (uid \(geteuid()))") }
    }

    func testUnderSudoASpawnedTargetRunsAsTheUserWhoRanSudo() throws {
        try requireRoot()
        let nobody = try run(environment: Self.sudo)
        XCTAssertEqual(nobody["Uid"], "65534 65534 65534 65534", "real, effective, saved and filesystem uid: \(nobody)")
        XCTAssertEqual(nobody["Gid"], "65534 65534 65534 65534", "\(nobody)")
        XCTAssertEqual(nobody["Groups"], "65534", "root's supplementary groups are gone: \(nobody)")
        XCTAssertEqual(nobody["CapEff"], "0000000000000000", "no capability left: \(nobody)")
        XCTAssertEqual(nobody["HOME"], "/nonexistent", "HOME is the user's: \(nobody)")
    }

    func testUnderSudoAProbedTargetRunsAsTheUserWhoRanSudoToo() throws {
        try requireRoot()
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let probed = try run(environment: Self.sudo, probes: true)
        XCTAssertEqual(probed["Uid"], "65534 65534 65534 65534", "\(probed)")
        XCTAssertEqual(probed["Groups"], "65534", "\(probed)")
        XCTAssertEqual(probed["CapEff"], "0000000000000000", "\(probed)")

        // archbench probe -- COMMAND spawns the same way, and --run-as is its run_as.
        let directory = try temporaryDirectory("ab-privilege")
        let probe = try archbench(["probe", "--"] + Self.printCredentials, environment: Self.sudo, in: directory)
        XCTAssertEqual(probe.status, 0, probe.stderr)
        XCTAssertEqual(Self.fields(probe.stdout)["Uid"], "65534 65534 65534 65534", probe.stdout)
        XCTAssertTrue(probe.stderr.contains("as uid 65534 (nobody), gid 65534, the user who ran sudo (--run-as changes it)"), probe.stderr)
        let daemon = try archbench(["probe", "--run-as", "daemon", "--"] + Self.printCredentials, environment: Self.sudo, in: directory)
        XCTAssertEqual(daemon.status, 0, daemon.stderr)
        XCTAssertEqual(Self.fields(daemon.stdout)["Uid"], "1 1 1 1", daemon.stdout)
    }

    func testRunAsSaysWhomTheTargetRunsAs() throws {
        try requireRoot()
        let root = try run(runAs: "root", environment: Self.sudo)
        XCTAssertEqual(root["Uid"], "0 0 0 0", "\"root\" keeps root under sudo: \(root)")
        let daemon = try run(runAs: "daemon", environment: Self.sudo)
        XCTAssertEqual(daemon["Uid"], "1 1 1 1", "\(daemon)")
        XCTAssertEqual(daemon["Gid"], "1 1 1 1", "\(daemon)")
        XCTAssertEqual(daemon["CapEff"], "0000000000000000", "\(daemon)")
    }

    func testNotUnderSudoNothingChanges() throws {
        try requireRoot()
        let root = try run(environment: [:])
        XCTAssertEqual(root["Uid"], "0 0 0 0", "\(root)")
        XCTAssertEqual(root["Gid"], "0 0 0 0", "\(root)")
    }

    /// A spawned target holds its standard descriptors and nothing else of archbench's: not its
    /// files, not what archbench itself was given without close-on-exec.
    func testASpawnedTargetHoldsNoDescriptorButItsStandardOnes() throws {
        let directory = try temporaryDirectory("ab-privilege")
        let results = directory.appending(path: "results")
        let result = try archbench(["run", "--config", try config(in: directory), "--results-dir", results.path, "--no-probes"],
                                   environment: [:], in: directory, leaking: true)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertEqual(try credentials(in: results)["FDS"], "0, 1, 2")
    }

    func testAnUnknownRunAsUserIsAConfigErrorNamingTheJSONPath() throws {
        let directory = try temporaryDirectory("ab-privilege")
        let results = directory.appending(path: "results")
        let result = try archbench(["run", "--config", try config(in: directory, runAs: "no-such-user-archbench"), "--no-probes",
                                    "--results-dir", results.path], environment: Self.sudo, in: directory)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains(#"monolithic.run_as: unknown user "no-such-user-archbench""#), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: results.path), "nothing written")

        for arguments in [["probe", "--run-as", "no-such-user-archbench", "--", "/bin/true"],
                          ["leak-hunt", "--run-as", "no-such-user-archbench", "--", "/bin/true"]] {
            let unknown = try archbench(arguments, environment: Self.sudo, in: directory)
            XCTAssertEqual(unknown.status, 2, "\(arguments): \(unknown.stderr)")
            XCTAssertTrue(unknown.stderr.contains("--run-as no-such-user-archbench: unknown user"), unknown.stderr)
        }
        let attached = try archbench(["probe", "--pid", "1", "--run-as", "nobody"], environment: [:], in: directory)
        XCTAssertEqual(attached.status, 2, attached.stderr)
        XCTAssertTrue(attached.stderr.contains("--run-as applies only to a command"), attached.stderr)
    }
}

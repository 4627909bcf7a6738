import Foundation
@testable import Suite
import XCTest

/// The config's `run_as`: "root", a user name or a uid that the passwd database knows, only on an
/// architecture archbench spawns; anything else a config error naming `ARCH.run_as` (exit 2). Uses
/// the passwd entries every Debian system has: root (0), daemon (1), nobody (65534).
final class RunAsConfigTests: XCTestCase {
    let command = #"["/bin/sh", "-c", "exit 0"]"#

    private func parse(_ changes: [String: String?]) throws -> RunConfig {
        try RunConfig.parse(Data(ConfigTests.config(b: changes).utf8), source: "cfg.json", resolver: ConfigTests.resolver)
    }

    private func assertError(_ changes: [String: String?], path: String, message: String, line: UInt = #line) {
        do throws(ConfigError) {
            let config = try RunConfig.parse(Data(ConfigTests.config(b: changes).utf8), source: "cfg.json",
                                             resolver: ConfigTests.resolver)
            XCTFail("parsed, expected an error: \(config)", line: line)
        } catch {
            XCTAssertEqual(error.path, path, error.description, line: line)
            XCTAssertTrue(error.message.contains(message), "\(error.message)\ndoes not contain\n\(message)", line: line)
            XCTAssertEqual(error.exitCode, .usage, line: line)
        }
    }

    func testRunAsIsReadAsRootAUserNameOrAUid() throws {
        XCTAssertNil(try parse(["command": command]).candidate.runAs, "absent: the default rule")
        XCTAssertEqual(try parse(["command": command, "run_as": #""root""#]).candidate.runAs, .root)
        XCTAssertEqual(try parse(["command": command, "run_as": "0"]).candidate.runAs, .root, "uid 0 is root")
        let nobody = try parse(["command": command, "run_as": #""nobody""#]).candidate.runAs
        guard case .user(let entry)? = nobody else { return XCTFail("\(String(describing: nobody))") }
        XCTAssertEqual([entry.uid, entry.gid], [65534, 65534])
        XCTAssertEqual(try parse(["command": command, "run_as": "65534"]).candidate.runAs, nobody)
        XCTAssertEqual(try parse(["command": command, "run_as": #""65534""#]).candidate.runAs, nobody)
        XCTAssertNil(try parse(["command": command, "run_as": #""daemon""#]).baseline.runAs, "per architecture")
    }

    func testAnUnknownUserIsAConfigErrorNamingThePath() {
        assertError(["command": command, "run_as": #""no-such-user-archbench""#], path: "b.run_as",
                    message: #"unknown user "no-such-user-archbench" (no such user in the passwd database)"#)
        assertError(["command": command, "run_as": "4000000000"], path: "b.run_as",
                    message: "unknown user: uid 4000000000 has no passwd entry")
        assertError(["command": command, "run_as": "-1"], path: "b.run_as", message: "expected an integer from 0 to")
        assertError(["command": command, "run_as": "true"], path: "b.run_as", message: #"expected "root", a user name or a uid, got true"#)
        assertError(["command": command, "run_as": #""""#], path: "b.run_as", message: #"expected "root", a user name or a uid"#)
    }

    func testRunAsNeedsACommand() {
        assertError(["run_as": #""nobody""#], path: "b.run_as", message: "applies only to an architecture archbench spawns")
        assertError(["processes": #"{"port": [9002]}"#, "run_as": #""nobody""#], path: "b.run_as",
                    message: "applies only to an architecture archbench spawns")
    }

    func testTheEmbeddedDefaultFollowsTheDefaultRule() {
        let embedded = RunConfig.embedded(executable: "/opt/archbench/bin/archbench", monolithPort: 1, microservicesPort: 2,
                                          websocketPort: 3)
        XCTAssertEqual(embedded.architectures.map(\.runAs), [nil, nil], "under sudo the reference backends run as the user")
    }
}

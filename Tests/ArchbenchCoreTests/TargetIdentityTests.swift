import ArchbenchCore
import Foundation
import XCTest

/// Whom a spawned target runs as (`TargetIdentity.resolve`): the rule, for every case of root or
/// not, sudo or not, and `run_as`. Pure: the uid and the environment are given. Uses the passwd
/// entries every Debian system has: root (0), daemon (1), nobody (65534).
final class TargetIdentityTests: XCTestCase {
    let sudo = ["SUDO_UID": "65534", "SUDO_GID": "65534", "SUDO_USER": "nobody", "HOME": "/root", "PATH": "/usr/bin"]

    private func resolve(_ runAs: RunAs?, euid: UInt32 = 0, _ environment: [String: String]) throws -> TargetIdentity? {
        try TargetIdentity.resolve(runAs: runAs, setting: "b.run_as", euid: euid, environment: environment)
    }

    func testUnderSudoTheTargetRunsAsTheUserWhoRanIt() throws {
        let identity = try XCTUnwrap(try resolve(nil, sudo))
        XCTAssertEqual(identity.uid, 65534)
        XCTAssertEqual(identity.gid, 65534)
        XCTAssertEqual(identity.groups, [65534], "root's supplementary groups replaced by the user's own")
        XCTAssertEqual(identity.user?.name, "nobody")
        XCTAssertTrue(identity.description.contains("uid 65534 (nobody), gid 65534"), identity.description)
        XCTAssertTrue(identity.description.contains("b.run_as"), "the message says how to change it: \(identity.description)")
        let environment = identity.environment(from: sudo)
        XCTAssertEqual(environment["HOME"], identity.user?.home, "HOME is the user's, not root's")
        XCTAssertEqual(environment["USER"], "nobody")
        XCTAssertEqual(environment["LOGNAME"], "nobody")
        XCTAssertEqual(environment["PATH"], "/usr/bin", "the rest is kept")
        // SUDO_GID is the group sudo recorded, even when it is not the user's primary one.
        XCTAssertEqual(try resolve(nil, sudo.merging(["SUDO_GID": "1"]) { $1 })?.gid, 1)
        // Without SUDO_GID, the user's primary group.
        XCTAssertEqual(try resolve(nil, sudo.filter { $0.key != "SUDO_GID" })?.gid, 65534)
    }

    func testRunAsOverridesSudo() throws {
        XCTAssertNil(try resolve(.root, sudo), "\"root\" keeps root")
        let daemon = try XCTUnwrap(RunAs.lookUp("daemon"))
        let identity = try XCTUnwrap(try resolve(daemon, sudo))
        XCTAssertEqual([identity.uid, identity.gid], [1, 1])
        XCTAssertEqual(try resolve(daemon, [:])?.uid, 1, "run_as applies without sudo too")
        XCTAssertEqual(RunAs.lookUp("1"), daemon, "a uid names the same user")
        XCTAssertEqual(RunAs.lookUp("0"), .root)
        XCTAssertNil(RunAs.lookUp("no-such-user-archbench"))
        XCTAssertNil(RunAs.lookUp("4000000000"), "a uid without a passwd entry is unknown")
    }

    func testNotUnderSudoNothingChanges() throws {
        XCTAssertNil(try resolve(nil, [:]), "root without sudo stays root")
        XCTAssertNil(try resolve(nil, sudo.merging(["SUDO_UID": "0", "SUDO_GID": "0"]) { $1 }), "sudo from root is root")
        XCTAssertNil(try resolve(nil, euid: 1000, sudo), "not root: archbench's own user, whatever the environment says")
        XCTAssertNil(try resolve(RunAs.lookUp("nobody"), euid: 65534, [:]), "run_as naming archbench's own user")
    }

    func testWhatCannotBeHonouredIsAnErrorNotASilentRoot() {
        for (runAs, euid, environment, expected) in [
            (RunAs?.none, UInt32(0), sudo.merging(["SUDO_UID": "alice"]) { $1 }, "SUDO_UID=alice is not a user id"),
            (RunAs?.none, 0, sudo.merging(["SUDO_GID": "-1"]) { $1 }, "SUDO_GID=-1 is not a group id"),
            (RunAs?.none, 0, ["SUDO_UID": "4000000000"], "SUDO_UID=4000000000 has no passwd entry and SUDO_GID is not set"),
            (RunAs.root, 1000, [:], "b.run_as root needs archbench to run as root"),
            (RunAs.lookUp("daemon"), 1000, [:], "b.run_as daemon (uid 1) needs archbench to run as root"),
        ] {
            XCTAssertThrowsError(try resolve(runAs, euid: euid, environment)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertEqual((error as? ArchbenchError)?.exitCode, .environment)
            }
        }
    }
}

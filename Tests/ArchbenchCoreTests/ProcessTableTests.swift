import ArchbenchCore
import Foundation
import TestSupport
import XCTest

final class ProcessTableTests: XCTestCase {
    func testParseStatWithSpacesAndParenthesesInComm() throws {
        let entry = try XCTUnwrap(ProcessTable.parseStat("4242 (a (b) c) S 17 4242 4242 0 -1 4194304"))
        XCTAssertEqual(entry, ProcessEntry(pid: 4242, ppid: 17, comm: "a (b) c", state: "S"))
    }

    func testParseStatRejectsGarbage() {
        XCTAssertNil(ProcessTable.parseStat("not a stat line"))
        XCTAssertNil(ProcessTable.parseStat("12 (x)"))
    }

    func testOwnEntryMatchesGetpid() throws {
        let entry = try XCTUnwrap(ProcessTable.entry(pid: getpid()))
        XCTAssertEqual(entry.ppid, getppid())
        XCTAssertEqual(entry.state, "R")
    }

    func testDeadPidHasNoEntry() throws {
        XCTAssertNil(ProcessTable.entry(pid: try deadPid()))
    }

    func testDescendantsFindsGrandchildren() throws {
        // sh -> sleep: the sleep is a grandchild of this test process.
        let shell = try RunningProcess("/bin/sh", ["-c", "sleep 30 & echo started >&2; wait"])
        defer { kill(-shell.pid, SIGKILL); kill(shell.pid, SIGKILL); _ = shell.finish(timeout: 5) }
        XCTAssertTrue(shell.waitForStderr(containing: "started"))
        let found = ProcessTable.descendants(of: [getpid()])
        XCTAssertTrue(found.contains { $0.pid == shell.pid })
        let sleeper = try XCTUnwrap(found.first { $0.comm == "sleep" })
        XCTAssertEqual(sleeper.ppid, shell.pid)
        for child in ProcessTable.all() where child.ppid == sleeper.ppid { kill(child.pid, SIGKILL) }
    }
}

final class PrivilegesTests: XCTestCase {
    func testSysAdminOrBPFPlusPerfmonSuffice() {
        XCTAssertNil(Privileges.missingForTracing(capabilities: 1 << 21))
        XCTAssertNil(Privileges.missingForTracing(capabilities: (1 << 38) | (1 << 39)))
    }

    func testMissingCapabilitiesAreNamed() throws {
        let none = try XCTUnwrap(Privileges.missingForTracing(capabilities: 0))
        XCTAssertTrue(none.contains("CAP_BPF and CAP_PERFMON"), none)
        XCTAssertTrue(none.contains("root"), none)
        let onlyBPF = try XCTUnwrap(Privileges.missingForTracing(capabilities: 1 << 39))
        XCTAssertTrue(onlyBPF.hasSuffix("lacks CAP_PERFMON"), onlyBPF)
    }
}

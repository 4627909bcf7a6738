@testable import ArchbenchCore
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
        // "started" follows the fork; the child may not have exec'd sleep yet: wait for its name.
        var found = ProcessTable.descendants(of: [getpid()])
        let deadline = Date().addingTimeInterval(5)
        while !found.contains(where: { $0.comm == "sleep" }), Date() < deadline {
            usleep(10_000)
            found = ProcessTable.descendants(of: [getpid()])
        }
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

final class ListeningSocketTests: XCTestCase {
    /// sock_diag against /proc/net/tcp{,6}, the reference: the same listening sockets, and one this
    /// test opens (IPv4 and IPv6) found with its port and inode.
    func testListeningSocketsAgreeWithProcNetTCP() throws {
        var listeners: [Int32] = []
        defer { listeners.forEach { close($0) } }
        for family in [AF_INET, AF_INET6] {
            let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
            XCTAssertGreaterThanOrEqual(fd, 0)
            listeners.append(fd)
            var bound: Int32
            if family == AF_INET {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            } else {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_addr = in6addr_loopback
                bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                }
            }
            if bound != 0, family == AF_INET6 {
                // A kernel without IPv6 cannot bind [::1]: the IPv4 case still runs, and the skip is said.
                print("ProcessTableTests: no IPv6 on this machine; only the IPv4 listener is checked")
                close(fd); listeners.removeLast(); continue
            }
            XCTAssertEqual(bound, 0)
            XCTAssertEqual(listen(fd, 16), 0)
        }
        let viaNetlink = ProcessTable.listeningSockets()
        let viaProc = ProcessTable.listeningSocketsFromProc()
        XCTAssertEqual(Set(viaNetlink.map { "\($0.inode):\($0.port)" }), Set(viaProc.map { "\($0.inode):\($0.port)" }))
        for fd in listeners {
            var status = stat()
            XCTAssertEqual(fstat(fd, &status), 0)
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            let port = withUnsafeBytes(of: address) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
            XCTAssertTrue(viaNetlink.contains { $0.inode == UInt64(status.st_ino) && $0.port == port },
                          "socket inode \(status.st_ino) port \(port) not found")
            XCTAssertEqual(ProcessTable.listeners(of: [getpid()]).filter { $0.socket.port == port }.map(\.pid), [getpid()])
            XCTAssertEqual(ProcessTable.listening(onPort: port).map(\.pid), [getpid()])
        }
    }
}

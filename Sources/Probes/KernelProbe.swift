import ArchbenchCore
import CProbe
import Foundation

/// One probed process as the kernel side recorded it.
public struct TargetProcess: Equatable, Sendable {
    public let pid: Int32
    public let ppid: Int32
    public let comm: String
    public let startNs: UInt64
    /// CLOCK_MONOTONIC of the exit, nil while the process lives.
    public let exitNs: UInt64?
    /// The wait(2) status of the exit, nil while the process lives.
    public let waitStatus: Int32?
}

/// The loaded probe families and the set of processes they watch. Registering a process covers it
/// and every process it forks afterwards.
public final class KernelProbe {
    private let session: ProbeSession

    /// Checks the kernel and privileges, then loads every probe family; nothing is attached yet.
    public init() throws(ProbeError) {
        guard FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw .missingKernelFeature(
                "the kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing): the CO-RE probes need a"
                    + " kernel built with CONFIG_DEBUG_INFO_BTF=y")
        }
        if let missing = Privileges.missingForTracing() {
            throw .missingPrivilege(missing)
        }
        session = try ProbeSession()
        for family in ProbeFamily.allCases {
            try session.addFamily(family)
        }
        try session.load()
    }

    public func attach() throws(ProbeError) {
        try session.attach()
    }

    /// Detaches every program; the maps stay readable.
    public func detach() {
        session.detach()
    }

    public func register(_ process: ProcessEntry) throws(ProbeError) {
        var target = target_proc()
        target.ppid = UInt32(bitPattern: process.ppid)
        target.start_ns = ab_monotonic_ns()
        withUnsafeMutableBytes(of: &target.comm) { comm in
            comm.copyBytes(from: process.comm.utf8.prefix(comm.count - 1))
        }
        try session.update(map: "targets", key: UInt32(bitPattern: process.pid), value: target)
    }

    /// Every process registered or followed so far, living or exited, oldest first.
    public func targets() throws(ProbeError) -> [TargetProcess] {
        try session.entries(of: "targets", key: UInt32.self, value: target_proc.self).map { entry in
            let proc = entry.value
            let comm = withUnsafeBytes(of: proc.comm) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return TargetProcess(
                pid: Int32(bitPattern: entry.key), ppid: Int32(bitPattern: proc.ppid), comm: comm,
                startNs: proc.start_ns, exitNs: proc.exit_ns == 0 ? nil : proc.exit_ns,
                waitStatus: proc.exit_ns == 0 ? nil : proc.exit_code)
        }.sorted { ($0.startNs, $0.pid) < ($1.startNs, $1.pid) }
    }

    /// Syscall counts by process and syscall name.
    public func syscallCounts() throws(ProbeError) -> [Int32: [String: UInt64]] {
        var counts: [Int32: [String: UInt64]] = [:]
        for entry in try session.entries(of: "syscall_counts", key: syscall_key.self, value: UInt64.self) {
            counts[Int32(bitPattern: entry.key.tgid), default: [:]][Self.syscallName(entry.key.nr)] = entry.value
        }
        return counts
    }

    /// Events the kernel side had to drop, by family and reason. Never hidden: reports show them.
    public func lostEvents() throws(ProbeError) -> [String: UInt64] {
        var lost: [String: UInt64] = [:]
        let reasons = [UInt32(LOST_TARGETS_FULL.rawValue): "targets_full", UInt32(LOST_MAP_FULL.rawValue): "map_full"]
        for family in ProbeFamily.allCases {
            for entry in try session.summedCounters(of: "\(family.rawValue)_lost", key: UInt32.self)
            where entry.value > 0 {
                lost["\(family.rawValue).\(reasons[entry.key] ?? "reason\(entry.key)")"] = entry.value
            }
        }
        return lost
    }

    static func syscallName(_ number: UInt32) -> String {
        let index = Int(number)
        if index < x86_64SyscallNames.count, !x86_64SyscallNames[index].isEmpty {
            return x86_64SyscallNames[index]
        }
        return "syscall_\(number)"
    }
}

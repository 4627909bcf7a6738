import ArchbenchCore
import CProbe
import Recording

/// One probed process as the kernel side recorded it (`struct target_proc`).
struct TargetProcess: Equatable, Sendable {
    let pid: Int32
    let ppid: Int32
    let comm: String
    let startNs: UInt64
    /// CLOCK_MONOTONIC of the exit, nil while the process lives.
    let exitNs: UInt64?
    /// The wait(2) status of the exit, nil while the process lives.
    let waitStatus: Int32?
}

/// bpf/targets.bpf.c: the set of processes every family filters on. Registering a process covers it
/// and every process it forks afterwards; the kernel side records forks, execs and exits.
final class TargetsProbe: FamilyProbe {
    static let family = ProbeFamily.targets
    private let session: ProbeSession

    init(session: ProbeSession) {
        self.session = session
    }

    func register(_ process: ProcessEntry) throws(ProbeError) {
        var target = target_proc()
        target.ppid = UInt32(bitPattern: process.ppid)
        target.start_ns = ab_monotonic_ns()
        withUnsafeMutableBytes(of: &target.comm) { comm in
            comm.copyBytes(from: process.comm.utf8.prefix(comm.count - 1))
        }
        try session.update(map: "targets", key: UInt32(bitPattern: process.pid), value: target)
        let slot = UInt32(bitPattern: process.pid) & UInt32(AB_TARGET_FILTER_SLOTS - 1)
        try session.update(map: "target_filter", key: slot, value: UInt8(1))
    }

    /// Every process registered or followed so far, living or exited, oldest first.
    func targets() throws(ProbeError) -> [TargetProcess] {
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
}

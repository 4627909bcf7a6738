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

    /// The families loaded: the default ones (`ProbeFamily.isDefault`) plus those asked for.
    /// `ARCHBENCH_PROBE_FAMILIES=targets,syscalls` (a comma-separated list; targets is always
    /// loaded) replaces the set, to measure what each family costs; `alloc` is loaded when asked
    /// for (`--alloc`), whatever the list says.
    public let families: [ProbeFamily]
    /// The allocation probes, when asked for.
    public let allocations: AllocationTracker?

    static func families(adding optional: Set<ProbeFamily>) -> [ProbeFamily] {
        var families = ProbeFamily.allCases.filter { $0.isDefault || optional.contains($0) }
        if let list = ProcessInfo.processInfo.environment["ARCHBENCH_PROBE_FAMILIES"] {
            let names = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            families = ProbeFamily.allCases.filter {
                $0 == .targets || names.contains($0.rawValue) || ($0 == .alloc && optional.contains(.alloc))
            }
        }
        return families
    }

    /// Checks the kernel and privileges, then loads the default probe families and `optional` ones;
    /// nothing is attached yet. `btfPath` is a BTF file for the running kernel, for kernels that do
    /// not expose their own. `allocationSampleEvery` loads the allocation probes, tracking one
    /// allocation in that many.
    public init(btfPath: String? = nil, optional: Set<ProbeFamily> = [], allocationSampleEvery: UInt32? = nil) throws(ProbeError) {
        let btf = btfPath ?? "/sys/kernel/btf/vmlinux"
        guard FileManager.default.fileExists(atPath: btf) else {
            throw .missingKernelFeature(btfPath == nil
                ? "the kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing): the CO-RE probes need a"
                    + " kernel built with CONFIG_DEBUG_INFO_BTF=y, or a BTF file for it given with --btf"
                : "the BTF file \(btf) does not exist")
        }
        if let missing = Privileges.missingForTracing() {
            throw .missingPrivilege(missing)
        }
        families = Self.families(adding: optional.union(allocationSampleEvery != nil ? [.alloc] : []))
        let session = try ProbeSession()
        self.session = session
        for family in families {
            try session.addFamily(family, btfPath: btfPath)
        }
        allocations = try allocationSampleEvery.map { every throws(ProbeError) in
            try AllocationTracker(session: session, sampleEvery: every)
        }
        if families.contains(.sched) {
            try session.setTunable(.sched, "targ_min_offcpu_ns", minOffCPUIntervalNs)
        }
        try session.load()
        if families.contains(.sched) { try session.collect("sched_events", as: offcpu_event.self) }
        if families.contains(.memory) { try session.collect("memory_events", as: rss_event.self) }
        if families.contains(.gc) { try session.collect("gc_events", as: gc_event.self) }
    }

    /// GC pauses the runtimes reported through their USDT probes.
    public private(set) var gcEvents: [gc_event] = []
    /// Processes whose runtime probes are attached (or failed to), so each is attached once.
    private var runtimeChecked: Set<Int32> = []
    /// When each process was first looked at for a runtime, under which name.
    private var runtimeLooks: [Int32: (comm: String, sinceNs: UInt64)] = [:]
    static let runtimeLookWindowNs: UInt64 = 1_000_000_000
    /// The runtime probes attached, and those that could not be, for the report.
    public private(set) var runtimeProbes: [String] = []
    /// The processes whose runtime GC probes are attached: their pauses come from the runtime.
    public private(set) var runtimeProbedPids: Set<Int32> = []

    /// Attaches the GC probes of a runtime the process has mapped: HotSpot's hotspot:gc__begin and
    /// gc__end in libjvm.so. (Node's and CPython's gc__start/gc__done are only in builds configured
    /// with DTrace/SystemTap probes; Debian's node and this machine's CPython have none.)
    public func attachRuntimeProbes(pid: Int32, comm: String) {
        allocations?.attach(pid: pid)
        guard families.contains(.gc), !runtimeChecked.contains(pid) else { return }
        // A runtime maps its library right after exec: look at a process's maps for its first
        // seconds under a name (an exec renames it and starts over), not for its whole life, which
        // cost the probe more CPU than everything else it did.
        let now = ab_monotonic_ns()
        if let look = runtimeLooks[pid], look.comm == comm {
            guard now - look.sinceNs < Self.runtimeLookWindowNs else { return }
        } else {
            runtimeLooks[pid] = (comm, now)
        }
        guard let maps = ProcessTable.read("/proc/\(pid)/maps"), maps.contains("/libjvm.so\n") else { return }
        guard let libjvm = maps.split(separator: "\n").compactMap({ line in
            line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
        }).first(where: { $0.hasSuffix("/libjvm.so") }) else { return }
        runtimeChecked.insert(pid)
        do {
            try session.attachUSDT(program: "ab_gc_begin", pid: pid, binary: libjvm, provider: "hotspot", name: "gc__begin")
            try session.attachUSDT(program: "ab_gc_end", pid: pid, binary: libjvm, provider: "hotspot", name: "gc__end")
            runtimeProbes.append("pid \(pid): hotspot:gc__begin/gc__end in \(libjvm)")
            runtimeProbedPids.insert(pid)
        } catch {
            runtimeProbes.append("pid \(pid): \(error)")
        }
    }

    /// Off-CPU intervals at least this long are sent one by one (for the pause detector).
    public let minOffCPUIntervalNs: UInt64 = 1_000_000
    /// What the ring buffers delivered so far.
    public private(set) var offCPUIntervals: [offcpu_event] = []
    public private(set) var rssEvents: [rss_event] = []

    /// Moves the ring buffers' events into `offCPUIntervals` and `rssEvents`; call it often (every
    /// 100 ms) so the kernel's buffers do not fill.
    public func poll() throws(ProbeError) {
        try session.poll()
        if families.contains(.sched) { offCPUIntervals += try session.take("sched_events", as: offcpu_event.self) }
        if families.contains(.memory) { rssEvents += try session.take("memory_events", as: rss_event.self) }
        if families.contains(.gc) { gcEvents += try session.take("gc_events", as: gc_event.self) }
    }

    public func attach() throws(ProbeError) {
        try session.attach()
    }

    /// Detaches every program; the maps stay readable.
    public func detach() {
        session.detach()
        allocations?.snapshotMaps()
    }

    public func register(_ process: ProcessEntry) throws(ProbeError) {
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
        try syscallLatency().mapValues { $0.mapValues(\.calls) }
    }

    /// Latency histograms by process and syscall name, summed over the CPUs.
    public func syscallLatency() throws(ProbeError) -> [Int32: [String: syscall_latency]] {
        var latency: [Int32: [String: syscall_latency]] = [:]
        guard families.contains(.syscalls) else { return latency }
        for entry in try session.perCPUEntries(of: "syscall_latency", key: syscall_key.self, value: syscall_latency.self) {
            latency[Int32(bitPattern: entry.key.tgid), default: [:]][Self.syscallName(entry.key.nr)] =
                LatencyHistogram.sum(entry.values)
        }
        return latency
    }

    /// Scheduler totals by thread, with the time of threads still off CPU at `endNs` added.
    public func threadTimes(at endNs: UInt64) throws(ProbeError) -> [Int32: thread_sched] {
        var threads: [Int32: thread_sched] = [:]
        guard families.contains(.sched) else { return threads }
        for entry in try session.entries(of: "thread_sched", key: UInt32.self, value: thread_sched.self) {
            threads[Int32(bitPattern: entry.key)] = entry.value
        }
        for entry in try session.entries(of: "thread_state", key: UInt32.self, value: thread_state.self) {
            let tid = Int32(bitPattern: entry.key), state = entry.value
            guard var times = threads[tid] else { continue }
            if state.out_ns > 0, endNs > state.out_ns {
                times.offcpu_ns += endNs - state.out_ns
                if state.preempted != 0 {
                    times.runq_ns += endNs - state.out_ns
                } else if state.wake_ns != 0, state.wake_ns >= state.out_ns {
                    times.runq_ns += endNs - state.wake_ns
                }
            } else if state.in_ns > 0, endNs > state.in_ns {
                times.oncpu_ns += endNs - state.in_ns
            }
            threads[tid] = times
        }
        return threads
    }

    /// Makes TCP events on sockets with this local or remote port count for `pid`.
    public func watchPort(_ port: UInt16, of pid: Int32) throws(ProbeError) {
        guard families.contains(.tcp) else { return }
        try session.update(map: "tcp_ports", key: port, value: UInt32(bitPattern: pid))
    }

    public func tcpStats() throws(ProbeError) -> [Int32: tcp_stats] {
        var stats: [Int32: tcp_stats] = [:]
        guard families.contains(.tcp) else { return stats }
        for entry in try session.entries(of: "tcp_stats", key: UInt32.self, value: tcp_stats.self) {
            stats[Int32(bitPattern: entry.key)] = entry.value
        }
        return stats
    }

    public func memoryStats() throws(ProbeError) -> [Int32: memory_stats] {
        var stats: [Int32: memory_stats] = [:]
        guard families.contains(.memory) else { return stats }
        for entry in try session.entries(of: "memory_stats", key: UInt32.self, value: memory_stats.self) {
            stats[Int32(bitPattern: entry.key)] = entry.value
        }
        return stats
    }

    /// Events the kernel side had to drop, by family and reason. Never hidden: reports show them.
    public func lostEvents() throws(ProbeError) -> [String: UInt64] {
        var lost: [String: UInt64] = [:]
        for map in ["sched_events", "memory_events", "gc_events"] where session.droppedRecords(map) > 0 {
            lost["\(map).not_kept"] = session.droppedRecords(map)
        }
        let reasons = [UInt32(LOST_TARGETS_FULL.rawValue): "targets_full", UInt32(LOST_MAP_FULL.rawValue): "map_full",
                       UInt32(LOST_RINGBUF_FULL.rawValue): "ringbuf_full"].merging(AllocationTracker.lostReasons) { $1 }
        for family in families {
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

import ArchbenchCore
import CProbe
import Foundation
import Recording

/// The probe families of one session, loaded into the kernel together: `targets` always, the
/// default ones (`ProbeFamily.isDefault`) and those asked for. Each is read through its own file
/// (`TargetsProbe`, `SchedProbe`, …); this type only loads, attaches, drains and detaches them
/// together, and keeps the list.
public final class KernelProbe {
    private let session: ProbeSession

    /// The families loaded. `ARCHBENCH_PROBE_FAMILIES=targets,syscalls` (a comma-separated list;
    /// targets is always loaded) replaces the set, to measure what each family costs; `alloc` is
    /// loaded when asked for (`--alloc`) and only then, whatever the list says.
    public let families: [ProbeFamily]
    let targets: TargetsProbe
    let syscalls: SyscallsProbe?
    let sched: SchedProbe?
    let memory: MemoryProbe?
    let tcp: TCPProbe?
    let gc: GCProbe?
    /// The allocation probes, when asked for.
    let allocations: AllocProbe?

    static func families(adding optional: Set<ProbeFamily>) -> [ProbeFamily] {
        var families = ProbeFamily.allCases.filter { $0.isDefault || optional.contains($0) }
        if let list = ProcessInfo.processInfo.environment["ARCHBENCH_PROBE_FAMILIES"] {
            let names = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            families = ProbeFamily.allCases.filter {
                $0 == .targets || ($0 == .alloc ? optional.contains(.alloc) : names.contains($0.rawValue))
            }
        }
        return families
    }

    /// Checks the kernel and privileges, then loads the families; nothing is attached yet.
    /// `btfPath` is a BTF file for the running kernel, for kernels that do not expose their own.
    /// `allocationSampleEvery` loads the allocation probes, tracking one allocation in that many.
    /// Why bpf() is refused to this process, or nil when it is not: asked of the kernel with a map
    /// created and closed at once, for a caller that checked the privileges and BTF and wants to know
    /// before it starts anything.
    public static func bpfRefusal() -> String? {
        let code = ab_probe__bpf_errno()
        return code == 0 ? nil : ProbeError.libbpf(operation: "creating a BPF map", errno: code, log: "").description
    }

    /// `ringBufferBytes` resizes ring buffers by name (`ProbeRequest.ringBufferBytes`).
    public init(btfPath: String? = nil, optional: Set<ProbeFamily> = [], allocationSampleEvery: UInt32? = nil,
                ringBufferBytes: [String: UInt32] = [:]) throws(ProbeError) {
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
        let families = Self.families(adding: optional.union(allocationSampleEvery != nil ? [.alloc] : []))
        self.families = families
        let session = try ProbeSession()
        self.session = session
        // Open: every family's object, `targets` first (it owns the maps the others share).
        for family in families {
            try session.addFamily(family, btfPath: btfPath)
        }
        // Set rodata: each family's tunables, before load.
        targets = TargetsProbe(session: session)
        syscalls = families.contains(.syscalls) ? SyscallsProbe(session: session) : nil
        sched = families.contains(.sched) ? try SchedProbe(session: session) : nil
        memory = families.contains(.memory) ? MemoryProbe(session: session) : nil
        tcp = families.contains(.tcp) ? TCPProbe(session: session) : nil
        gc = families.contains(.gc) ? GCProbe(session: session) : nil
        allocations = try allocationSampleEvery.map { every throws(ProbeError) in
            try AllocProbe(session: session, sampleEvery: every)
        }
        for (map, bytes) in ringBufferBytes.sorted(by: { $0.key < $1.key }) {
            try session.setMapSize(map, bytes)
        }
        // Load, then start gathering the ring buffers.
        try session.load()
        try syscalls?.collect()
        try sched?.collect()
        try memory?.collect()
        try tcp?.collect()
        try gc?.collect()
    }

    var loaded: [any FamilyProbe] {
        let all: [(any FamilyProbe)?] = [targets, syscalls, sched, memory, tcp, gc, allocations]
        return all.compactMap { $0 }
    }

    public func attach() throws(ProbeError) {
        try session.attach()
    }

    /// Detaches every program; the maps stay readable.
    public func detach() {
        session.detach()
        allocations?.snapshotMaps()
    }

    /// Moves the ring buffers' events into the families; call it often (every 100 ms) so the
    /// kernel's buffers do not fill.
    public func poll() throws(ProbeError) {
        try session.poll()
        for family in loaded {
            try family.drain()
        }
    }

    /// Attaches what is attached per process (a runtime's GC probes, the allocation uprobes) to a
    /// live target; call it for every live target, every slice: both look only when due.
    func attachPerProcess(pid: Int32, comm: String) {
        allocations?.attach(pid: pid)
        gc?.attachRuntime(pid: pid, comm: comm)
    }

    /// Gives the TCP family the targets' listeners: their accepted connections and their drops.
    func watch(_ listeners: [(pid: Int32, socket: ListeningSocket)]) throws(ProbeError) {
        try tcp?.watch(listeners)
    }

    /// Events the kernel side had to drop, by family and reason. Never hidden: reports show them.
    func lostEvents() throws(ProbeError) -> [String: UInt64] {
        var lost: [String: UInt64] = [:]
        for family in loaded {
            lost.merge(try family.lostEvents(in: session)) { $1 }
        }
        return lost
    }
}

import ArchbenchCore
import CProbe
import Foundation
import Recording

/// bpf/alloc.bpf.c, the allocation probes of a session (opt-in): attached to each target process's libc
/// as the process is found (its uprobes do not follow forks, so every forked child is attached on
/// its own), and read into an `AllocationRecord` per process at the end, symbolized through the
/// process's memory map (read at the end while it lives, else the last copy taken while it ran).
final class AllocProbe: FamilyProbe {
    static let family = ProbeFamily.alloc
    /// Allocations this large are always tracked: glibc serves them by mmap(2), a syscall that costs
    /// more than tracking them, and a leak of a few large blocks must not be missed by the sample.
    static let alwaysSampledBytes: UInt64 = 128 << 10
    static let lostReasons: [UInt32: String] = [
        UInt32(ALLOC_LOST_NO_STACK.rawValue): "no_stack", UInt32(ALLOC_LOST_THREAD_SLOT.rawValue): "thread_slot",
    ]
    /// libc function, its program, return probe or not; each return probe is attached before its
    /// entry probe, so every entry the kernel side sees has its return seen too.
    static let probes: [(function: String, program: String, returning: Bool)] = [
        ("malloc", "ab_malloc_exit", true), ("malloc", "ab_malloc_enter", false),
        ("calloc", "ab_calloc_exit", true), ("calloc", "ab_calloc_enter", false),
        ("realloc", "ab_realloc_exit", true), ("realloc", "ab_realloc_enter", false),
        ("aligned_alloc", "ab_aligned_alloc_exit", true), ("aligned_alloc", "ab_aligned_alloc_enter", false),
        ("posix_memalign", "ab_posix_memalign_exit", true), ("posix_memalign", "ab_posix_memalign_enter", false),
        ("free", "ab_free_enter", false),
    ]
    static let probedFunctions = "malloc, calloc, realloc, aligned_alloc (= memalign), posix_memalign, free"

    enum Attachment: Equatable {
        case attached(libc: String, inode: UInt64, freeOffset: Int)
        case failed(String)
    }

    private let session: ProbeSession
    let sampleEvery: UInt32
    private var attachments: [Int32: Attachment] = [:]
    /// The last memory map read of each process, for symbolizing after it exits.
    private var maps: [Int32: MemoryMap] = [:]
    /// An attached process's map is reread at most once a second (a library it loads later is
    /// symbolized, and an exec into another libc is seen).
    private var nextCheckNs: [Int32: UInt64] = [:]

    init(session: ProbeSession, sampleEvery: UInt32) throws(ProbeError) {
        self.session = session
        self.sampleEvery = sampleEvery
        try session.setTunable(.alloc, "targ_sample_every", sampleEvery)
        try session.setTunable(.alloc, "targ_always_bytes", Self.alwaysSampledBytes)
    }

    /// The libc mapped by a process: the first file named libc.so.N or libc-X.Y.so.
    static func libc(in map: MemoryMap) -> MemoryMap.Region? {
        map.regions.first { region in
            let name = (region.path as NSString).lastPathComponent
            return region.path.hasPrefix("/") && (name.hasPrefix("libc.so") || (name.hasPrefix("libc-") && name.hasSuffix(".so")))
        }
    }

    /// Attaches the probes to the process's libc, once per libc it maps; a process that maps none
    /// once its loader is done (a static binary) is noted, not an error. Call it for every live
    /// target, often: the loop's 100 ms slices. `beforeExec`: a held child, about to exec the
    /// command, whose map is looked at again on the next call (a static command maps no libc).
    func attach(pid: Int32, beforeExec: Bool = false) {
        defer { if beforeExec { nextCheckNs[pid] = 0 } }
        if case .failed = attachments[pid] { return }
        let now = ab_monotonic_ns()
        if let next = nextCheckNs[pid], now < next { return }
        guard let map = ProcessTable.memoryMap(pid: pid), !map.regions.isEmpty else { return }
        maps[pid] = map
        guard let libc = Self.libc(in: map) else {
            // The dynamic loader maps libc moments after exec: wait while it is there alone.
            if map.regions.contains(where: { ($0.path as NSString).lastPathComponent.hasPrefix("ld-linux") }) { return }
            attachments[pid] = .failed("no libc with malloc is mapped (a static binary?)")
            return
        }
        nextCheckNs[pid] = now + 1_000_000_000
        if case .attached(libc.path, libc.inode, _)? = attachments[pid] { return }
        // Through the process's root, so a process in another mount namespace is attached to its own file.
        let binary = "/proc/\(pid)/root\(libc.path)"
        do {
            // An entry probe alone at its address (free's) goes where the kernel need not single-step;
            // the others share offset 0 with their return probe, which must be there.
            let freeOffset = UprobeSite.entryOffset(of: "free", in: binary)
            for probe in Self.probes {
                try session.attachUprobe(program: probe.program, pid: pid, binary: binary, function: probe.function,
                                         offset: probe.function == "free" ? freeOffset : 0, returning: probe.returning)
            }
            attachments[pid] = .attached(libc: libc.path, inode: libc.inode, freeOffset: freeOffset)
        } catch {
            attachments[pid] = .failed("\(error)")
        }
    }

    /// Rereads the memory map of every attached process still alive: called as the run ends, before
    /// a command archbench started is stopped.
    func snapshotMaps() {
        for pid in attachments.keys {
            if let map = ProcessTable.memoryMap(pid: pid), !map.regions.isEmpty { maps[pid] = map }
        }
    }

    /// Fills in `allocations` of every process: its top stacks by outstanding bytes, symbolized.
    func annotate(_ processes: inout [ProcessRecord]) throws(ProbeError) {
        snapshotMaps()
        let sites = try session.entries(of: "alloc_outstanding", key: alloc_site.self, value: alloc_outstanding.self)
        var stacks: [Int32: alloc_stack] = [:]
        for entry in try session.entries(of: "alloc_stacks", key: UInt32.self, value: alloc_stack.self) {
            stacks[Int32(bitPattern: entry.key)] = entry.value
        }
        let byProcess = Dictionary(grouping: sites.filter { $0.value.estimated_count > 0 }) { Int32(bitPattern: $0.key.tgid) }
        let symbolizer = Symbolizer()
        for index in processes.indices {
            let pid = processes[index].pid
            var report = AllocationRecord(sampleEvery: sampleEvery, alwaysSampledBytes: Self.alwaysSampledBytes,
                                          probes: nil, error: nil)
            switch attachments[pid] {
            case .attached(let libc, _, let freeOffset)?:
                report.probes = "\(Self.probedFunctions)\(freeOffset == 0 ? "" : " (at +\(freeOffset))") in \(libc)"
            case .failed(let reason)?: report.error = "allocation probes could not attach to pid \(pid): \(reason)"
            case nil: report.error = "allocation probes could not attach to pid \(pid): it exited before they were"
            }
            let own = (byProcess[pid] ?? []).map { entry in
                let frames = stacks[entry.key.stack_id].map(Self.addresses) ?? []
                return (entry.value, frames)
            }.sorted { ($0.0.estimated_bytes, $0.0.estimated_count) > ($1.0.estimated_bytes, $1.0.estimated_count) }
            for (value, _) in own {
                report.estimatedBytes += value.estimated_bytes
                report.estimatedCount += value.estimated_count
                report.sampledBytes += value.sampled_bytes
                report.sampledCount += value.sampled_count
            }
            report.stacks = own.prefix(AllocationRecord.stacksListed).map { value, addresses in
                AllocationStack(estimatedBytes: value.estimated_bytes, estimatedCount: value.estimated_count,
                                sampledBytes: value.sampled_bytes, sampledCount: value.sampled_count,
                                frames: addresses.map { symbolizer.name(ofReturnAddress: $0, in: maps[pid]) })
            }
            report.stacksNotShown = max(0, own.count - AllocationRecord.stacksListed)
            processes[index].allocations = report
        }
    }

    static func addresses(_ stack: alloc_stack) -> [UInt64] {
        withUnsafeBytes(of: stack.ip) { Array($0.bindMemory(to: UInt64.self).prefix { $0 != 0 }) }
    }
}

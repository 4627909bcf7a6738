import Foundation

/// The probe families built from bpf/NAME.bpf.c by the BPFEmbed plugin, which embeds each object
/// as a base64 string named `bpfObject_NAME`.
///
/// Maps, programs and rodata tunables are found by name (`ProbeSession`) rather than through
/// bpftool-generated skeletons: a tools-version 6.1 build plugin cannot emit the C header a
/// skeleton is, and the experimental tools-version that can does not order a hand-written C file
/// after it. The names live once, in each family's Swift file, and every read checks the map's key
/// and value sizes against the Swift view of `bpf/NAME.h`.
public enum ProbeFamily: String, CaseIterable, Sendable {
    /// Owns the `targets` map every other family filters on; must be loaded first.
    case targets
    case syscalls
    case sched
    case memory
    case tcp
    /// USDT GC probes of runtimes; attached per process by `GCProbe`.
    case gc
    /// Native allocations by user stack (uprobes on libc's malloc family); off by default, loaded by
    /// `archbench probe --alloc` and attached per process by `AllocProbe`.
    case alloc

    /// Loaded unless asked otherwise. The syscalls family is opt-in: its raw sys_enter/sys_exit
    /// tracepoints put every syscall of every process on the kernel's slow path, even with empty
    /// programs (bench/syscall-tracepoint-floor.sh), while the other families together stay within
    /// the benchmark's noise (bench/probe-overhead.py; docs/benchmarks.md has both). The alloc family
    /// is opt-in too: every allocator call of a target traps (bench/alloc-overhead.py).
    public var isDefault: Bool { self != .syscalls && self != .alloc }

    var objectBytes: [UInt8] {
        let base64 = switch self {
        case .targets: bpfObject_targets
        case .syscalls: bpfObject_syscalls
        case .sched: bpfObject_sched
        case .memory: bpfObject_memory
        case .tcp: bpfObject_tcp
        case .gc: bpfObject_gc
        case .alloc: bpfObject_alloc
        }
        // The plugin wrote this string itself; a decoding failure is a broken build, not bad input.
        guard let data = Data(base64Encoded: base64) else {
            fatalError("embedded BPF object \(rawValue) is not valid base64: rebuild archbench")
        }
        return Array(data)
    }
}

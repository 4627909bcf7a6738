import ArchbenchCore
import CProbe
import Recording

/// bpf/gc.bpf.c: the collections a runtime reports itself through its USDT probes, attached per
/// process once the runtime's library is mapped: HotSpot's hotspot:gc__begin and gc__end in
/// libjvm.so. (Node's and CPython's gc__start/gc__done exist only in builds configured with
/// DTrace/SystemTap probes: Debian 12's node has none, its python3.11 has them but they are not
/// attached yet; see docs/kernel.md.)
final class GCProbe: FamilyProbe {
    static let family = ProbeFamily.gc
    private static let events = "gc_events"
    let ringBuffer: String? = events
    /// How long after a process is first seen under a name its maps are looked at for a runtime: a
    /// runtime maps its library right after exec, and reading every target's maps for its whole life
    /// would make the probe's own CPU grow with the targets' (docs/benchmarks.md).
    static let lookWindowNs: UInt64 = 1_000_000_000

    private let session: ProbeSession
    /// The collections delivered so far.
    private(set) var pauses: [RuntimePause] = []
    /// The runtime probes attached, and those that could not be, for the report.
    private(set) var attachments: [String] = []
    /// The processes whose runtime GC probes are attached: their pauses come from the runtime.
    private(set) var probedPids: Set<Int32> = []
    /// Processes whose runtime probes are attached (or failed to), so each is attached once.
    private var checked: Set<Int32> = []
    /// When each process was first looked at for a runtime, under which name.
    private var looks: [Int32: (comm: String, sinceNs: UInt64)] = [:]

    init(session: ProbeSession) {
        self.session = session
    }

    func collect() throws(ProbeError) {
        try session.collect(Self.events, as: gc_event.self)
    }

    func drain() throws(ProbeError) {
        pauses += try session.take(Self.events, as: gc_event.self).map { event in
            RuntimePause(pid: Int32(bitPattern: event.tgid), tid: Int32(bitPattern: event.tid),
                         startNs: event.start_ns, endNs: event.end_ns)
        }
    }

    /// Attaches the GC probes of a runtime the process has mapped, in its first `lookWindowNs` under
    /// a name (an exec renames it and starts over).
    func attachRuntime(pid: Int32, comm: String) {
        guard !checked.contains(pid) else { return }
        let now = ab_monotonic_ns()
        if let look = looks[pid], look.comm == comm {
            guard now - look.sinceNs < Self.lookWindowNs else { return }
        } else {
            looks[pid] = (comm, now)
        }
        // Most targets are no JVM: a substring search turns them away before the map is parsed.
        guard let text = ProcessTable.read("/proc/\(pid)/maps"), text.contains("/libjvm.so\n"),
              let libjvm = MemoryMap(parsing: text).regions.first(where: { $0.path.hasSuffix("/libjvm.so") })?.path
        else { return }
        checked.insert(pid)
        do {
            try session.attachUSDT(program: "ab_gc_begin", pid: pid, binary: libjvm, provider: "hotspot", name: "gc__begin")
            try session.attachUSDT(program: "ab_gc_end", pid: pid, binary: libjvm, provider: "hotspot", name: "gc__end")
            attachments.append("pid \(pid): hotspot:gc__begin/gc__end in \(libjvm)")
            probedPids.insert(pid)
        } catch {
            attachments.append("pid \(pid): \(error)")
        }
    }
}

import CProbe
import Recording

/// bpf/syscalls.bpf.c (opt-in): every syscall of the targets counted, and timed from entry to exit
/// into per-CPU log-linear histograms, by process and syscall number.
final class SyscallsProbe: FamilyProbe {
    static let family = ProbeFamily.syscalls
    private let session: ProbeSession
    private let calls: ProcessEventRows<slow_syscall>
    var ringBuffer: String? { calls.ringBuffer }
    /// The calls of at least AB_SLOW_SYSCALL_NS delivered so far, by process: [start ns, duration
    /// ns, syscall number].
    var slowCalls: [Int32: [[UInt64]]] { calls.rows }

    init(session: ProbeSession) {
        self.session = session
        calls = ProcessEventRows("slow_syscalls", session: session) {
            (Int32(bitPattern: $0.tgid), [$0.start_ns, $0.duration_ns, UInt64($0.nr)])
        }
    }

    func collect() throws(ProbeError) { try calls.collect() }

    func drain() throws(ProbeError) { try calls.drain() }

    /// Calls and latency by process and syscall name.
    func latency() throws(ProbeError) -> [Int32: [String: (calls: UInt64, stats: LatencyStats)]] {
        var byProcess: [Int32: [String: (calls: UInt64, stats: LatencyStats)]] = [:]
        for entry in try session.perCPUEntries(of: "syscall_latency", key: syscall_key.self, value: syscall_latency.self) {
            let total = LatencyHistogram.sum(entry.values)
            byProcess[Int32(bitPattern: entry.key.tgid), default: [:]][SyscallTable.name(of: Int32(bitPattern: entry.key.nr))] =
                (total.calls, LatencyHistogram.stats(total))
        }
        return byProcess
    }
}

/// Reads the kernel's log-linear latency histogram (bpf/syscalls.h, bucketed by bpf/log_linear.h):
/// values under 32 ns exact, then 16 buckets per power of two. A percentile is reported as its
/// bucket's midpoint, within 3.2% of every value the bucket holds.
enum LatencyHistogram {
    /// The bucket's lowest value and width, by the one bucketing definition (bpf/log_linear.h).
    static func bounds(ofSlot slot: Int) -> (lowest: UInt64, width: UInt64) {
        let bits = UInt32(AB_LATENCY_BITS)
        return (ab_log_linear_lowest(bits, UInt32(slot)), ab_log_linear_width(bits, UInt32(slot)))
    }

    /// One histogram from the per-CPU copies.
    static func sum(_ perCPU: [syscall_latency]) -> syscall_latency {
        var total = syscall_latency()
        var slots = [UInt32](repeating: 0, count: Int(AB_LATENCY_SLOTS))
        for latency in perCPU {
            total.calls += latency.calls
            total.count += latency.count
            total.total_ns += latency.total_ns
            total.max_ns = max(total.max_ns, latency.max_ns)
            withUnsafeBytes(of: latency.slots) { raw in
                for (index, count) in raw.bindMemory(to: UInt32.self).enumerated() { slots[index] &+= count }
            }
        }
        withUnsafeMutableBytes(of: &total.slots) { raw in
            for (index, count) in slots.enumerated() { raw.storeBytes(of: count, toByteOffset: index * 4, as: UInt32.self) }
        }
        return total
    }

    static func stats(_ latency: syscall_latency) -> LatencyStats {
        let slots = withUnsafeBytes(of: latency.slots) { Array($0.bindMemory(to: UInt32.self)) }
        let total = slots.reduce(UInt64(0)) { $0 + UInt64($1) }
        func percentile(_ p: Double) -> UInt64 {
            guard total > 0 else { return 0 }
            let wanted = ab_log_linear_rank(p, total)
            var seen: UInt64 = 0
            for (slot, count) in slots.enumerated() where count > 0 {
                seen += UInt64(count)
                if seen >= wanted {
                    let (lowest, width) = bounds(ofSlot: slot)
                    return Swift.min(lowest + width / 2, latency.max_ns)
                }
            }
            return latency.max_ns
        }
        return LatencyStats(
            count: latency.count, p50: percentile(50), p90: percentile(90), p99: percentile(99),
            mean: latency.count > 0 ? latency.total_ns / latency.count : 0, max: latency.max_ns)
    }
}

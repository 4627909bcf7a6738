import CProbe

/// Summary of one syscall's latency histogram, in ns.
public struct LatencyStats: Codable, Sendable, Equatable {
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    /// Exact: the kernel keeps the sum.
    public var mean: UInt64
    public var max: UInt64
}

/// Reads the kernel's log-linear latency histogram (bpf/syscalls.h): values under 16 ns exact, then
/// 16 buckets per power of two. A percentile is reported as its bucket's midpoint, within 3.2% of
/// every value the bucket holds.
enum LatencyHistogram {
    static let subBits = UInt64(AB_LATENCY_SUB_BITS)

    /// The bucket's lowest value and width.
    static func bounds(ofSlot slot: Int) -> (lowest: UInt64, width: UInt64) {
        let perOctave = 1 << subBits
        if slot < perOctave { return (UInt64(slot), 1) }
        let msb = UInt64(slot / perOctave) + subBits - 1
        let sub = UInt64(slot % perOctave)
        let shift = msb - subBits
        return ((UInt64(perOctave) + sub) << shift, 1 << shift)
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
            let wanted = Swift.max(1, UInt64((p / 100 * Double(total)).rounded()))
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

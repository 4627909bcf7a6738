import CProbe

/// The Swift side of one probe family, mirroring `bpf/NAME.bpf.c` and `bpf/NAME.h` as a libbpf-tools
/// tool's `NAME.c` does: it owns the family's map names, turns its C structs into `Recording` types
/// (the one place each is converted), and names its lost-event reasons. `KernelProbe` lists them.
protocol FamilyProbe: AnyObject {
    static var family: ProbeFamily { get }
    /// Reasons its `<family>_lost` counters carry besides the shared ones (bpf/targets.h).
    static var lostReasons: [UInt32: String] { get }
    /// Moves what the kernel sent through the family's ring buffer into memory, without blocking.
    func drain() throws(ProbeError)
    /// Its ring buffer, when the family sends events one by one.
    var ringBuffer: String? { get }
    /// What it had to drop, by "family.reason": `kernelLostEvents` unless it drops some itself.
    func lostEvents(in session: ProbeSession) throws(ProbeError) -> [String: UInt64]
}

extension FamilyProbe {
    static var lostReasons: [UInt32: String] { [:] }
    func drain() throws(ProbeError) {}
    var ringBuffer: String? { nil }

    func lostEvents(in session: ProbeSession) throws(ProbeError) -> [String: UInt64] {
        try kernelLostEvents(in: session)
    }

    /// The `<family>_lost` counters by reason name, those above zero, and its ring buffer's records
    /// not kept.
    func kernelLostEvents(in session: ProbeSession) throws(ProbeError) -> [String: UInt64] {
        let reasons = sharedLostReasons.merging(Self.lostReasons) { $1 }
        var lost: [String: UInt64] = [:]
        let family = Self.family.rawValue
        for entry in try session.summedCounters(of: "\(family)_lost", key: UInt32.self) where entry.value > 0 {
            lost["\(family).\(reasons[entry.key] ?? "reason\(entry.key)")"] = entry.value
        }
        if let ringBuffer, session.droppedRecords(ringBuffer) > 0 {
            lost["\(ringBuffer).not_kept"] = session.droppedRecords(ringBuffer)
        }
        return lost
    }
}

/// `enum lost_reason` of bpf/targets.h, which every family's counters share.
private let sharedLostReasons: [UInt32: String] = [
    UInt32(LOST_TARGETS_FULL.rawValue): "targets_full", UInt32(LOST_MAP_FULL.rawValue): "map_full",
    UInt32(LOST_RINGBUF_FULL.rawValue): "ringbuf_full",
]

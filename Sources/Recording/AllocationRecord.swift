/// A process's outstanding native allocations by user stack (`archbench probe --alloc`), under the
/// `allocations` key of each process in the JSON.
public struct AllocationRecord: Codable, Sendable, Equatable {
    /// Stacks listed per process, most outstanding bytes first.
    public static let stacksListed = 20

    /// One allocation in this many was tracked (1: all, and the counts are exact) ...
    public var sampleEvery: UInt32
    /// ... except those of at least this size, always tracked.
    public var alwaysSampledBytes: UInt64
    /// The functions probed and the libc they are in; nil when the probes could not attach.
    public var probes: String?
    /// Why the probes could not attach to this process; nil when they did.
    public var error: String?
    /// Sums over every stack: estimates (each tracked allocation weighted by the inverse of the
    /// probability it was tracked with) and the tracked allocations themselves.
    public var estimatedBytes: UInt64
    public var estimatedCount: UInt64
    public var sampledBytes: UInt64
    public var sampledCount: UInt64
    /// The stacks holding the most outstanding bytes (estimated), most first.
    public var stacks: [AllocationStack]
    /// Stacks with outstanding allocations beyond those listed.
    public var stacksNotShown: Int

    public init(sampleEvery: UInt32, alwaysSampledBytes: UInt64, probes: String?, error: String?,
                stacks: [AllocationStack] = [], stacksNotShown: Int = 0, totals: AllocationStack? = nil) {
        self.sampleEvery = sampleEvery
        self.alwaysSampledBytes = alwaysSampledBytes
        self.probes = probes
        self.error = error
        self.stacks = stacks
        self.stacksNotShown = stacksNotShown
        estimatedBytes = totals?.estimatedBytes ?? 0
        estimatedCount = totals?.estimatedCount ?? 0
        sampledBytes = totals?.sampledBytes ?? 0
        sampledCount = totals?.sampledCount ?? 0
    }
}

public struct AllocationStack: Codable, Sendable, Equatable {
    public var estimatedBytes: UInt64
    public var estimatedCount: UInt64
    public var sampledBytes: UInt64
    public var sampledCount: UInt64
    /// Innermost first: `function+0xoff (binary)`, or the address when no symbol covers it; empty
    /// when the stack could not be captured (counted in lost_events as alloc.no_stack).
    public var frames: [String]

    public init(estimatedBytes: UInt64, estimatedCount: UInt64, sampledBytes: UInt64, sampledCount: UInt64,
                frames: [String]) {
        self.estimatedBytes = estimatedBytes
        self.estimatedCount = estimatedCount
        self.sampledBytes = sampledBytes
        self.sampledCount = sampledCount
        self.frames = frames
    }
}

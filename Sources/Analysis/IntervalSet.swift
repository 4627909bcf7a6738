/// A set of time intervals on CLOCK_MONOTONIC, [start, end) in ns, kept sorted and disjoint: the
/// moments a process had a given kind of trouble. Built once, then asked how much of another
/// interval it covers.
public struct IntervalSet: Sendable, Equatable {
    /// Sorted by start, disjoint, none empty.
    public private(set) var intervals: [(start: UInt64, end: UInt64)]

    public static func == (lhs: IntervalSet, rhs: IntervalSet) -> Bool {
        lhs.intervals.elementsEqual(rhs.intervals) { $0.start == $1.start && $0.end == $1.end }
    }

    /// Overlapping and touching intervals are joined; empty ones dropped.
    public init(_ raw: [(start: UInt64, end: UInt64)]) {
        var merged: [(start: UInt64, end: UInt64)] = []
        for interval in raw.filter({ $0.end > $0.start }).sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, interval.start <= last.end {
                merged[merged.count - 1].end = max(last.end, interval.end)
            } else {
                merged.append(interval)
            }
        }
        intervals = merged
    }

    public var isEmpty: Bool { intervals.isEmpty }

    public var totalNs: UInt64 { intervals.reduce(0) { $0 + ($1.end - $1.start) } }

    /// The index of the first interval that ends after `ns` (binary search).
    private func firstEnding(after ns: UInt64) -> Int {
        var low = 0, high = intervals.count
        while low < high {
            let middle = (low + high) / 2
            if intervals[middle].end <= ns { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// How many ns of [start, end) the set covers.
    public func overlapNs(start: UInt64, end: UInt64) -> UInt64 {
        guard end > start else { return 0 }
        var covered: UInt64 = 0
        var index = firstEnding(after: start)
        while index < intervals.count, intervals[index].start < end {
            covered += min(end, intervals[index].end) - max(start, intervals[index].start)
            index += 1
        }
        return covered
    }

    /// The measure of the starts t in [start, end) at which [t, t + lengthNs) overlaps the set by at
    /// least `minOverlapNs` (at least 1 ns: by anything). Over (end − start) it is the chance that a
    /// request of that length, placed anywhere in the window, meets the set that much.
    public func placements(lengthNs: UInt64, minOverlapNs: UInt64, start: UInt64, end: UInt64) -> Double {
        guard end > start, lengthNs > 0 else { return 0 }
        return edges(from: start).placements(lengthNs: lengthNs, minOverlapNs: minOverlapNs, end: end)
    }

    /// The set's edges from `origin`, for `placements` of many lengths over one window.
    func edges(from origin: UInt64) -> Edges {
        let from = Double(origin)
        var offsets: [Double] = []
        offsets.reserveCapacity(2 * intervals.count)
        for interval in intervals {
            offsets.append(Double(interval.start) - from)
            offsets.append(Double(interval.end) - from)
        }
        return Edges(origin: origin, offsets: offsets)
    }

    /// The edges s₀ < e₀ < s₁ < … of the intervals in ns from an origin, as `Double`: what
    /// `placements` sweeps over, converted once for all the lengths asked of one set.
    struct Edges {
        let origin: UInt64
        let offsets: [Double]

        /// `IntervalSet.placements` over [origin, end).
        ///
        /// The overlap is a continuous, piecewise linear function of t whose slope changes by +1 at
        /// s − length and e, and by −1 at e − length and s, for each interval [s, e): one sweep over
        /// those points, O(n). The edges are in order, and so are the same edges less the length:
        /// the sweep merges those two sequences rather than sorting the points (the root causes ask
        /// this of every set for every length of slow request). Points that coincide may be taken
        /// in any order, as the span between them is empty.
        func placements(lengthNs: UInt64, minOverlapNs: UInt64, end: UInt64) -> Double {
            guard end > origin, lengthNs > 0 else { return 0 }
            let length = Double(lengthNs), needed = Double(max(minOverlapNs, 1))
            let windowEnd = Double(end) - Double(origin)
            var measure = 0.0, overlap = 0.0, slope = 0.0, at = 0.0
            /// Adds the part of [from, to) in the window where the overlap, linear from `value` with
            /// `slope`, is at least `needed`.
            func add(from: Double, to: Double, value: Double) {
                let low = max(from, 0), high = min(to, windowEnd)
                guard high > low else { return }
                let atLow = value + slope * (low - from), atHigh = value + slope * (high - from)
                if atLow >= needed && atHigh >= needed {
                    measure += high - low
                } else if slope > 0, atHigh >= needed {
                    measure += high - (low + (needed - atLow) / slope)
                } else if slope < 0, atLow >= needed {
                    measure += (low + (atLow - needed) / -slope) - low
                }
            }
            offsets.withUnsafeBufferPointer { edge in
                // The intervals that can meet a placement: a run of them, as starts and ends both rise.
                let intervals = 0..<(edge.count / 2)
                let first = intervals.partitionIndex { edge[2 * $0 + 1] > -length }
                let last = intervals[first...].partitionIndex { edge[2 * $0] >= windowEnd }
                // Shifted edges (s − length: +1, e − length: −1) and plain ones (s: −1, e: +1). A
                // plain edge is never before its shifted self, so the last plain edge is the last point.
                let edges = 2 * last
                var shifted = 2 * first, plain = 2 * first
                guard plain < edges else { return }
                at = edge[shifted] - length
                var nextShifted = at, nextPlain = edge[plain]
                while plain < edges {
                    let point: Double, by: Double
                    if shifted < edges, nextShifted < nextPlain {
                        point = nextShifted
                        by = shifted & 1 == 0 ? 1 : -1
                        shifted += 1
                        if shifted < edges { nextShifted = edge[shifted] - length }
                    } else {
                        point = nextPlain
                        by = plain & 1 == 0 ? -1 : 1
                        plain += 1
                        if plain < edges { nextPlain = edge[plain] }
                    }
                    add(from: at, to: point, value: overlap)
                    overlap += slope * (point - at)
                    at = point
                    slope += by
                }
            }
            add(from: at, to: max(at, windowEnd), value: overlap)
            return measure
        }
    }
}

extension IntervalSet {
    /// The moments in this set and not in `other`.
    public func subtracting(_ other: IntervalSet) -> IntervalSet {
        var result: [(start: UInt64, end: UInt64)] = []
        var cut = 0
        for interval in intervals {
            var start = interval.start
            while cut < other.intervals.count, other.intervals[cut].end <= start { cut += 1 }
            var next = cut
            while next < other.intervals.count, other.intervals[next].start < interval.end {
                if other.intervals[next].start > start { result.append((start, other.intervals[next].start)) }
                start = max(start, other.intervals[next].end)
                next += 1
            }
            if start < interval.end { result.append((start, interval.end)) }
        }
        return IntervalSet(result)
    }
}

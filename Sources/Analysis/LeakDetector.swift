import Foundation

/// Whether a process's memory grew for good over a window, and how fast.
public struct LeakVerdict: Codable, Sendable, Equatable {
    /// The floor of the RSS grew steadily, significantly and materially (see `LeakDetector`).
    public var leakSuspected: Bool
    /// The floor's Theil–Sen slope, bytes per second; 0 when there was not enough data.
    public var growthBytesPerS: Double
    /// The slope's 95% confidence interval, [low, high], bytes per second.
    public var ci95BytesPerS: [Double]
    /// How many floor points were fitted.
    public var samples: Int
    /// What was fitted, e.g. "theil-sen on rss floor (troughs) + mann-kendall".
    public var method: String
    /// Why there was no fit (too short a window, too few points); nil when there was one.
    public var reason: String?

    public init(leakSuspected: Bool, growthBytesPerS: Double, ci95BytesPerS: [Double], samples: Int,
                method: String, reason: String? = nil) {
        self.leakSuspected = leakSuspected
        self.growthBytesPerS = growthBytesPerS
        self.ci95BytesPerS = ci95BytesPerS
        self.samples = samples
        self.method = method
        self.reason = reason
    }
}

/// Flags a memory leak from a process's RSS timeline by regressing the growth of its *floor*, the
/// level it keeps coming back to, so that a garbage-collected heap that grows and is collected back
/// to the same level is not a leak, and a slow leak underneath such a sawtooth is.
///
/// ## The rule
///
/// The timeline is event-driven: a point each time RSS changed by at least max(64 KiB, RSS/128),
/// its value holding until the next point. That step function is what is analysed.
///
/// 1. **Warm-up.** The first `warmupFraction` of the window [startNs, endNs] is dropped: heaps,
///    caches and pools fill there. What remains, [a, endNs], must last `minWindowNs`.
/// 2. **Shape.** The step function is read on a uniform grid of `gridPoints` times over [a, endNs]
///    (the last point at or before each time; grid times before the first point are skipped). On
///    that grid a *drop* is a run of consecutive falling steps, at most `maxDropSteps` long, that
///    falls by at least `dropFraction` of the grid's range (max − min): a collection, not a slow
///    release.
/// 3. **The floor.** With at least `minDrops` drops the series is a sawtooth and the floor is its
///    troughs: for each drop, the minimum of the step function from the drop's first grid time to
///    the next drop's (or to the end), at the time it is reached. The stretch before the first drop
///    is left out: it starts at an arbitrary phase of the cycle. Otherwise the floor is the minimum
///    of the step function in each of `floorBins` equal bins of [a, endNs]. Minima are read off the
///    step function itself, not the grid, so they do not depend on where grid times fall. There are
///    at most `gridPoints` (≤ 1000) floor points, which bounds the fit's cost.
/// 4. **Fit.** Theil–Sen (95% interval, `Statistics.theilSen`) of the floor's bytes against its times
///    in seconds, and the Mann–Kendall test (`Statistics.mannKendall`) of the floor in time order.
///    Fewer than `minFloorPoints` floor points: not suspected, with a reason.
/// 5. **Verdict.** A leak is suspected when all of these hold:
///    - the slope's interval is above zero (low > 0), and Mann–Kendall has S > 0 and
///      p < `maxPValue`: the floor rises, and not by chance;
///    - the slope is at least `minGrowthBytesPerS`, and the growth over the fitted span
///      (slope × (last floor time − first)) is at least `minGrowthFraction` of the floor's median:
///      the growth matters;
///    - the growth is sustained: the Theil–Sen slope of each half of the floor points is at least
///      `minSustainedFraction` of the whole floor's slope. A single step up (a cache filled once, a
///      pool that grew) leaves one half flat and is not a leak, however significant the rise.
public struct LeakDetector: Sendable {
    /// The share of the window dropped at its start.
    public var warmupFraction = 0.2
    /// The shortest window, after the warm-up, worth fitting.
    public var minWindowNs: UInt64 = 2_000_000_000
    /// Grid times over the window after the warm-up, for finding drops (at most 1000 are used).
    public var gridPoints = 200
    /// A drop falls by at least this share of the grid's range…
    public var dropFraction = 0.1
    /// …within at most this many grid steps.
    public var maxDropSteps = 5
    /// With at least this many drops the floor is the troughs; with fewer, the bin minima.
    public var minDrops = 3
    /// Equal bins for the floor when the series is not a sawtooth.
    public var floorBins = 20
    /// Fewer floor points than this: no verdict (`reason` says why).
    public var minFloorPoints = 8
    /// Mann–Kendall's two-sided p must be below this.
    public var maxPValue = 0.05
    /// The growth over the fitted span, as a share of the floor's median, must reach this. 2% is
    /// about two and a half of the probe's RSS/128 recording steps: growth the recording resolves.
    public var minGrowthFraction = 0.02
    /// The slope must reach this: 4096 B/s, a page a second, about 350 MB a day. Slower growth
    /// matters only to processes that run for weeks, and a benchmark of minutes cannot tell it
    /// from the allocator's noise.
    public var minGrowthBytesPerS = 4096.0
    /// Each half of the floor must grow at least this share of the whole floor's slope (−∞ turns the
    /// rule off; 0 would still ask each half not to fall).
    public var minSustainedFraction = 0.25

    public init() {}

    /// Where the fit starts: after the warm-up share of the window [startNs, endNs].
    public func fitStart(startNs: UInt64, endNs: UInt64) -> UInt64 {
        endNs > startNs ? startNs + UInt64(Double(endNs - startNs) * min(max(warmupFraction, 0), 1)) : endNs
    }

    /// The verdict for `timeline` (points in time order, [CLOCK_MONOTONIC ns, RSS bytes]) over the
    /// window [startNs, endNs]. Points after endNs are ignored; points before the window only give
    /// the value held at its start.
    public func detect(_ timeline: [(ns: UInt64, bytes: UInt64)], startNs: UInt64, endNs: UInt64) -> LeakVerdict {
        let steps = StepFunction(timeline.filter { $0.ns <= endNs }.sorted { $0.ns < $1.ns })
        let from = fitStart(startNs: startNs, endNs: endNs)
        guard endNs - from >= minWindowNs else {
            let seconds = String(format: "%.1f", Double(endNs - from) / 1e9)
            let needed = String(format: "%.1f", Double(minWindowNs) / 1e9)
            return notEnough(method: Self.methodBins, samples: 0,
                             "the window after the warm-up lasts \(seconds) s; at least \(needed) s is needed")
        }
        guard let firstNs = steps.points.first?.ns else {
            return notEnough(method: Self.methodBins, samples: 0, "no RSS point in the window")
        }

        let grid = gridTimes(from: from, to: endNs).filter { $0 >= firstNs }
        let drops = dropStarts(grid: grid, values: grid.map { Double(steps.value(at: $0)) })
        let troughs = drops.count >= minDrops
        let method = troughs ? Self.methodTroughs : Self.methodBins
        let floor = troughs ? troughFloor(steps, drops: drops, end: endNs) : binFloor(steps, from: from, to: endNs)
        guard floor.count >= minFloorPoints else {
            let what = troughs ? "troughs (one per GC drop)" : "bins with RSS points"
            return notEnough(method: method, samples: floor.count,
                             "\(floor.count) floor points (\(what)); at least \(minFloorPoints) are needed")
        }

        let xs = floor.map { Double($0.ns - from) / 1e9 }, ys = floor.map { Double($0.bytes) }
        guard let fit = Statistics.theilSen(x: xs, y: ys, confidence: 0.95) else {
            return notEnough(method: method, samples: floor.count, "the floor points share one time")
        }
        // A constant floor has no trend to test (Mann–Kendall's variance is 0).
        let trend = Statistics.mannKendall(ys)
        let rises = fit.lowSlope > 0 && (trend.map { $0.s > 0 && $0.pValue < maxPValue } ?? false)
        let span = xs[xs.count - 1] - xs[0]
        let material = fit.slope >= minGrowthBytesPerS
            && fit.slope * span >= minGrowthFraction * (Statistics.median(ys) ?? 0)
        let half = floor.count / 2
        let sustained = [0..<half, half..<floor.count].allSatisfy { range in
            let slope = Statistics.theilSen(x: Array(xs[range]), y: Array(ys[range]))?.slope ?? 0
            return slope >= minSustainedFraction * fit.slope
        }
        return LeakVerdict(leakSuspected: rises && material && sustained, growthBytesPerS: fit.slope,
                           ci95BytesPerS: [fit.lowSlope, fit.highSlope], samples: floor.count, method: method)
    }

    static let methodTroughs = "theil-sen on rss floor (troughs) + mann-kendall"
    static let methodBins = "theil-sen on rss floor (bin minima) + mann-kendall"

    private func notEnough(method: String, samples: Int, _ reason: String) -> LeakVerdict {
        LeakVerdict(leakSuspected: false, growthBytesPerS: 0, ci95BytesPerS: [0, 0], samples: samples,
                    method: method, reason: reason)
    }

    private func gridTimes(from: UInt64, to end: UInt64) -> [UInt64] {
        let count = min(max(gridPoints, 2), 1000)
        let step = Double(end - from) / Double(count - 1)
        return (0..<count).map { $0 == count - 1 ? end : from + UInt64(Double($0) * step) }
    }

    /// The grid times at which drops start: runs of at most `maxDropSteps` falling steps that fall by
    /// at least `dropFraction` of the range.
    private func dropStarts(grid: [UInt64], values: [Double]) -> [UInt64] {
        guard let low = values.min(), let high = values.max(), high > low else { return [] }
        let threshold = dropFraction * (high - low)
        var starts: [UInt64] = []
        var i = 0
        while i + 1 < values.count {
            guard values[i + 1] < values[i] else { i += 1; continue }
            var j = i + 1
            while j + 1 < values.count, values[j + 1] < values[j] { j += 1 }
            if values[i] - values[j] >= threshold, j - i <= maxDropSteps { starts.append(grid[i]) }
            i = j
        }
        return starts
    }

    /// One trough per drop: the minimum from its start to the next drop's start, the last to `end`.
    private func troughFloor(_ steps: StepFunction, drops: [UInt64], end: UInt64) -> [(ns: UInt64, bytes: UInt64)] {
        drops.indices.compactMap { k in
            steps.minimum(from: drops[k], before: k + 1 < drops.count ? drops[k + 1] : end, through: k + 1 == drops.count)
        }
    }

    private func binFloor(_ steps: StepFunction, from: UInt64, to end: UInt64) -> [(ns: UInt64, bytes: UInt64)] {
        let bins = max(floorBins, 1)
        let width = Double(end - from) / Double(bins)
        return (0..<bins).compactMap { k in
            let low = from + UInt64(Double(k) * width), high = k == bins - 1 ? end : from + UInt64(Double(k + 1) * width)
            return steps.minimum(from: low, before: high, through: k == bins - 1)
        }
    }
}

/// The RSS as a step function of time: each point's value holds until the next point.
private struct StepFunction {
    let points: [(ns: UInt64, bytes: UInt64)]

    init(_ points: [(ns: UInt64, bytes: UInt64)]) { self.points = points }

    /// The index of the last point at or before `ns`, nil before the first point.
    func index(atOrBefore ns: UInt64) -> Int? {
        var low = 0, high = points.count  // the first point after ns is in low…high
        while low < high {
            let middle = (low + high) / 2
            if points[middle].ns <= ns { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    /// The value held at `ns` (the first point's before it).
    func value(at ns: UInt64) -> UInt64 {
        points[index(atOrBefore: ns) ?? 0].bytes
    }

    /// The minimum over [from, end) (through `end` when `through`), with the first time it is taken;
    /// nil when no value is known in the interval.
    func minimum(from: UInt64, before end: UInt64, through: Bool) -> (ns: UInt64, bytes: UInt64)? {
        var best: (ns: UInt64, bytes: UInt64)?
        var i: Int
        if let held = index(atOrBefore: from) {
            best = (from, points[held].bytes)
            i = held + 1
        } else {
            i = 0
        }
        while i < points.count, points[i].ns < end || (through && points[i].ns == end) {
            if best.map({ points[i].bytes < $0.bytes }) ?? true { best = points[i] }
            i += 1
        }
        return best
    }
}

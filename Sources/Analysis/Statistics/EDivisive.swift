/// The knobs of change-point detection, with Apache Otava's defaults (its `AnalysisOptions` and the
/// `--window`, `-P`, `-M` options of `otava analyze`).
public struct ChangePointOptions: Sendable, Equatable {
    /// Points analysed at once by the split step; at least 2. Windows start every
    /// `windowLength / 2` points (or at the last change point a window found, if that is later).
    public var windowLength: Int
    /// A change point is kept only with a p-value below this (Otava's `max_pvalue`).
    public var maxPValue: Double
    /// …or, once every p-value is below `maxPValue`, only with a relative change of the means above
    /// this (Otava's `min_magnitude`; see `ChangePoint.magnitude`).
    public var minMagnitude: Double

    public init(windowLength: Int = 50, maxPValue: Double = 0.001, minMagnitude: Double = 0) {
        self.windowLength = windowLength
        self.maxPValue = maxPValue
        self.minMagnitude = minMagnitude
    }

    /// The relaxed threshold of the split step, whose "weak" change points the merge step then
    /// thins: 10 × `maxPValue` below 0.05, 2 × below 0.5, else `maxPValue` itself (as Otava).
    public var firstPassPValue: Double {
        maxPValue < 0.05 ? maxPValue * 10 : (maxPValue < 0.5 ? maxPValue * 2 : maxPValue)
    }
}

/// A change point: where a series' level changes, with Otava's statistics of the two segments
/// around it (its `TTestStats`). The segments are those it was last tested on: normally from the
/// previous change point (or the start) to `index`, and from `index` to the next (or the end), but
/// Otava's merge step can leave the statistics of a segment that has since grown (see
/// `Statistics.changePoints`).
public struct ChangePoint: Sendable, Equatable {
    /// The first index of the new segment (never 0).
    public var index: Int
    /// The two-sided p-value of Student's t test between the segments before and after.
    public var pValue: Double
    /// The mean of the segment before `index`.
    public var meanBefore: Double
    /// The mean of the segment from `index`.
    public var meanAfter: Double
    /// The segments' population standard deviations (ddof = 0, as Otava's `np.std`); 0 for one point.
    public var standardDeviationBefore: Double
    public var standardDeviationAfter: Double

    public init(index: Int, pValue: Double, meanBefore: Double, meanAfter: Double,
                standardDeviationBefore: Double, standardDeviationAfter: Double) {
        self.index = index
        self.pValue = pValue
        self.meanBefore = meanBefore
        self.meanAfter = meanAfter
        self.standardDeviationBefore = standardDeviationBefore
        self.standardDeviationAfter = standardDeviationAfter
    }

    /// meanAfter/meanBefore − 1, or 0 when meanBefore is 0 (Otava's `forward_rel_change`).
    public var forwardRelativeChange: Double { meanBefore == 0 ? 0 : meanAfter / meanBefore - 1 }
    /// meanBefore/meanAfter − 1, or 0 when meanAfter is 0 (Otava's `backward_rel_change`).
    public var backwardRelativeChange: Double { meanAfter == 0 ? 0 : meanBefore / meanAfter - 1 }
    /// 100 × `forwardRelativeChange`: the change in percent of the level before, signed.
    public var forwardChangePercent: Double { forwardRelativeChange * 100 }
    /// The larger of |forward| and |backward| relative change (Otava's `change_magnitude`), so a
    /// halving and a doubling weigh the same; what `ChangePointOptions.minMagnitude` is compared to.
    public var magnitude: Double {
        let forward = abs(forwardRelativeChange), backward = abs(backwardRelativeChange)
        return backward > forward ? backward : forward
    }
}

extension Statistics {
    /// The change points of `series` by E-divisive means, exactly as Apache Otava (formerly Hunter)
    /// computes them (`otava.analysis.compute_change_points`; Fleming et al., "Hunter: Using Change
    /// Point Detection to Hunt for Performance Regressions", ICPE 2023): the same indices and, with
    /// the same C maths library (glibc, where the vectors were made), the same statistics to the
    /// bit. Sorted by index. Empty for fewer than 3 points or when nothing is significant.
    ///
    /// **Split.** Windows of `windowLength` points, the first at 0, each next one `windowLength / 2`
    /// further on or at the last change point the window found if that is later, until a window
    /// would start at or past the end (windows are cut short at the end, so the tail is analysed
    /// more than once). In each window, E-divisive (Matteson and James, 2014) bisects recursively: over
    /// every current segment it finds the split τ and end κ maximising
    ///
    ///     q̂(X, Y) = 2/(n + m)·Σ|Xᵢ − Yⱼ| − 2m/((n + m)(n − 1))·Σᵢ<ₖ|Xᵢ − Xₖ| − 2n/((n + m)(m − 1))·Σⱼ<ₖ|Yⱼ − Yₖ|
    ///
    /// for X = segment[start..<τ] (n points) and Y = [τ..<κ] (m points) — Otava's closed form, in
    /// the same floating-point order, with its tie-breaking (the first maximum, row by row over τ
    /// then κ; a zero in the matrix's unused lower triangle can win when every q̂ is negative). The
    /// segment with the largest q̂ (the first, on a tie) gives the candidate τ; Otava's replacement
    /// of the original permutation test decides it: Student's two-sample t test with pooled
    /// variance (scipy.stats.ttest_ind_from_stats, two-sided) between segment[start..<τ] and
    /// [τ..<end], fed Otava's ddof = 0 standard deviations, so the pooled variance is
    /// ((n − 1)·s₁² + (m − 1)·s₂²)/(n + m − 2) with s² the population variances. p = 1 for two
    /// points in all. The candidate joins the window's change points if p ≤ `firstPassPValue`;
    /// the first that fails ends the window. The union of all windows' change points are the
    /// "weak" change points, each then tested between its neighbours in the whole series.
    ///
    /// **Merge.** Repeatedly take the weak point with the largest p-value (the first, on a tie) and
    /// drop it if that p-value is not below `maxPValue`. Once every p-value is below it, take the
    /// point with the smallest `magnitude` (the first, on a tie): stop if that magnitude is above
    /// `minMagnitude`, else drop it and go on. After a drop, the point that followed it and the one
    /// after that are tested again against their new neighbours. That is Otava's code: the point *before* the dropped one, whose following
    /// segment grew, keeps its earlier statistics, so a reported p-value or mean can be from
    /// segments that no longer border it. This function reproduces that rather than fixing it.
    ///
    /// Means and sums of squares are numpy's pairwise sums, and the p-value 2·P(T ≤ −|t|) comes from
    /// `studentTCDFAsScipy`, scipy's own algorithm, because a p-value can equal a threshold exactly;
    /// t = ±∞ (both segments constant, different) gives p = 0, 0/0 gives NaN, which never counts
    /// as significant. NaN and infinite values go through the same arithmetic (NumPy's argmax and
    /// Python's max included) and so give Otava's change points, meaningless as they are; Otava's
    /// forward-filling of missing values (None) before the analysis is the caller's business.
    /// Otava's incremental mode (`new_data`, `old_weak_cp`) is not offered: analysing the whole
    /// series is what it approximates. O(w²) memory and about O(k·w²) time per window of w points
    /// with k change points.
    public static func changePoints(_ series: [Double], options: ChangePointOptions = .init()) -> [ChangePoint] {
        precondition(options.windowLength >= 2, "the window must hold at least 2 points")
        let weak = weakChangePoints(series, windowLength: options.windowLength, maxPValue: options.firstPassPValue)
        return mergeChangePoints(weak, series: series, maxPValue: options.maxPValue, minMagnitude: options.minMagnitude)
    }

    /// Otava's split step: the union of every window's change points, tested in the whole series.
    static func weakChangePoints(_ series: [Double], windowLength: Int, maxPValue: Double) -> [ChangePoint] {
        let step = windowLength / 2
        var start = 0
        var indices: [Int] = []
        while start < series.count {
            let end = min(start + windowLength, series.count)
            let found = eDivisive(Array(series[start..<end]), maxPValue: maxPValue).map { $0 + start }
            start = max(found.last ?? 0, start + step)
            for index in found where !indices.contains(index) { indices.append(index) }
        }
        indices.sort()
        let segments = changePointSegments(indices, count: series.count)
        return indices.map { segmentTest(series, segments: segments, at: $0) }
    }

    /// E-divisive over one window with the t test: its change points' indices, ascending.
    static func eDivisive(_ window: [Double], maxPValue: Double) -> [Int] {
        let energy = EnergyStatistic(window)
        var found: [Int] = []
        while true {
            let segments = changePointSegments(found, count: window.count)
            // Python's max(): the first candidate, replaced only by a strictly larger q̂.
            var best: (index: Int, qHat: Double)?
            for segment in segments where segment.count > 1 {
                let candidate = energy.candidate(segment)
                if let current = best, !(candidate.qHat > current.qHat) { continue }
                best = candidate
            }
            guard let candidate = best,
                  segmentTest(window, segments: segments, at: candidate.index).pValue <= maxPValue else { break }
            found.append(candidate.index)
            found.sort()
        }
        return found
    }

    /// Otava's merge step over the weak change points (see `changePoints`).
    static func mergeChangePoints(_ weak: [ChangePoint], series: [Double], maxPValue: Double,
                                  minMagnitude: Double) -> [ChangePoint] {
        var points = weak
        while !points.isEmpty {
            var weakest = 0
            for i in points.indices.dropFirst() where points[i].pValue > points[weakest].pValue { weakest = i }
            if points[weakest].pValue < maxPValue {
                weakest = 0
                for i in points.indices.dropFirst() where points[i].magnitude < points[weakest].magnitude { weakest = i }
                if points[weakest].magnitude > minMagnitude { return points }
            }
            points.remove(at: weakest)
            let segments = changePointSegments(points.map(\.index), count: series.count)
            for i in [weakest, weakest + 1] where i < points.count {
                points[i] = segmentTest(series, segments: segments, at: points[i].index)
            }
        }
        return points
    }

    /// The segments between ascending change points (Otava's `get_intervals`), empty ones left out.
    static func changePointSegments(_ indices: [Int], count: Int) -> [Range<Int>] {
        let bounds = [0] + indices + [count]
        return zip(bounds, bounds.dropFirst()).filter { $0.0 != $0.1 }.map { $0.0..<$0.1 }
    }

    /// The t test at `index` (Otava's `TTestSignificanceTester.change_point`): between the segment
    /// ending there and the next, if `index` is a segment boundary; else between the two parts of
    /// the segment it falls inside.
    static func segmentTest(_ series: [Double], segments: [Range<Int>], at index: Int) -> ChangePoint {
        for (i, segment) in segments.enumerated() {
            if segment.upperBound == index, i + 1 < segments.count {
                return segmentTest(series[segment], series[segments[i + 1]], index: index)
            }
            if segment.lowerBound < index, index < segment.upperBound {
                return segmentTest(series[segment.lowerBound..<index], series[index..<segment.upperBound], index: index)
            }
        }
        preconditionFailure("change point \(index) lies in none of the segments \(segments)")
    }

    /// Otava's `TTestSignificanceTester.compare`: ddof = 0 deviations into
    /// scipy.stats.ttest_ind_from_stats (equal variances, two-sided), operation for operation.
    static func segmentTest(_ left: ArraySlice<Double>, _ right: ArraySlice<Double>, index: Int) -> ChangePoint {
        let n1 = left.count, n2 = right.count
        let mean1 = numpySum(left) / Double(n1), mean2 = numpySum(right) / Double(n2)
        let sd1 = n1 >= 2 ? (numpySum(left.map { ($0 - mean1) * ($0 - mean1) }[...]) / Double(n1)).squareRoot() : 0
        let sd2 = n2 >= 2 ? (numpySum(right.map { ($0 - mean2) * ($0 - mean2) }[...]) / Double(n2)).squareRoot() : 0
        var p = 1.0
        if n1 + n2 > 2 {
            // scipy zeroes a one-point sample's variance; the ddof = 0 s² is fed in as if ddof = 1.
            let v1 = n1 == 1 ? 0 : sd1 * sd1, v2 = n2 == 1 ? 0 : sd2 * sd2
            let df = Double(n1 + n2) - 2
            let pooled = (Double(n1 - 1) * v1 + Double(n2 - 1) * v2) / df
            let denominator = (pooled * (1.0 / Double(n1) + 1.0 / Double(n2))).squareRoot()
            let t = (mean1 - mean2) / denominator
            p = 2 * studentTCDFAsScipy(-abs(t), degreesOfFreedom: df)
        }
        return ChangePoint(index: index, pValue: p, meanBefore: mean1, meanAfter: mean2,
                           standardDeviationBefore: sd1, standardDeviationAfter: sd2)
    }

    /// numpy's float64 sum (np.add.reduce: pairwise, eight accumulators in blocks of up to 128), so
    /// that means, and the ties and orderings that depend on them, match Otava's to the bit.
    static func numpySum(_ values: ArraySlice<Double>) -> Double {
        let n = values.count, base = values.startIndex
        if n < 8 {
            var sum = 0.0
            for v in values { sum += v }
            return sum
        }
        if n <= 128 {
            var r = Array(values[base..<base + 8])
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] += values[base + i + j] }
                i += 8
            }
            var sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n {
                sum += values[base + i]
                i += 1
            }
            return sum
        }
        var half = n / 2
        half -= half % 8
        return numpySum(values[base..<base + half]) + numpySum(values[(base + half)...])
    }
}

/// Otava's `PairDistanceCalculator` (power 1) over one window: the pairwise distances and their
/// running sums, from which every segment's q̂ matrix follows.
struct EnergyStatistic {
    let values: [Double]
    /// v[k] = Σᵢ≤ₖ |xᵢ − xₖ₊₁|, summed over i upwards (Otava's `V`).
    let v: [Double]
    /// h[i·(n − 1) + j] = Σₖ₌ᵢ…ⱼ |xᵢ − xₖ₊₁| for j ≥ i, else 0 (Otava's `H`).
    let h: [Double]

    init(_ values: [Double]) {
        self.values = values
        let n = values.count, size = max(n - 1, 0)
        var v = [Double](repeating: 0, count: size), h = [Double](repeating: 0, count: size * size)
        for k in 0..<size {
            for i in 0...k { v[k] += abs(values[i] - values[k + 1]) }
        }
        for i in 0..<size {
            var running = 0.0
            for j in i..<size {
                running += abs(values[i] - values[j + 1])
                h[i * size + j] = running
            }
        }
        self.v = v
        self.h = h
    }

    /// The split of `segment` that maximises q̂ over all ends κ: Otava's
    /// `get_candidate_change_point`, with its matrices A − B − C computed in numpy's order.
    func candidate(_ segment: Range<Int>) -> (index: Int, qHat: Double) {
        let start = segment.lowerBound, m = segment.count - 1, size = values.count - 1
        // Row a is τ = start + 1 + a, column b is κ = start + 2 + b.
        var cumulativeV = [Double](repeating: 0, count: m)
        var running = 0.0
        for a in 0..<m {
            var before = 0.0
            for i in 0..<start { before += abs(values[i] - values[start + 1 + a]) }
            running += v[start + a] - before
            cumulativeV[a] = running
        }
        func hLocal(_ a: Int, _ b: Int) -> Double { h[(start + a) * size + start + b] }

        var q = [Double](repeating: 0, count: m * m)
        var cumulativeH = [Double](repeating: 0, count: m)  // Σ over rows ≤ a, per column
        for a in 0..<m {
            for b in 0..<m {
                cumulativeH[b] = a == 0 ? hLocal(0, b) : cumulativeH[b] + hLocal(a, b)
                let aTerm = b >= a ? 2 / Double(b + 2) * (cumulativeH[b] - (a > 0 ? cumulativeV[a - 1] : 0)) : 0
                var bTerm = 0.0
                if a >= 1, b >= 1 {
                    let coefficient = b >= a ? Double(2 * (b - a + 1)) / Double((b + 2) * a) : 0
                    bTerm = coefficient * cumulativeV[a - 1]
                }
                q[a * m + b] = aTerm - bTerm
            }
        }
        // C: the sum of column b over rows a + 1 … m − 1, accumulated from the bottom.
        if m >= 2 {
            for b in 1..<m {
                var below = 0.0
                for a in stride(from: m - 2, through: 0, by: -1) {
                    below = a == m - 2 ? hLocal(m - 1, b) : below + hLocal(a + 1, b)
                    let coefficient = b > a ? Double(2 * (a + 1)) / Double((b + 2) * (b - a)) : 0
                    q[a * m + b] -= coefficient * below
                }
            }
        }
        // numpy's argmax: the first maximum, or the first NaN.
        var best = 0
        if !q[0].isNaN {
            for i in 1..<q.count where !(q[i] <= q[best]) {
                best = i
                if q[i].isNaN { break }
            }
        }
        return (start + 1 + best / m, q[best])
    }
}

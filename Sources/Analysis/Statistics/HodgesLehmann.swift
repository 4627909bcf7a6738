extension Statistics {
    /// The Hodges–Lehmann estimate of the shift from x to y, with Moses' distribution-free confidence
    /// interval: the interval of shifts δ that the two-sided Mann–Whitney test (`mannWhitney`, with
    /// its continuity correction) does not reject when comparing x with y − δ.
    ///
    /// The estimate is the median of the mn pairwise differences yⱼ − xᵢ (as
    /// numpy.median(numpy.subtract.outer(y, x))). For the interval, sort the differences as
    /// d₍₁₎ ≤ … ≤ d₍ₘₙ₎. For a shift δ that is not itself a difference, U of x against y − δ is the
    /// number of differences greater than δ, so it steps down by one at each d₍ₖ₎; the test rejects
    /// when |U − mn/2| − ½ > z·σ with z = Φ⁻¹(1 − α/2), α = 1 − confidence. That gives
    ///
    ///     k = ⌈mn/2 − ½ − z·σ⌉,   low = d₍ₖ₎,   high = d₍ₘₙ₊₁₋ₖ₎
    ///
    /// Just inside either bound the test does not reject; just outside it does. σ is U's
    /// tie-corrected standard deviation (as in `mannWhitney`) for the sample x ∪ (y − δ): such a δ
    /// makes no value of x equal to one of y − δ, so the ties that count are those within x and
    /// within y, Σ(t³ − t) over both. When k < 1 the samples are too small for the test to reject any
    /// shift at this confidence and the interval is (−∞, +∞).
    ///
    /// Nil when either sample is empty or holds a NaN, or confidence is not in (0, 1). O(mn log mn)
    /// time and O(mn) memory: meant for samples of up to a few thousand each.
    public static func hodgesLehmann(_ x: [Double], _ y: [Double], confidence: Double = 0.95)
        -> (shift: Double, low: Double, high: Double)?
    {
        guard !x.isEmpty, !y.isEmpty, confidence > 0, confidence < 1,
              !x.contains(where: \.isNaN), !y.contains(where: \.isNaN) else { return nil }
        var differences: [Double] = []
        differences.reserveCapacity(x.count * y.count)
        for yj in y {
            for xi in x { differences.append(yj - xi) }
        }
        differences.sort()
        let shift = medianOfSorted(differences)

        let m = Double(x.count), n = Double(y.count), total = m + n, pairs = m * n
        let ties = tieTerm(x) + tieTerm(y)
        let sigma = (pairs / 12 * ((total + 1) - ties / (total * (total - 1)))).squareRoot()
        let z = normalQuantile(1 - (1 - confidence) / 2)
        let k = (pairs / 2 - 0.5 - z * sigma).rounded(.up)
        guard k >= 1 else { return (shift, -.infinity, .infinity) }
        let index = Int(k)
        return (shift, differences[index - 1], differences[differences.count - index])
    }
}

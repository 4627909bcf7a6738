/// A Theil–Sen line, y ≈ intercept + slope·x, with a confidence interval for the slope.
public struct TheilSenFit: Sendable, Equatable {
    public var slope: Double
    public var intercept: Double
    public var lowSlope: Double
    public var highSlope: Double

    public init(slope: Double, intercept: Double, lowSlope: Double, highSlope: Double) {
        self.slope = slope
        self.intercept = intercept
        self.lowSlope = lowSlope
        self.highSlope = highSlope
    }
}

extension Statistics {
    /// The Theil–Sen estimator, a line robust to outliers (up to 29% of the points can be arbitrary),
    /// with Sen's confidence interval for the slope: scipy.stats.theilslopes(y, x, alpha=confidence)
    /// with its default method='separate'.
    ///
    /// The slope is the median of the pairwise slopes (yᵢ − yⱼ)/(xᵢ − xⱼ) over the pairs with
    /// xᵢ > xⱼ (pairs with equal x have none); the intercept is median(y) − slope·median(x). For the
    /// interval (Sen 1968, eq. 2.6), with the N pairwise slopes sorted, n points and t running over
    /// the tie groups of x and then of y,
    ///
    ///     σ² = (n(n − 1)(2n + 5) − Σ t(t − 1)(2t + 5)) / 18     (Kendall's S's variance)
    ///     low  = slope₍R_l₎, R_l = max(round((N − z·σ)/2) − 1, 0)
    ///     high = slope₍R_u₎, R_u = min(round((N + z·σ)/2), N − 1)
    ///
    /// with 0-based indices, z = Φ⁻¹(1 − α/2), and round as numpy's (halves to even). As scipy does, a
    /// `confidence` below ½ is read as α (0.05 and 0.95 both give the 95% interval). The interval is
    /// NaN when ties make σ² negative, as scipy's is.
    ///
    /// Nil when x and y differ in length, a value is NaN, or no two x differ (fewer than two points).
    /// O(n² log n) time and O(n²) memory for the n(n − 1)/2 pairwise slopes: about 2 million slopes
    /// for n = 2000, well under a second in a release build.
    public static func theilSen(x: [Double], y: [Double], confidence: Double = 0.95) -> TheilSenFit? {
        guard x.count == y.count, !x.contains(where: \.isNaN), !y.contains(where: \.isNaN) else { return nil }
        var slopes: [Double] = []
        slopes.reserveCapacity(x.count * (x.count - 1) / 2)
        for i in x.indices {
            for j in x.indices where x[i] > x[j] {
                slopes.append((y[i] - y[j]) / (x[i] - x[j]))
            }
        }
        guard !slopes.isEmpty else { return nil }
        slopes.sort()
        let slope = medianOfSorted(slopes)
        let intercept = medianOfSorted(y.sorted()) - slope * medianOfSorted(x.sorted())

        let alpha = confidence > 0.5 ? 1 - confidence : confidence
        let z = normalQuantile(alpha / 2)
        let n = Double(y.count)
        let ties = (tieGroupSizes(x) + tieGroupSizes(y)).reduce(0.0) { sum, t in
            let t = Double(t)
            return sum + t * (t - 1) * (2 * t + 5)
        }
        let variance = (n * (n - 1) * (2 * n + 5) - ties) / 18
        guard variance >= 0 else {
            return TheilSenFit(slope: slope, intercept: intercept, lowSlope: .nan, highSlope: .nan)
        }
        let sigma = variance.squareRoot(), count = Double(slopes.count)
        // z < 0, so (N − zσ)/2 is the upper index and (N + zσ)/2 the lower, as scipy writes them.
        let upper = min(Int(((count - z * sigma) / 2).rounded(.toNearestOrEven)), slopes.count - 1)
        let lower = max(Int(((count + z * sigma) / 2).rounded(.toNearestOrEven)) - 1, 0)
        return TheilSenFit(slope: slope, intercept: intercept, lowSlope: slopes[lower], highSlope: slopes[upper])
    }
}

/// The outcome of a two-sided Mann–Whitney U test.
public struct MannWhitneyResult: Sendable, Equatable {
    /// U of the first sample: the number of pairs (xᵢ, yⱼ) with xᵢ > yⱼ, ties counting ½ (scipy's
    /// statistic).
    public var u: Double
    /// The standardised U after the continuity correction, signed: positive when x tends to be the
    /// larger sample. Zero when U is within ½ of its mean, or every value is the same.
    public var z: Double
    /// Two-sided p-value, 2·P(Z ≥ |z|), at most 1.
    public var pValue: Double

    public init(u: Double, z: Double, pValue: Double) {
        self.u = u
        self.z = z
        self.pValue = pValue
    }
}

extension Statistics {
    /// The two-sided Mann–Whitney U test (the Wilcoxon rank-sum test) of whether x and y come from
    /// one distribution, by the normal approximation with tie and continuity corrections: exactly
    /// scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='asymptotic',
    /// use_continuity=True).
    ///
    /// With m = |x|, n = |y| and N = m + n, rank the pooled sample (ties get their average rank); R₁,
    /// the sum of x's ranks, gives U₁ = R₁ − m(m + 1)/2. Under the null hypothesis U₁ has mean
    /// μ = mn/2 and variance
    ///
    ///     σ² = mn/12 · ((N + 1) − Σ(t³ − t) / (N(N − 1)))
    ///
    /// where t runs over the pooled sample's tie groups. Then z = (|U₁ − μ| − ½)/σ, taken as 0 when
    /// negative, with U₁'s sign, and p = min(1, 2·(1 − Φ(|z|))). When every value is the same, σ = 0:
    /// z = 0 and p = 1. Nil when either sample is empty or holds a NaN. O(N log N).
    public static func mannWhitney(_ x: [Double], _ y: [Double]) -> MannWhitneyResult? {
        guard !x.isEmpty, !y.isEmpty, !x.contains(where: \.isNaN), !y.contains(where: \.isNaN) else { return nil }
        let pooled = x + y
        let m = Double(x.count), n = Double(y.count), total = m + n
        let rankSum = ranks(pooled).prefix(x.count).reduce(0, +)
        let u = rankSum - m * (m + 1) / 2
        let mean = m * n / 2
        let variance = m * n / 12 * ((total + 1) - tieTerm(pooled) / (total * (total - 1)))
        guard variance > 0 else { return MannWhitneyResult(u: u, z: 0, pValue: 1) }
        let corrected = max(0, abs(u - mean) - 0.5) / variance.squareRoot()
        let z = u < mean ? -corrected : corrected
        return MannWhitneyResult(u: u, z: z, pValue: min(1, 2 * normalSurvival(corrected)))
    }
}

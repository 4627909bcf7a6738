/// The outcome of a Mann–Kendall trend test.
public struct MannKendallResult: Sendable, Equatable {
    /// S = Σ_{i<j} sign(yⱼ − yᵢ): rising pairs minus falling pairs.
    public var s: Double
    /// S's variance under "no trend", corrected for ties in y.
    public var varianceS: Double
    /// (S − sign(S))/√varianceS: standardised with the continuity correction.
    public var z: Double
    /// Two-sided p-value, 2·P(Z ≥ |z|).
    public var pValue: Double

    public init(s: Double, varianceS: Double, z: Double, pValue: Double) {
        self.s = s
        self.varianceS = varianceS
        self.z = z
        self.pValue = pValue
    }
}

extension Statistics {
    /// The Mann–Kendall test for a monotonic trend in a series taken in order (Mann 1945; Kendall
    /// 1975), with the textbook tie and continuity corrections:
    ///
    ///     S = Σ_{i<j} sign(yⱼ − yᵢ)
    ///     Var(S) = (n(n − 1)(2n + 5) − Σ t(t − 1)(2t + 5)) / 18,   t over y's tie groups
    ///     z = (S − 1)/√Var(S) if S > 0,  0 if S = 0,  (S + 1)/√Var(S) if S < 0
    ///     p = 2·(1 − Φ(|z|))
    ///
    /// S is Kendall's statistic for y against its position, and Var(S) is the variance
    /// scipy.stats.kendalltau(arange(n), y, method='asymptotic') uses, ties or not; scipy leaves out
    /// the continuity correction, so its p-value is 2·(1 − Φ(|S|/√Var(S))), slightly smaller than
    /// this one (the tests check both).
    ///
    /// Nil when there are fewer than two values, a NaN, or every value is the same (Var(S) = 0).
    /// S is counted in O(n log n) by a merge sort that counts the falling pairs.
    public static func mannKendall(_ y: [Double]) -> MannKendallResult? {
        guard y.count >= 2, !y.contains(where: \.isNaN) else { return nil }
        let n = Double(y.count)
        var tiedPairs = 0.0, tieVariance = 0.0
        for t in tieGroupSizes(y).map(Double.init) {
            tiedPairs += t * (t - 1) / 2
            tieVariance += t * (t - 1) * (2 * t + 5)
        }
        let variance = (n * (n - 1) * (2 * n + 5) - tieVariance) / 18
        guard variance > 0 else { return nil }
        // Rising = all pairs − tied − falling, so S = rising − falling = pairs − tied − 2·falling.
        let s = n * (n - 1) / 2 - tiedPairs - 2 * Double(fallingPairs(y))
        let z = s == 0 ? 0 : (s - (s > 0 ? 1 : -1)) / variance.squareRoot()
        return MannKendallResult(s: s, varianceS: variance, z: z, pValue: min(1, 2 * normalSurvival(abs(z))))
    }

    /// The number of pairs i < j with yᵢ > yⱼ (strictly), by merge sort. O(n log n).
    static func fallingPairs(_ y: [Double]) -> Int {
        var values = y, buffer = y
        var count = 0
        var width = 1
        while width < values.count {
            var start = 0
            while start < values.count {
                let middle = min(start + width, values.count), end = min(start + 2 * width, values.count)
                var left = start, right = middle, out = start
                while left < middle, right < end {
                    if values[right] < values[left] {
                        // Every value still waiting on the left is larger than this one and came earlier.
                        count += middle - left
                        buffer[out] = values[right]
                        right += 1
                    } else {
                        buffer[out] = values[left]
                        left += 1
                    }
                    out += 1
                }
                while left < middle { buffer[out] = values[left]; left += 1; out += 1 }
                while right < end { buffer[out] = values[right]; right += 1; out += 1 }
                start = end
            }
            swap(&values, &buffer)
            width *= 2
        }
        return count
    }
}

extension Statistics {
    /// The median: the middle value, or the mean of the two middle values (numpy.median). Nil when
    /// `values` is empty or holds a NaN.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty, !values.contains(where: \.isNaN) else { return nil }
        return medianOfSorted(values.sorted())
    }

    /// The q-quantile, 0 ≤ q ≤ 1, by linear interpolation between order statistics (numpy.quantile's
    /// default method, 'linear'): with the values sorted as v₀ ≤ … ≤ vₙ₋₁, the quantile sits at the
    /// virtual index h = (n − 1)·q, between v⌊h⌋ and v⌊h⌋₊₁, a fraction g = h − ⌊h⌋ of the way. As
    /// numpy does, it is computed from the nearer end (vₗ + (vₗ₊₁ − vₗ)·g below g = ½,
    /// vₗ₊₁ − (vₗ₊₁ − vₗ)·(1 − g) from there), so q = 1 gives the maximum exactly. Nil when `values`
    /// is empty or holds a NaN, or q is outside [0, 1].
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty, q >= 0, q <= 1, !values.contains(where: \.isNaN) else { return nil }
        return quantileOfSorted(values.sorted(), q)
    }

    static func quantileOfSorted(_ sorted: [Double], _ q: Double) -> Double {
        let h = Double(sorted.count - 1) * q
        let lower = Int(h.rounded(.down))
        guard lower + 1 < sorted.count else { return sorted[sorted.count - 1] }
        let g = h - Double(lower)
        let a = sorted[lower], b = sorted[lower + 1]
        let difference = b - a
        return g >= 0.5 ? b - difference * (1 - g) : a + difference * g
    }
}

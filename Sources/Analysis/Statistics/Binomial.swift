extension Statistics {
    /// P(X ≥ k) for X ~ Binomial(n, p): the one-sided p-value of scipy.stats.binomtest(k, n, p,
    /// alternative='greater'). Computed as the regularized incomplete beta function,
    /// P(X ≥ k) = I_p(k, n − k + 1) for 1 ≤ k ≤ n, so it costs the same for any n and keeps its
    /// relative precision far into the tail; 1 for k ≤ 0 and 0 for k > n. NaN when n < 0 or p is
    /// outside [0, 1].
    public static func binomialUpperTail(successes k: Int, trials n: Int, probability p: Double) -> Double {
        guard n >= 0, p >= 0, p <= 1 else { return .nan }
        if k <= 0 { return 1 }
        if k > n { return 0 }
        return incompleteBeta(a: Double(k), b: Double(n - k + 1), x: p, complement: 1 - p)
    }
}

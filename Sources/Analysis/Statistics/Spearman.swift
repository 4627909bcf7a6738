extension Statistics {
    /// Spearman's rank correlation ρ with its two-sided p-value, as scipy.stats.spearmanr(x, y):
    /// ρ is Pearson's correlation of the average ranks (ties share their mean rank), and the p-value
    /// treats t = ρ·√((n − 2)/((1 + ρ)(1 − ρ))) as Student's t with n − 2 degrees of freedom:
    /// p = 2·P(T ≥ |t|) (0 when |ρ| = 1).
    ///
    /// Nil when x and y differ in length, n < 3, a value is NaN, or either series is constant (ρ is
    /// undefined; scipy gives NaN). O(n log n).
    public static func spearman(_ x: [Double], _ y: [Double]) -> (rho: Double, pValue: Double)? {
        guard x.count == y.count, x.count >= 3,
              !x.contains(where: \.isNaN), !y.contains(where: \.isNaN),
              x.contains(where: { $0 != x[0] }), y.contains(where: { $0 != y[0] }) else { return nil }
        let rx = ranks(x), ry = ranks(y)
        let n = Double(x.count), mean = (n + 1) / 2
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in rx.indices {
            let dx = rx[i] - mean, dy = ry[i] - mean
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        }
        // numpy.corrcoef's order of operations: the covariance over its two standard deviations.
        let rho = min(1, max(-1, sxy / (n - 1) / (sxx / (n - 1)).squareRoot() / (syy / (n - 1)).squareRoot()))
        let dof = n - 2
        let t = rho * max(0, dof / ((rho + 1) * (1 - rho))).squareRoot()
        return (rho, 2 * studentTSurvival(abs(t), degreesOfFreedom: dof))
    }
}

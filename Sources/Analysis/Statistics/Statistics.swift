/// Pure-Swift statistics for the analysis: rank tests, robust estimators and the distributions they
/// need, each written to agree with the scipy or numpy function its documentation names (the tests
/// compare with values from `scripts/gen-stat-vectors.py`). One file per routine; docs/statistics.md
/// describes them for users.
///
/// Conventions: the routines that return an optional return nil for input they have no answer for
/// (an empty sample, too few points, a NaN), rather than NaN. Inputs are not assumed sorted.
public enum Statistics {}

extension Statistics {
    /// The median of already sorted values: the middle one, or the mean of the two middle ones.
    static func medianOfSorted(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

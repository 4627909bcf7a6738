import Foundation

extension Statistics {
    /// P(T > t) for Student's t with ν degrees of freedom (scipy.stats.t.sf), through the regularized
    /// incomplete beta function: for t ≥ 0, P(T > t) = ½·I_x(ν/2, ½) with x = ν/(ν + t²); by symmetry
    /// P(T > −t) = 1 − P(T > t). 0 at t = +∞.
    public static func studentTSurvival(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard !t.isNaN, nu > 0 else { return .nan }
        if t < 0 { return 1 - studentTSurvival(-t, degreesOfFreedom: nu) }
        if t.isInfinite { return 0 }
        // x and 1 − x each computed directly, so a small t loses nothing to 1 − x.
        let x = nu / (nu + t * t), complement = t * t / (nu + t * t)
        return 0.5 * incompleteBeta(a: nu / 2, b: 0.5, x: x, complement: complement)
    }

    /// The regularized incomplete beta function I_x(a, b) = B(x; a, b)/B(a, b), 0 ≤ x ≤ 1, a, b > 0
    /// (scipy.special.betainc). NaN outside that domain.
    public static func regularizedIncompleteBeta(a: Double, b: Double, x: Double) -> Double {
        incompleteBeta(a: a, b: b, x: x, complement: 1 - x)
    }

    /// I_x(a, b) given x and 1 − x (which the caller may know more precisely than 1 − x rounds to).
    ///
    /// The continued fraction of Numerical Recipes (§6.4), evaluated by the modified Lentz method,
    /// converges quickly for x < (a + 1)/(a + b + 2); above that, I_x(a, b) = 1 − I_{1−x}(b, a). The
    /// prefactor xᵃ(1 − x)ᵇ/(a·B(a, b)) is taken through logarithms, so its relative error grows with
    /// the size of ln Γ: about 1e-12 for a + b near 1000.
    static func incompleteBeta(a: Double, b: Double, x: Double, complement y: Double) -> Double {
        guard a > 0, b > 0, x >= 0, x <= 1, !y.isNaN else { return .nan }
        if x == 0 { return 0 }
        if y == 0 { return 1 }
        let logPrefactor = logGamma(a + b) - logGamma(a) - logGamma(b) + a * log(x) + b * log(y)
        if x < (a + 1) / (a + b + 2) {
            return exp(logPrefactor) * betaContinuedFraction(a: a, b: b, x: x) / a
        }
        return 1 - exp(logPrefactor) * betaContinuedFraction(a: b, b: a, x: y) / b
    }

    static func logGamma(_ x: Double) -> Double {
        var sign: Int32 = 0
        return lgamma_r(x, &sign)
    }

    private static func betaContinuedFraction(a: Double, b: Double, x: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-16
        func guarded(_ v: Double) -> Double { abs(v) < tiny ? tiny : v }
        var c = 1.0
        var d = 1 / guarded(1 - (a + b) * x / (a + 1))
        var h = d
        for m in 1...100_000 {
            let m = Double(m), m2 = 2 * m
            // The even step of the fraction, then the odd one.
            var term = m * (b - m) * x / ((a - 1 + m2) * (a + m2))
            d = 1 / guarded(1 + term * d)
            c = guarded(1 + term / c)
            h *= d * c
            term = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2))
            d = 1 / guarded(1 + term * d)
            c = guarded(1 + term / c)
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }
}

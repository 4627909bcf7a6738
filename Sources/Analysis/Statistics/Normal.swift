import Foundation

/// The standard normal distribution.
///
/// The CDF and survival function come from the complementary error function, Φ(x) = ½·erfc(−x/√2)
/// and 1 − Φ(x) = ½·erfc(x/√2), each computed directly so that neither tail loses its relative
/// precision to a subtraction from 1 (scipy.stats.norm.cdf and .sf do the same). The quantile is
/// Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988): a rational approximation in
/// p − ½ for the central region |p − ½| ≤ 0.425, and in r = √(−ln min(p, 1 − p)) for the tails,
/// with a relative error of about 1e-16 (scipy.stats.norm.ppf).
extension Statistics {
    /// Φ(x) = P(Z ≤ x) for a standard normal Z.
    public static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// 1 − Φ(x) = P(Z > x), without cancellation in the upper tail.
    public static func normalSurvival(_ x: Double) -> Double {
        0.5 * erfc(x / 2.0.squareRoot())
    }

    /// Φ⁻¹(p): the z with Φ(z) = p. −∞ at p = 0, +∞ at p = 1, NaN outside [0, 1].
    public static func normalQuantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else {
            if p == 0 { return -.infinity }
            if p == 1 { return .infinity }
            return .nan
        }
        let q = p - 0.5
        if abs(q) <= 0.425 {
            let r = 0.180625 - q * q
            return q * polynomial(AS241.a, r) / polynomial(AS241.b, r)
        }
        var r = q < 0 ? p : 1 - p
        r = (-log(r)).squareRoot()
        let value: Double
        if r <= 5 {
            r -= 1.6
            value = polynomial(AS241.c, r) / polynomial(AS241.d, r)
        } else {
            r -= 5
            value = polynomial(AS241.e, r) / polynomial(AS241.f, r)
        }
        return q < 0 ? -value : value
    }

    /// c₀ + c₁x + … + cₖxᵏ by Horner's rule; coefficients lowest power first.
    static func polynomial(_ coefficients: [Double], _ x: Double) -> Double {
        coefficients.reversed().reduce(0) { $0 * x + $1 }
    }
}

/// The coefficients of AS 241's PPND16, lowest power first; the denominators' constant term is 1.
private enum AS241 {
    static let a = [
        3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3, 1.3731693765509461125e+4,
        4.5921953931549871457e+4, 6.7265770927008700853e+4, 3.3430575583588128105e+4, 2.5090809287301226727e+3,
    ]
    static let b = [
        1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
        2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4, 5.2264952788528545610e+3,
    ]
    static let c = [
        1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
        1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4,
    ]
    static let d = [
        1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9,
    ]
    static let e = [
        6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
        2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
    ]
    static let f = [
        1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15,
    ]
}

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

extension Statistics {
    /// P(T ≤ t) for Student's t with ν degrees of freedom, computed as scipy.special.stdtr computes it
    /// (scipy's C translation of cdflib: `cumt` over TOMS 708's `bratio`, Didonato and Morris 1992),
    /// operation for operation, so that the result agrees with scipy to the bit (given the same C
    /// maths library) where `studentTSurvival` may differ in the last digits. That matters where a
    /// p-value is compared with a threshold it can equal exactly: E-divisive's t test on small
    /// integer samples gives p = 0.4 at ν = 2, t² = 9/8, and Otava keeps it at a threshold of 0.4.
    /// ν must be at least 1; NaN for a NaN t.
    static func studentTCDFAsScipy(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard !t.isNaN, !nu.isNaN else { return .nan }
        precondition(nu >= 1, "studentTCDFAsScipy takes ν ≥ 1")
        let tt = t * t
        let dfptt = nu + tt
        let x = nu / dfptt, y = tt / dfptt
        // cumbet: the boundaries first (t = ±∞ makes y NaN and x 0), then I_x(ν/2, ½) and 1 − it.
        let (a, oneMinusA): (Double, Double)
        if x <= 0 {
            (a, oneMinusA) = (0, 1)
        } else if y <= 0 {
            (a, oneMinusA) = (1, 0)
        } else {
            (a, oneMinusA) = TOMS708.incompleteBetaHalf(a: 0.5 * nu, x: x, y: y)
        }
        return t > 0 ? oneMinusA + 0.5 * a : 0.5 * a
    }
}

/// The parts of TOMS 708 (cdflib's `bratio` and its helpers, as scipy/special/cdflib.c has them)
/// that I_x(a, ½) with a ≥ ½ reaches: with b = ½ the smaller parameter is at most ½, so the branches
/// for both parameters above 1 (bfrac, basym), for tiny parameters (fpser, apser) and for a smaller
/// parameter of 1 or more (betaln) are left out. Everything else keeps the original's expressions
/// and their order of evaluation.
private enum TOMS708 {
    static let eps = fmax(2.220446049250313e-16, 1e-15)

    /// (I_x(a, ½), 1 − I_x(a, ½)) for a ≥ ½, 0 < x < 1, y = 1 − x: `bratio`.
    static func incompleteBetaHalf(a: Double, x: Double, y: Double) -> (Double, Double) {
        let b = 0.5
        guard !(x < 0 || x > 1 || y < 0 || y > 1), !(abs(((x + y) - 0.5) - 0.5) > 3 * eps) else { return (0, 0) }
        var swapped = false
        var a0 = a, b0 = b, x0 = x, y0 = y
        if !(x <= 0.5) {
            swapped = true
            (a0, b0, x0, y0) = (b, a, y, x)
        }
        func result(w: Double, w1: Double) -> (Double, Double) { swapped ? (w1, w) : (w, w1) }
        func fromW(_ w: Double) -> (Double, Double) { result(w: w, w1: 0.5 + (0.5 - w)) }
        func fromW1(_ w1: Double) -> (Double, Double) { result(w: 0.5 + (0.5 - w1), w1: w1) }
        func upThenGrat() -> (Double, Double) {
            let n = 20
            let w1 = bup(b0, a0, y0, x0, n, eps)
            return fromW1(bgrat(b0 + Double(n), a0, y0, x0, w1, 15 * eps))
        }
        if fmax(a0, b0) <= 1 {
            if pow(x0, a0) <= 0.9 || a0 >= fmin(0.2, b0) { return fromW(bpser(a0, b0, x0, eps)) }
            if x0 >= 0.3 { return fromW1(bpser(b0, a0, y0, eps)) }
            return upThenGrat()
        }
        if b0 <= 1 { return fromW(bpser(a0, b0, x0, eps)) }
        if x0 >= 0.3 { return fromW1(bpser(b0, a0, y0, eps)) }
        if x0 >= 0.1 {
            if b0 > 15 { return fromW1(bgrat(b0, a0, y0, x0, 0, 15 * eps)) }
            return upThenGrat()
        }
        if pow(x0 * b0, a0) <= 0.7 { return fromW(bpser(a0, b0, x0, eps)) }
        if b0 > 15 { return fromW1(bgrat(b0, a0, y0, x0, 0, 15 * eps)) }
        return upThenGrat()
    }

    /// I_x(a, b) by its power series, for b ≤ 1 or b·x ≤ 0.7 (here min(a, b) < 1): `bpser`.
    static func bpser(_ a: Double, _ b: Double, _ x: Double, _ eps: Double) -> Double {
        if x == 0 { return 0 }
        let a0 = fmin(a, b)
        precondition(a0 < 1, "bpser's betaln branch is not ported")
        var result: Double
        var b0 = fmax(a, b)
        if b0 <= 1 {
            result = pow(x, a)
            if result == 0 { return 0 }
            let apb = a + b, z = gammaSumFactor(apb)
            let c = (1 + gam1(a)) * (1 + gam1(b)) / z
            result *= c * (b / apb)
        } else if b0 < 8 {
            var u = gamln1(a0)
            let m = Int(b0 - 1)
            if m > 0 {
                var c = 1.0
                for _ in 0..<m {
                    b0 -= 1
                    c *= (b0 / (a0 + b0))
                }
                u += log(c)
            }
            let z = a * log(x) - u
            b0 -= 1
            let apb = a0 + b0, t = gammaSumFactor(apb)
            result = exp(z) * (a0 / a) * (1 + gam1(b0)) / t
        } else {
            let u = gamln1(a0) + algdiv(a0, b0)
            let z = a * log(x) - u
            result = (a0 / a) * exp(z)
        }
        if result == 0 || a <= 0.1 * eps { return result }
        var sum = 0.0, n = 0.0, c = 1.0
        let tol = eps / a
        while true {
            n += 1
            c *= (0.5 + (0.5 - b / n)) * x
            let w = c / (a + n)
            sum += w
            if !(abs(w) > tol) { break }
        }
        return result * (1 + a * sum)
    }

    /// I_x(a, b) − I_x(a + n, b): `bup`.
    static func bup(_ a: Double, _ b: Double, _ x: Double, _ y: Double, _ n: Int, _ eps: Double) -> Double {
        let apb = a + b, ap1 = a + 1
        var d = 1.0, mu = 0
        if !(n == 1 || a < 1 || apb < 1.1 * ap1) {
            mu = 708
            d = exp(-708.0)
        }
        let result = brcmp1(mu, a, b, x, y) / a
        if n == 1 || result == 0 { return result }
        let nm1 = n - 1
        var w = d
        func remaining(from k: Int) -> Double {
            for i in k..<(n - 1) {
                d *= ((apb + Double(i)) / (ap1 + Double(i))) * x
                w += d
                if d <= eps * w { break }
            }
            return result * w
        }
        var k = 0
        if b <= 1 { return remaining(from: 0) }
        if y > 1e-4 {
            let r = (b - 1) * x / y - a
            if r < 1 { return remaining(from: 0) }
            k = nm1
            if r < Double(nm1) { k = Int(r) }
        } else {
            k = nm1
        }
        for i in 0..<k {
            d *= ((apb + Double(i)) / (ap1 + Double(i))) * x
            w += d
        }
        if k == nm1 { return result * w }
        return remaining(from: k)
    }

    /// exp(μ)·xᵃ·yᵇ/B(a, b) for min(a, b) < 1: `brcmp1`.
    static func brcmp1(_ mu: Int, _ a: Double, _ b: Double, _ x: Double, _ y: Double) -> Double {
        let a0 = fmin(a, b)
        precondition(a0 < 1, "brcmp1's branches for min(a, b) ≥ 1 are not ported")
        var lnx = 1.0, lny = 1.0
        if x > 0.375 && y > 0.375 {
            lnx = log(x)
            lny = log(y)
        } else if x > 0.375 && y <= 0.375 {
            lnx = alnrel(-y)
            lny = log(y)
        } else if x <= 0.375 {
            lnx = log(x)
            lny = alnrel(-x)
        }
        var z = a * lnx + b * lny
        var b0 = fmax(a, b)
        if b0 >= 8 {
            let u = gamln1(a0) + algdiv(a0, b0)
            return a0 * esum(mu, z - u)
        }
        if b0 > 1 {
            var u = gamln1(a0)
            let n = Int(b0 - 1)
            if n >= 1 {
                var c = 1.0
                for _ in 0..<n {
                    b0 -= 1
                    c *= b0 / (a0 + b0)
                }
                u += log(c)
            }
            z -= u
            b0 -= 1
            let apb = a0 + b0, t = gammaSumFactor(apb)
            return a0 * esum(mu, z) * (1 + gam1(b0)) / t
        }
        if esum(mu, z) == 0 { return 0 }
        let apb = a + b, t = exp(z)
        z = gammaSumFactor(apb)
        let c = (1 + gam1(a)) * (1 + gam1(b)) / z
        return t * (a0 * c) / (1 + a0 / b0)
    }

    /// w + the asymptotic expansion of I_x(a, b) for a ≥ 15, b ≤ 1: `bgrat`.
    static func bgrat(_ a: Double, _ b: Double, _ x: Double, _ y: Double, _ w: Double, _ eps: Double) -> Double {
        var c = [Double](repeating: 0, count: 30), d = [Double](repeating: 0, count: 30)
        let bm1 = (b - 0.5) - 0.5
        let nu = a + bm1 * 0.5
        let lnx = y > 0.375 ? log(x) : alnrel(-y)
        let z = -nu * lnx
        if b * z == 0 { return w }
        var r = b * (1 + gam1(b)) * exp(b * log(z))
        r *= exp(a * lnx) * exp(0.5 * bm1 * lnx)
        var u = algdiv(b, a) + b * log(nu)
        u = r * exp(-u)
        if u == 0 { return w }
        let q = grat1(b, z, r, eps).q
        let v = 0.25 * pow(1 / nu, 2)
        let t2 = 0.25 * lnx * lnx
        let l = w / u
        var j = q / r
        var sum = j, t = 1.0, cn = 1.0, n2 = 0.0
        for n in 1...30 {
            let bp2n = b + n2
            j = (bp2n * (bp2n + 1) * j + (z + bp2n + 1) * t) * v
            n2 += 2
            t *= t2
            cn *= 1 / (n2 * (n2 + 1))
            c[n - 1] = cn
            var s = 0.0
            if n > 1 {
                var coef = b - Double(n)
                for i in 1..<n {
                    s += coef * c[i - 1] * d[n - i - 1]
                    coef += b
                }
            }
            d[n - 1] = bm1 * cn + s / Double(n)
            let dj = d[n - 1] * j
            sum += dj
            if sum <= 0 { return w }
            if !(abs(dj) > eps * (sum + l)) { break }
        }
        return w + u * sum
    }

    /// The incomplete gamma ratios P(a, x) and Q(a, x) for a ≤ 1, given r = e⁻ˣxᵃ/Γ(a): `grat1`.
    static func grat1(_ a: Double, _ x: Double, _ r: Double, _ eps: Double) -> (p: Double, q: Double) {
        if a * x == 0 { return x > a ? (1, 0) : (0, 1) }
        if a == 0.5 {
            if x < 0.25 {
                let p = erf(x.squareRoot())
                return (p, 0.5 + (0.5 - p))
            }
            let q = erfc1(0, x.squareRoot())
            return (0.5 + (0.5 - q), q)
        }
        if x < 1.1 {
            var an = 3.0, c = x, sum = x / (a + 3)
            let tol = 0.1 * eps / (a + 1)
            while true {
                an += 1
                c *= -(x / an)
                let t = c / (a + an)
                sum += t
                if abs(t) <= tol { break }
            }
            let j = a * x * ((sum / 6 - 0.5 / (a + 2)) * x + 1 / (a + 1))
            let z = a * log(x), h = gam1(a), g = 1 + h
            if (x >= 0.25 && a >= x / 2.59) || (x < 0.25 && z <= -0.13394) {
                let w = exp(z)
                let p = w * g * (0.5 + (0.5 - j))
                return (p, 0.5 + (0.5 - p))
            }
            let l = rexp(z)
            let w = 0.5 + (0.5 + l)
            let q = (w * j - l) * g - h
            if q < 0 { return (1, 0) }
            return (0.5 + (0.5 - q), q)
        }
        var a2nm1 = 1.0, a2n = 1.0, b2nm1 = x, b2n = x + (1 - a), c = 1.0, an0: Double
        while true {
            a2nm1 = x * a2n + c * a2nm1
            b2nm1 = x * b2n + c * b2nm1
            let am0 = a2nm1 / b2nm1
            c = c + 1
            let cma = c - a
            a2n = a2nm1 + cma * a2n
            b2n = b2nm1 + cma * b2n
            an0 = a2n / b2n
            if !(abs(an0 - am0) >= eps * an0) { break }
        }
        let q = r * an0
        return (0.5 + (0.5 - q), q)
    }

    /// ln Γ(b)/Γ(a + b) for b ≥ 8: `algdiv`.
    static func algdiv(_ a: Double, _ b: Double) -> Double {
        let carr = [0.833333333333333e-01, -0.277777777760991e-02, 0.793650666825390e-03,
                    -0.595202931351870e-03, 0.837308034031215e-03, -0.165322962780713e-02]
        let h: Double, c: Double, x: Double, d: Double
        if a > b {
            h = b / a
            c = 1 / (1 + h)
            x = h / (1 + h)
            d = a + (b - 0.5)
        } else {
            h = a / b
            c = h / (1 + h)
            x = 1 / (1 + h)
            d = b + (a - 0.5)
        }
        let x2 = x * x
        let s3 = 1 + (x + x2)
        let s5 = 1 + (x + x2 * s3)
        let s7 = 1 + (x + x2 * s5)
        let s9 = 1 + (x + x2 * s7)
        let s11 = 1 + (x + x2 * s9)
        let t = pow(1 / b, 2)
        var w = (((((carr[5] * s11) * t + carr[4] * s9) * t + carr[3] * s7) * t + carr[2] * s5) * t + carr[1] * s3) * t + carr[0]
        w *= c / b
        let u = d * alnrel(a / b)
        let v = a * (log(b) - 1)
        return u > v ? (w - v) - u : (w - u) - v
    }

    /// ln(1 + a): `alnrel`.
    static func alnrel(_ a: Double) -> Double {
        if abs(a) > 0.375 { return log(1 + a) }
        let p = [-0.129418923021993e+01, 0.405303492862024e+00, -0.178874546012214e-01]
        let q = [-0.162752256355323e+01, 0.747811014037616e+00, -0.845104217945565e-01]
        let t = a / (a + 2), t2 = t * t
        var w = ((p[2] * t2 + p[1]) * t2 + p[0]) * t2 + 1
        w /= ((q[2] * t2 + q[1]) * t2 + q[0]) * t2 + 1
        return 2 * t * w
    }

    /// exp(μ + x): `esum`.
    static func esum(_ mu: Int, _ x: Double) -> Double {
        let m = Double(mu)
        if x > 0 {
            return m > 0 || m + x < 0 ? exp(m) * exp(x) : exp(m + x)
        }
        return m < 0 || m + x > 0 ? exp(m) * exp(x) : exp(m + x)
    }

    /// 1/Γ(a + 1) − 1 for −½ ≤ a ≤ 3/2: `gam1`.
    /// (1 + gam1(apb − 1)) / apb for apb > 1, else 1 + gam1(apb): TOMS 708's Γ(a + b) factor in
    /// bpser and brcomp, written once.
    static func gammaSumFactor(_ apb: Double) -> Double {
        apb > 1 ? (1 + gam1(apb - 1)) / apb : 1 + gam1(apb)
    }

    static func gam1(_ a: Double) -> Double {
        let p = [0.577215664901533e+00, -0.409078193005776e+00, -0.230975380857675e+00, 0.597275330452234e-01,
                 0.766968181649490e-02, -0.514889771323592e-02, 0.589597428611429e-03]
        let q = [0.100000000000000e+01, 0.427569613095214e+00, 0.158451672430138e+00, 0.261132021441447e-01,
                 0.423244297896961e-02]
        let r = [-0.422784335098468e+00, -0.771330383816272e+00, -0.244757765222226e+00, 0.118378989872749e+00,
                 0.930357293360349e-03, -0.118290993445146e-01, 0.223047661158249e-02, 0.266505979058923e-03,
                 -0.132674909766242e-03]
        let s = [0.273076135303957e+00, 0.559398236957378e-01]
        let d = a - 0.5
        let t = d > 0 ? d - 0.5 : a
        if t == 0 { return 0 }
        if t < 0 {
            let top = ((((((((r[8]) * t + r[7]) * t + r[6]) * t + r[5]) * t + r[4]) * t + r[3]) * t + r[2]) * t + r[1]) * t + r[0]
            let bot = (s[1] * t + s[0]) * t + 1
            let w = top / bot
            return d > 0 ? t * w / a : a * ((w + 0.5) + 0.5)
        }
        let top = ((((((p[6]) * t + p[5]) * t + p[4]) * t + p[3]) * t + p[2]) * t + p[1]) * t + p[0]
        let bot = ((((q[4]) * t + q[3]) * t + q[2]) * t + q[1]) * t + 1
        let w = top / bot
        return d > 0 ? (t / a) * ((w - 0.5) - 0.5) : a * w
    }

    /// ln Γ(1 + a) for −0.2 ≤ a ≤ 1.25: `gamln1`.
    static func gamln1(_ a: Double) -> Double {
        let p = [0.577215664901533e+00, 0.844203922187225e+00, -0.168860593646662e+00, -0.780427615533591e+00,
                 -0.402055799310489e+00, -0.673562214325671e-01, -0.271935708322958e-02]
        let q = [0.288743195473681e+01, 0.312755088914843e+01, 0.156875193295039e+01, 0.361951990101499e+00,
                 0.325038868253937e-01, 0.667465618796164e-03]
        let r = [0.422784335098467e+00, 0.848044614534529e+00, 0.565221050691933e+00, 0.156513060486551e+00,
                 0.170502484022650e-01, 0.497958207639485e-03]
        let s = [0.124313399877507e+01, 0.548042109832463e+00, 0.101552187439830e+00, 0.713309612391000e-02,
                 0.116165475989616e-03]
        if a < 0.6 {
            let top = ((((((p[6]) * a + p[5]) * a + p[4]) * a + p[3]) * a + p[2]) * a + p[1]) * a + p[0]
            let bot = ((((((q[5]) * a + q[4]) * a + q[3]) * a + q[2]) * a + q[1]) * a + q[0]) * a + 1
            return -a * (top / bot)
        }
        let x = (a - 0.5) - 0.5
        let top = (((((r[5]) * x + r[4]) * x + r[3]) * x + r[2]) * x + r[1]) * x + r[0]
        let bot = (((((s[4]) * x + s[3]) * x + s[2]) * x + s[1]) * x + s[0]) * x + 1
        return x * (top / bot)
    }

    /// eˣ − 1: `rexp`.
    static func rexp(_ x: Double) -> Double {
        if abs(x) <= 0.15 {
            let p = [0.914041914819518e-09, 0.238082361044469e-01]
            let q = [-0.499999999085958e+00, 0.107141568980644e+00, -0.119041179760821e-01, 0.595130811860248e-03]
            return x * (((p[1] * x + p[0]) * x + 1) / ((((q[3] * x + q[2]) * x + q[1]) * x + q[0]) * x + 1))
        }
        let w = exp(x)
        return x > 0 ? w * (0.5 + (0.5 - 1 / w)) : (w - 0.5) - 0.5
    }

    static let erfA = [0.771058495001320e-04, -0.133733772997339e-02, 0.323076579225834e-01, 0.479137145607681e-01,
                       0.128379167095513e+00]
    static let erfB = [0.301048631703895e-02, 0.538971687740286e-01, 0.375795757275549e+00]
    static let erfP = [-1.36864857382717e-07, 5.64195517478974e-01, 7.21175825088309e+00, 4.31622272220567e+01,
                       1.52989285046940e+02, 3.39320816734344e+02, 4.51918953711873e+02, 3.00459261020162e+02]
    static let erfQ = [1.00000000000000e+00, 1.27827273196294e+01, 7.70001529352295e+01, 2.77585444743988e+02,
                       6.38980264465631e+02, 9.31354094850610e+02, 7.90950925327898e+02, 3.00459260956983e+02]
    static let erfR = [2.10144126479064e+00, 2.62370141675169e+01, 2.13688200555087e+01, 4.65807828718470e+00,
                       2.82094791773523e-01]
    static let erfS = [9.41537750555460e+01, 1.87114811799590e+02, 9.90191814623914e+01, 1.80124575948747e+01]

    /// The error function: `cdflib_erf`.
    static func erf(_ x: Double) -> Double {
        let a = erfA, b = erfB, p = erfP, q = erfQ, r = erfR, s = erfS
        let c = 0.564189583547756
        let ax = abs(x)
        if ax <= 0.5 {
            let t = x * x
            let top = ((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) + 1
            let bot = ((b[0] * t + b[1]) * t + b[2]) * t + 1
            return x * (top / bot)
        }
        if ax <= 4 {
            let top = (((((((p[0]) * ax + p[1]) * ax + p[2]) * ax + p[3]) * ax + p[4]) * ax + p[5]) * ax + p[6]) * ax + p[7]
            let bot = (((((((q[0]) * ax + q[1]) * ax + q[2]) * ax + q[3]) * ax + q[4]) * ax + q[5]) * ax + q[6]) * ax + q[7]
            let t = 0.5 + (0.5 - exp(-x * x) * (top / bot))
            return x < 0 ? -t : t
        }
        if ax < 5.8 {
            let t = pow(1 / x, 2)
            let top = (((r[0] * t + r[1]) * t + r[2]) * t + r[3]) * t + r[4]
            let bot = (((s[0] * t + s[1]) * t + s[2]) * t + s[3]) * t + 1
            let u = 0.5 + (0.5 - exp(-x * x) * (c - top / (x * x * bot)) / ax)
            return x < 0 ? -u : u
        }
        return x < 0 ? -1 : 1
    }

    /// erfc(x) for ind = 0, else exp(x²)·erfc(x): `erfc1`.
    static func erfc1(_ ind: Int, _ x: Double) -> Double {
        let a = erfA, b = erfB, p = erfP, q = erfQ, r = erfR, s = erfS
        let c = 0.564189583547756
        if x <= -5.6 { return ind == 0 ? 2 : 2 * exp(x * x) }
        if ind == 0 && x > 26.64 { return 0 }
        let ax = abs(x)
        var result: Double
        if ax <= 0.5 {
            let t = x * x
            let top = (((((a[0]) * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) + 1
            let bot = (((b[0]) * t + b[1]) * t + b[2]) * t + 1
            result = 0.5 + (0.5 - x * (top / bot))
            return ind == 0 ? result : result * exp(t)
        } else if ax <= 4 {
            let top = (((((((p[0]) * ax + p[1]) * ax + p[2]) * ax + p[3]) * ax + p[4]) * ax + p[5]) * ax + p[6]) * ax + p[7]
            let bot = (((((((q[0]) * ax + q[1]) * ax + q[2]) * ax + q[3]) * ax + q[4]) * ax + q[5]) * ax + q[6]) * ax + q[7]
            result = top / bot
        } else {
            let t = pow(1 / x, 2)
            let top = (((r[0] * t + r[1]) * t + r[2]) * t + r[3]) * t + r[4]
            let bot = (((s[0] * t + s[1]) * t + s[2]) * t + s[3]) * t + 1
            result = (c - t * (top / bot)) / ax
        }
        if ind == 0 {
            result *= exp(-(x * x))
            return x < 0 ? 2 - result : result
        }
        return x < 0 ? 2 * exp(x * x) - result : result
    }
}

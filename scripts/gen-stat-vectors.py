#!/usr/bin/env python3
"""Writes Tests/AnalysisTests/StatisticsVectors.swift: reference values from scipy and numpy for the
pure-Swift routines in Sources/Analysis/Statistics (see docs/statistics.md).

    python3 scripts/gen-stat-vectors.py

Uses scipy and numpy from the running interpreter; if they are missing it creates a virtual
environment in /tmp/scipy-venv, installs them from PyPI and runs itself there. Every input is
deterministic (fixed seeds), so running it again with the same scipy and numpy writes the same file.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vectorgen import ints, num, nums, record, rerun_in_venv  # noqa: E402

VENV = "/tmp/scipy-venv"

try:
    import numpy as np
    import scipy
    from scipy import special, stats
except ImportError:
    rerun_in_venv(VENV, ["scipy", "numpy"], "GEN_STAT_VECTORS_IN_VENV")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "AnalysisTests", "StatisticsVectors.swift")


# Inputs --------------------------------------------------------------------------------------

def rng(seed):
    return np.random.default_rng(seed)


def two_samples():
    """(name, x, y) pairs for the two-sample routines: small, tied, one element, identical, large."""
    r = rng(1)
    return [
        ("small, no ties", [1.5, 3.2, 0.7, 4.4, 2.9], [5.1, 3.3, 6.8, 4.9, 7.7, 2.2]),
        ("one each", [1.0], [2.0]),
        ("one and two", [3.0], [1.0, 2.0]),
        ("all identical", [2.0, 2.0, 2.0], [2.0, 2.0]),
        ("ties within and across", [1, 2, 2, 3, 3, 3, 5], [2, 3, 4, 4, 5, 5, 6, 8]),
        ("heavy ties (integers 0-4)", r.integers(0, 5, 40).astype(float), r.integers(1, 6, 35).astype(float)),
        ("x larger", [10.0, 11.0, 12.5, 9.0], [1.0, 2.0, 3.0]),
        ("unequal sizes, normal shift", r.normal(0, 1, 30), r.normal(0.5, 1, 12)),
        ("large, shifted", r.normal(100, 15, 500), r.normal(103, 15, 450)),
        ("large, same distribution, ties", np.round(r.exponential(3, 400), 1), np.round(r.exponential(3, 380), 1)),
    ]


def series():
    """(name, x, y) series for the regression and trend routines."""
    r = rng(2)
    t50 = np.arange(50, dtype=float)
    t500 = np.linspace(0, 120, 500)
    return [
        ("three points", [0.0, 1.0, 2.0], [1.0, 3.0, 2.0]),
        ("ten, no ties", np.arange(10, dtype=float), r.normal(0, 1, 10) + 0.3 * np.arange(10)),
        ("ties in y", np.arange(12, dtype=float), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]),
        ("ties in x and y", [0, 0, 1, 1, 1, 2, 3, 3, 4, 5, 5, 5, 6], [2, 1, 2, 3, 3, 4, 4, 6, 5, 5, 7, 7, 8]),
        ("trend plus noise", t50, 2.5 * t50 + r.normal(0, 10, 50)),
        ("no trend", t50, r.normal(0, 1, 50)),
        ("decreasing", t50, -0.7 * t50 + r.normal(0, 5, 50)),
        ("rounded, many ties", t50, np.round(0.05 * t50 + r.normal(0, 1, 50))),
        ("large, rss-like", t500, 1e8 + 1.2e5 * t500 + r.normal(0, 2e6, 500)),
        ("large, no trend, ties", t500, np.round(r.normal(0, 3, 500))),
    ]


# Routines ------------------------------------------------------------------------------------

def normal_vectors():
    xs = [-37.0, -30.0, -20.0, -10.0, -8.0, -5.0, -3.0, -1.959963984540054, -1.0, -0.5, -1e-10, 0.0,
          1e-10, 0.25, 0.5, 1.0, 1.6448536269514722, 2.0, 3.0, 5.0, 8.0, 10.0, 20.0, 37.0]
    cdf = [record("NormalVector", [("x", num(x)), ("cdf", num(stats.norm.cdf(x))), ("sf", num(stats.norm.sf(x)))])
           for x in xs]
    ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.025, 0.05, 0.07, 0.1, 0.2, 0.3, 0.425, 0.45,
          0.5, 0.55, 0.575, 0.7, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-5, 1 - 1e-10]
    quantile = [record("QuantileVector", [("p", num(p)), ("z", num(stats.norm.ppf(p)))]) for p in ps]
    return cdf, quantile


def rank_vectors():
    r = rng(3)
    cases = [[3.0], [2.0, 1.0], [1, 1, 1, 1], [10, 20, 10, 30, 20, 10], [0.5, -1, 7, 7, 2.25, -1, 7],
             np.round(r.normal(0, 2, 60))]
    out = []
    for values in cases:
        values = np.asarray(values, float)
        _, counts = np.unique(values, return_counts=True)
        out.append(record("RankVector", [("values", nums(values)), ("ranks", nums(stats.rankdata(values))),
                                         ("tieGroups", ints(c for c in counts if c > 1))]))
    return out


def mann_whitney_vectors():
    out = []
    for name, x, y in two_samples():
        res = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
        out.append(record("MannWhitneyVector", [("name", f'"{name}"'), ("x", nums(x)), ("y", nums(y)),
                                                ("u", num(res.statistic)), ("p", num(res.pvalue))]))
    return out


def hodges_lehmann_vectors():
    """Only the shift: scipy has no Hodges-Lehmann interval (the tests check it by duality)."""
    out = []
    for name, x, y in two_samples():
        shift = np.median(np.subtract.outer(np.asarray(y, float), np.asarray(x, float)).ravel())
        out.append(record("ShiftVector", [("name", f'"{name}"'), ("x", nums(x)), ("y", nums(y)),
                                          ("shift", num(shift))]))
    return out


def theil_sen_vectors():
    out = []
    for name, x, y in series():
        for confidence in (0.95, 0.9):
            res = stats.theilslopes(y, x, alpha=confidence)
            out.append(record("TheilSenVector", [
                ("name", f'"{name}"'), ("x", nums(x)), ("y", nums(y)), ("confidence", num(confidence)),
                ("slope", num(res.slope)), ("intercept", num(res.intercept)),
                ("lowSlope", num(res.low_slope)), ("highSlope", num(res.high_slope))]))
    res = stats.theilslopes([1.0, 4.0], [0.0, 2.0])
    out.append(record("TheilSenVector", [
        ("name", '"two points"'), ("x", "[0.0, 2.0]"), ("y", "[1.0, 4.0]"), ("confidence", "0.95"),
        ("slope", num(res.slope)), ("intercept", num(res.intercept)),
        ("lowSlope", num(res.low_slope)), ("highSlope", num(res.high_slope))]))
    return out


def mann_kendall_vectors():
    """S and the uncorrected p from scipy.stats.kendalltau(arange(n), y, method='asymptotic'); the
    tie-corrected variance and the continuity-corrected p from the textbook formula, checked here to
    reproduce scipy's p when the continuity correction is left out."""
    out = []
    for name, _, y in series():
        y = np.asarray(y, float)
        n = len(y)
        res = stats.kendalltau(np.arange(n), y, method="asymptotic")
        _, counts = np.unique(y, return_counts=True)
        tot = n * (n - 1) // 2
        ytie = int(sum(c * (c - 1) // 2 for c in counts))
        s_from_tau = res.statistic * np.sqrt(tot) * np.sqrt(tot - ytie)
        s = int(sum(np.sign(y[j] - y[i]) for i in range(n) for j in range(i + 1, n)))
        assert abs(s_from_tau - s) < 1e-6, (name, s_from_tau, s)
        var = (n * (n - 1) * (2 * n + 5) - sum(c * (c - 1) * (2 * c + 5) for c in counts)) / 18
        p_plain = 2 * stats.norm.sf(abs(s) / np.sqrt(var))
        assert abs(p_plain - res.pvalue) <= 1e-12 + 1e-9 * res.pvalue, (name, p_plain, res.pvalue)
        z = (s - np.sign(s)) / np.sqrt(var)
        p = 2 * stats.norm.sf(abs(z))
        out.append(record("MannKendallVector", [
            ("name", f'"{name}"'), ("y", nums(y)), ("s", num(s)), ("varianceS", num(var)), ("z", num(z)),
            ("p", num(p)), ("scipyUncorrectedP", num(res.pvalue))]))
    return out


def spearman_vectors():
    r = rng(4)
    cases = [("three", [1.0, 2.0, 3.0], [2.0, 1.0, 4.0])]
    cases += [(name, x, y) for name, x, y in series()[1:]]
    cases += [("perfect monotone", [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 10.0, 100.0, 1000.0, 10000.0]),
              ("perfect inverse", [1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]),
              ("ties in both", np.round(r.normal(0, 1, 80)), np.round(r.normal(0, 1, 80) + 0.3 * np.arange(80) / 80))]
    out = []
    for name, x, y in cases:
        res = stats.spearmanr(x, y)
        out.append(record("SpearmanVector", [("name", f'"{name}"'), ("x", nums(x)), ("y", nums(y)),
                                             ("rho", num(res.statistic)), ("p", num(res.pvalue))]))
    return out


def student_t_vectors():
    cases = [(0.0, 1), (0.5, 1), (-2.0, 1), (1.0, 2), (2.5, 3), (-0.1, 5), (1.96, 10), (4.0, 20), (12.0, 48),
             (0.3, 498), (40.0, 7), (-6.0, 100), (1e-8, 30)]
    return [record("StudentTVector", [("t", num(t)), ("df", num(df)), ("sf", num(stats.t.sf(t, df)))])
            for t, df in cases]


def beta_vectors():
    cases = [(0.5, 0.5, 0.3), (1.0, 1.0, 0.42), (2.0, 3.0, 0.1), (2.0, 3.0, 0.9), (10.0, 0.5, 0.95),
             (0.5, 10.0, 0.05), (50.0, 60.0, 0.45), (300.0, 701.0, 0.31), (1.0, 1000.0, 1e-4), (24.0, 0.5, 0.999)]
    return [record("BetaVector", [("a", num(a)), ("b", num(b)), ("x", num(x)), ("value", num(special.betainc(a, b, x)))])
            for a, b, x in cases]


def binomial_vectors():
    cases = [(0, 10, 0.5), (1, 1, 0.3), (5, 10, 0.5), (10, 10, 0.5), (3, 20, 0.05), (15, 20, 0.5),
             (60, 100, 0.5), (40, 100, 0.5), (50, 1000, 0.01), (700, 1000, 0.65), (900, 1000, 0.5),
             (7, 7, 1e-3), (1, 500, 1e-4), (250, 500, 0.5), (12, 30, 0.123)]
    return [record("BinomialVector", [("k", str(k)), ("n", str(n)), ("p", num(p)),
                                      ("tail", num(stats.binomtest(k, n, p, alternative="greater").pvalue))])
            for k, n, p in cases]


def quantile_vectors():
    r = rng(5)
    cases = [[4.0], [3.0, 1.0], [5.0, 1.0, 3.0], [2.0, 8.0, 4.0, 6.0], [1.0, 1.0, 2.0, 2.0, 2.0, 9.0],
             list(r.normal(10, 3, 101)), list(r.exponential(2, 64))]
    qs = [0.0, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.75, 0.9, 0.99, 1.0]
    return [record("QuantileOfValuesVector", [("values", nums(values)), ("median", num(np.median(values))),
                                              ("qs", nums(qs)), ("quantiles", nums(np.quantile(values, qs)))])
            for values in cases]


# Output --------------------------------------------------------------------------------------

TYPES = """\
struct NormalVector { let x, cdf, sf: Double }
struct QuantileVector { let p, z: Double }
struct RankVector { let values, ranks: [Double]; let tieGroups: [Int] }
struct MannWhitneyVector { let name: String; let x, y: [Double]; let u, p: Double }
struct ShiftVector { let name: String; let x, y: [Double]; let shift: Double }
struct TheilSenVector {
    let name: String; let x, y: [Double]; let confidence: Double
    let slope, intercept, lowSlope, highSlope: Double
}
struct MannKendallVector {
    let name: String; let y: [Double]
    let s, varianceS, z, p, scipyUncorrectedP: Double
}
struct SpearmanVector { let name: String; let x, y: [Double]; let rho, p: Double }
struct StudentTVector { let t, df, sf: Double }
struct BetaVector { let a, b, x, value: Double }
struct BinomialVector { let k, n: Int; let p, tail: Double }
struct QuantileOfValuesVector { let values: [Double]; let median: Double; let qs, quantiles: [Double] }
"""


def block(name, type_name, items, doc):
    body = ",\n".join("        " + item for item in items)
    return f"    /// {doc}\n    static let {name}: [{type_name}] = [\n{body},\n    ]\n"


def main():
    normal, normal_quantile = normal_vectors()
    blocks = [
        block("normal", "NormalVector", normal, "scipy.stats.norm.cdf and .sf"),
        block("normalQuantile", "QuantileVector", normal_quantile, "scipy.stats.norm.ppf"),
        block("ranks", "RankVector", rank_vectors(), "scipy.stats.rankdata (average), and the tie groups' sizes"),
        block("mannWhitney", "MannWhitneyVector", mann_whitney_vectors(),
              "scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='asymptotic', use_continuity=True)"),
        block("hodgesLehmannShift", "ShiftVector", hodges_lehmann_vectors(), "numpy.median(numpy.subtract.outer(y, x))"),
        block("theilSen", "TheilSenVector", theil_sen_vectors(), "scipy.stats.theilslopes(y, x, alpha=confidence)"),
        block("mannKendall", "MannKendallVector", mann_kendall_vectors(),
              "S and scipyUncorrectedP from scipy.stats.kendalltau(arange(n), y, method='asymptotic'); "
              "varianceS, z and p (continuity-corrected) from the textbook formula"),
        block("spearman", "SpearmanVector", spearman_vectors(), "scipy.stats.spearmanr(x, y)"),
        block("studentT", "StudentTVector", student_t_vectors(), "scipy.stats.t.sf(t, df)"),
        block("incompleteBeta", "BetaVector", beta_vectors(), "scipy.special.betainc(a, b, x)"),
        block("binomialUpperTail", "BinomialVector", binomial_vectors(),
              "scipy.stats.binomtest(k, n, p, alternative='greater').pvalue"),
        block("quantiles", "QuantileOfValuesVector", quantile_vectors(), "numpy.median and numpy.quantile (method 'linear')"),
    ]
    header = (
        "// GENERATED by scripts/gen-stat-vectors.py — do not edit; run the script again instead.\n"
        f"// scipy {scipy.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}.\n\n"
    )
    with open(OUT, "w") as f:
        f.write(header)
        f.write(TYPES)
        f.write("\n/// Reference values for StatisticsTests.\nenum StatisticsVectors {\n")
        f.write("\n".join(blocks))
        f.write("}\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)} (scipy {scipy.__version__}, numpy {np.__version__})")


if __name__ == "__main__":
    main()

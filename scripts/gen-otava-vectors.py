#!/usr/bin/env python3
"""Writes Tests/AnalysisTests/ChangePointVectors.swift: Apache Otava's own change points for the
pure-Swift E-divisive in Sources/Analysis/Statistics/EDivisive.swift (Statistics.changePoints).

    python3 scripts/gen-otava-vectors.py

Uses Otava from the running interpreter; if it is missing it creates a virtual environment in
/tmp/otava-venv, installs OTAVA (below) from PyPI and runs itself there. Each series goes through
otava.analysis.compute_change_points, the function `otava analyze` calls for every metric, as a
plain list (what Otava's Series passes). The file also carries scipy.special.stdtr values, the
t distribution Otava's p-values come from. Every input is fixed or drawn with a fixed seed, so the
same Otava, scipy and numpy write the same file.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vectorgen import ints, num, nums, record, rerun_in_venv  # noqa: E402

VENV = "/tmp/otava-venv"
OTAVA = "apache-otava==0.8.0"  # bump deliberately: the Swift code is checked against this version

try:
    import numpy as np
    import scipy
    from scipy import special
    from otava.analysis import compute_change_points
    from importlib.metadata import version
except ImportError:
    rerun_in_venv(VENV, [OTAVA], "GEN_OTAVA_VECTORS_IN_VENV")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "AnalysisTests", "ChangePointVectors.swift")


# Inputs --------------------------------------------------------------------------------------

def rng(seed):
    return np.random.default_rng(seed)


def normal(seed, mean, sd, n):
    return list(rng(seed).normal(mean, sd, n))


def series():
    """(name, values, options): options are Otava's defaults unless given as
    (window_len, max_pvalue, min_magnitude)."""
    ramp = [10 + 0.05 * i + v for i, v in enumerate(normal(9, 0, 0.3, 100))]
    spike = normal(8, 10, 0.3, 40)
    spike[20] = 30.0
    latency = normal(12, 10, 0.3, 50) + normal(13, 13, 0.39, 50)
    small_step = normal(6, 100, 0.2, 40) + normal(7, 101, 0.2, 40)
    two_steps = normal(4, 10, 0.3, 30) + normal(5, 12, 0.3, 30) + normal(14, 9, 0.3, 30)
    long_series = normal(10, 10, 0.3, 70) + normal(11, 13, 0.3, 70) + normal(15, 11, 0.3, 60)
    # Integers and a window of 4 at max_pvalue 0.2 (first pass 0.4): here the t test's p-value
    # is exactly 0.4 for some splits (n = 4, t² = 9/8), so only a bit-exact p-value keeps them.
    integer_ties = [float(v) for v in np.round(rng(18).normal(10, 1, 60))]
    # Otava's merge re-tests only the change points after a dropped one: the one before keeps
    # statistics over a segment that no longer ends there.
    stale = [10.1, 8.9, 10.6, 9.7, 9.1, 10.6, 9.6, 11.8, 10.6, 10.2, 9.3, 9.7, 10.9, 9.4, 10.8, 8.0, 11.3,
             11.9, 11.4, 11.1, 12.1, 10.2, 10.1, 11.2, 12.3, 11.5, 10.9, 9.1, 9.3, 7.6, 6.0, 7.8, 7.3, 8.3]
    return [
        ("flat", [10.0] * 30, None),
        ("noisy flat", normal(1, 10, 0.3, 60), None),
        ("one step up", normal(2, 10, 0.3, 25) + normal(3, 13, 0.3, 25), None),
        ("one step down", normal(4, 20, 0.5, 30) + normal(5, 15, 0.5, 30), None),
        ("two steps", two_steps, None),
        ("two steps, window 20", two_steps, (20, 0.001, 0.0)),
        ("small step (1%)", small_step, None),
        ("small step (1%) under min_magnitude 0.05", small_step, (50, 0.001, 0.05)),
        ("two points", [1.0, 2.0], None),
        ("three points", [1.0, 2.0, 3.0], None),
        ("four points, constant then a jump", [5.0, 5.0, 5.0, 9.0], None),
        ("six points, two constant halves", [1.0, 1.0, 1.0, 5.0, 5.0, 5.0], None),
        ("eight points, noisy step", [10.0, 10.5, 9.8, 14.0, 14.2, 13.9, 14.1, 13.8], None),
        ("200 points, two steps, longer than the window", long_series, None),
        ("spike", spike, None),
        ("slow ramp", ramp, None),
        ("constant segments 3, 4, 3", [3.0] * 10 + [4.0] * 10 + [3.0] * 10, None),
        ("zero level, then 1", [0.0] * 10 + [1.0] * 10, None),
        ("latency N(10, 0.3), then +30%", latency, None),
        ("latency, max_pvalue 0.05, window 30", latency, (30, 0.05, 0.0)),
        ("integer ties, window 4, max_pvalue 0.2", integer_ties, (4, 0.2, 0.0)),
        ("merge leaves stale statistics", stale, None),
    ]


# Vectors -------------------------------------------------------------------------------------

def change_point_vectors():
    out = []
    for name, values, options in series():
        window, max_p, min_mag = options or (50, 0.001, 0.0)
        points, _ = compute_change_points([float(v) for v in values], window_len=window, max_pvalue=max_p,
                                          min_magnitude=min_mag)
        stats = [p.stats for p in points]
        out.append(record("ChangePointVector", [
            ("name", f'"{name}"'), ("series", nums(values)), ("windowLength", str(window)),
            ("maxPValue", num(max_p)), ("minMagnitude", num(min_mag)),
            ("indices", ints(p.index for p in points)),
            ("pValues", nums(s.pvalue for s in stats)),
            ("meansBefore", nums(s.mean_1 for s in stats)), ("meansAfter", nums(s.mean_2 for s in stats)),
            ("standardDeviationsBefore", nums(s.std_1 for s in stats)),
            ("standardDeviationsAfter", nums(s.std_2 for s in stats)),
            ("forwardChangePercents", nums(s.forward_change_percent() for s in stats)),
            ("magnitudes", nums(s.change_magnitude() for s in stats))]))
    return out


def student_t_vectors():
    """stdtr(df, t) where TOMS 708 takes each of its paths for b = 1/2, and the exact 0.4 case."""
    cases = [(1, 0.0), (1, -0.3), (1, -2.5), (1, 3.0), (2, -(9 / 8) ** 0.5), (2, -1.0), (2, 0.7), (3, -0.2),
             (3, -1.7), (4, -0.05), (5, -4.0), (7, -12.0), (10, -1.2), (18, -0.4), (18, -2.2), (25, -0.9),
             (30, -3.5), (48, -0.3), (48, -2.0), (48, -6.0), (60, -1.5), (98, -0.02), (98, -2.6),
             (150, -1.0), (298, -4.5), (1000, -0.7), (4998, -2.0), (3, -1e6), (12, -float("inf"))]
    return [record("StudentTCDFVector", [("t", num(t)), ("df", num(df)), ("cdf", num(special.stdtr(df, t)))])
            for df, t in cases]


# Output --------------------------------------------------------------------------------------

TYPES = """\
/// One series through otava.analysis.compute_change_points, and Otava's change points, in order,
/// with their TTestStats (forward_change_percent() and change_magnitude() included).
struct ChangePointVector {
    let name: String
    let series: [Double]
    let windowLength: Int
    let maxPValue, minMagnitude: Double
    let indices: [Int]
    let pValues, meansBefore, meansAfter, standardDeviationsBefore, standardDeviationsAfter: [Double]
    let forwardChangePercents, magnitudes: [Double]
}
struct StudentTCDFVector { let t, df, cdf: Double }
"""


def block(name, type_name, items, doc):
    body = ",\n".join("        " + item for item in items)
    return f"    /// {doc}\n    static let {name}: [{type_name}] = [\n{body},\n    ]\n"


def main():
    otava_version = version("apache-otava")
    blocks = [
        block("otava", "ChangePointVector", change_point_vectors(),
              "otava.analysis.compute_change_points(series, window_len, max_pvalue, min_magnitude)"),
        block("studentTCDF", "StudentTCDFVector", student_t_vectors(), "scipy.special.stdtr(df, t)"),
    ]
    header = (
        "// GENERATED by scripts/gen-otava-vectors.py — do not edit; run the script again instead:\n"
        "//     python3 scripts/gen-otava-vectors.py\n"
        f"// apache-otava {otava_version}, scipy {scipy.__version__}, numpy {np.__version__}, "
        f"Python {sys.version.split()[0]}.\n\n"
    )
    with open(OUT, "w") as f:
        f.write(header)
        f.write(TYPES)
        f.write("\n/// Reference values for EDivisiveTests.\nenum ChangePointVectors {\n")
        f.write("\n".join(blocks))
        f.write("}\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)} (apache-otava {otava_version}, scipy {scipy.__version__}, "
          f"numpy {np.__version__})")


if __name__ == "__main__":
    main()

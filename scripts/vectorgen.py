"""What the scripts that write Swift test vectors share (gen-stat-vectors.py, gen-otava-vectors.py):
running in a virtual environment with the reference packages, and Swift literals that parse back to
exactly the values the reference computed."""

import math
import os
import subprocess
import sys


def rerun_in_venv(venv, packages, marker):
    """Creates `venv` if missing, installs `packages` from PyPI into it and runs the calling script
    again there. `marker` (an environment variable) stops a second attempt from looping."""
    python = os.path.join(venv, "bin", "python3")
    if os.environ.get(marker):
        sys.exit(" ".join(packages) + " still missing inside " + venv)
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    subprocess.check_call([os.path.join(venv, "bin", "pip"), "install", "--quiet"] + list(packages))
    os.environ[marker] = "1"
    os.execv(python, [python] + sys.argv)


def num(v):
    """A Double literal that parses back to exactly v (repr is the shortest round-trip form)."""
    v = float(v)
    if math.isnan(v):
        return ".nan"
    if math.isinf(v):
        return ".infinity" if v > 0 else "-.infinity"
    return repr(v)


def nums(values):
    return "[" + ", ".join(num(v) for v in values) + "]"


def ints(values):
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def record(name, fields):
    return name + "(" + ", ".join(f"{k}: {v}" for k, v in fields) + ")"

#!/usr/bin/env python3
"""What do the allocation probes (`archbench probe --alloc`) cost the process they watch?

ab-testhelper malloc-loop (N malloc(64)/free pairs, a worst case: nothing but allocator calls)
pinned to CPU 1, alternately without probes, under `archbench probe --alloc --alloc-sample 1`
(every allocation tracked) and under `archbench probe --alloc` (the default sample), ROUNDS
rounds; prints the median ops/s of each, the ratios to the unprobed run and the cost per
malloc/free pair. Only the targets family is loaded besides alloc (ARCHBENCH_PROBE_FAMILIES=targets),
so the figure is the allocation probes' alone.

usage: bench/alloc-overhead.py [ROUNDS=3]
"""
import os
import re
import subprocess
import sys

from common import ARCHBENCH, ROOT, median, out, require

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
HELPER = os.path.join(ROOT, ".build", "release", "ab-testhelper")
PIN = ["taskset", "-c", "1"]
# Unprobed, a pair takes tens of ns; probed, microseconds: each run takes about a second either way.
BARE_PAIRS = 20_000_000
PROBED_PAIRS = 500_000
SIZE = 64


def ops_per_second(argv, env=None):
    process = subprocess.run(argv, capture_output=True, text=True, env=env)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}): {process.stderr.strip()}")
    match = re.search(r"^malloc_free (\d+) ([\d.]+) ([\d.]+)$", process.stdout, re.M)
    if not match:
        raise SystemExit(f"no malloc_free line in: {process.stdout}")
    if "alloc" in argv and "could not attach" in process.stdout:
        raise SystemExit("the allocation probes did not attach")
    return float(match.group(3))


def probed(sample):
    env = dict(os.environ, ARCHBENCH_PROBE_FAMILIES="targets")
    flags = ["--alloc"] + (["--alloc-sample", str(sample)] if sample else [])
    return ops_per_second(PIN + [ARCHBENCH, "probe"] + flags + ["--", HELPER, "malloc-loop", str(PROBED_PAIRS), str(SIZE)], env)


def main():
    require("taskset")
    if not os.path.exists(HELPER):
        raise SystemExit(f"{HELPER} is missing: run `swift build -c release`")
    bare, every, sampled = [], [], []
    out(f"ab-testhelper malloc-loop (malloc({SIZE})/free pairs) on CPU 1, {ROUNDS} rounds of: without probes, "
        f"--alloc --alloc-sample 1, --alloc (default sample)\n")
    for i in range(ROUNDS):
        bare.append(ops_per_second(PIN + [HELPER, "malloc-loop", str(BARE_PAIRS), str(SIZE)]))
        every.append(probed(1))
        sampled.append(probed(None))
        out(f"  round {i + 1}: without {bare[-1]:,.0f} pairs/s, sample 1 {every[-1]:,.0f} pairs/s, "
            f"default sample {sampled[-1]:,.0f} pairs/s")
    out()
    base = median(bare)
    for name, values in [("--alloc --alloc-sample 1", every), ("--alloc (default sample)", sampled)]:
        cost_us = (1 / median(values) - 1 / base) * 1e6
        out(f"{name}: median {median(values):,.0f} pairs/s vs {base:,.0f} without: ratio {median(values) / base:.4f}, "
            f"+{cost_us:.2f} µs per malloc/free pair")


if __name__ == "__main__":
    main()

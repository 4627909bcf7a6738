#!/usr/bin/env python3
"""What do the allocation probes (`archbench probe --alloc`) cost the process they watch?

ab-testhelper malloc-loop (N malloc(64)/free pairs, a worst case: nothing but allocator calls)
pinned to CPU 1, alternately without probes, under `archbench probe --alloc --alloc-sample 1`
(every allocation tracked) and under `archbench probe --alloc` (the default sample), ROUNDS
rounds; prints the median ops/s of each, the ratios to the unprobed run and the cost per
malloc/free pair. Only the targets family is loaded besides alloc (ARCHBENCH_PROBE_FAMILIES=targets),
so the figure is the allocation probes' alone. Each round also runs the floor: programs that do
nothing on the same three uprobes (bench/floor/empty-uprobes.bpf.c, a minimal loader), with free's
probe at the offset archbench uses and at offset 0, to show what the traps cost before any work.

usage: bench/alloc-overhead.py [ROUNDS=3]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

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


def build_floor(work):
    """The empty uprobe programs and their loader; returns (object, loader)."""
    clang = shutil.which("clang") or "/opt/swift/usr/bin/clang"
    floor = os.path.join(ROOT, "bench", "floor")
    obj, loader = os.path.join(work, "empty-uprobes.o"), os.path.join(work, "uprobe-run")
    subprocess.run([clang, "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-idirafter", "/usr/include",
                    "-c", os.path.join(floor, "empty-uprobes.bpf.c"), "-o", obj], check=True)
    subprocess.run(["cc", "-O2", os.path.join(floor, "uprobe-run.c"), "-o", loader, "-lbpf"], check=True)
    return obj, loader


def libc_and_free_offset():
    """This machine's libc and the offset archbench puts free's probe at (its probe line says it)."""
    maps = open("/proc/self/maps").read()
    libc = next(line.split()[-1] for line in maps.splitlines() if re.search(r"/libc(\.so|-[\d.]+\.so)", line))
    report = subprocess.run([ARCHBENCH, "probe", "--alloc", "--json", "--", "/bin/true"], capture_output=True,
                            text=True, env=dict(os.environ, ARCHBENCH_PROBE_FAMILIES="targets")).stdout
    match = re.search(r"free \(at \+(\d+)\)", report)
    return libc, int(match.group(1)) if match else 0


def main():
    require("taskset")
    if not os.path.exists(HELPER):
        raise SystemExit(f"{HELPER} is missing: run `swift build -c release`")
    with tempfile.TemporaryDirectory() as work:
        run(*build_floor(work), *libc_and_free_offset())


def run(floor_object, floor_loader, libc, free_offset):
    def floor(offset):
        return ops_per_second(PIN + [floor_loader, floor_object, libc, str(offset), HELPER, "malloc-loop",
                                     str(PROBED_PAIRS if offset else PROBED_PAIRS // 4), str(SIZE)])

    bare, every, sampled, empty, empty0 = [], [], [], [], []
    out(f"ab-testhelper malloc-loop (malloc({SIZE})/free pairs) on CPU 1, {ROUNDS} rounds of: without probes, "
        f"--alloc --alloc-sample 1, --alloc (default sample), empty programs on the same uprobes "
        f"(free at +{free_offset}, and at +0)\n")
    for i in range(ROUNDS):
        bare.append(ops_per_second(PIN + [HELPER, "malloc-loop", str(BARE_PAIRS), str(SIZE)]))
        every.append(probed(1))
        sampled.append(probed(None))
        empty.append(floor(free_offset))
        empty0.append(floor(0))
        out(f"  round {i + 1}: without {bare[-1]:,.0f} pairs/s, sample 1 {every[-1]:,.0f}, "
            f"default sample {sampled[-1]:,.0f}, empty programs {empty[-1]:,.0f} (free at +0: {empty0[-1]:,.0f})")
    out()
    base = median(bare)
    for name, values in [("--alloc --alloc-sample 1", every), ("--alloc (default sample)", sampled),
                         (f"floor: empty programs, free at +{free_offset}", empty), ("floor: empty programs, free at +0", empty0)]:
        cost_us = (1 / median(values) - 1 / base) * 1e6
        out(f"{name}: median {median(values):,.0f} pairs/s vs {base:,.0f} without: ratio {median(values) / base:.4f}, "
            f"+{cost_us:.2f} µs per malloc/free pair")


if __name__ == "__main__":
    main()

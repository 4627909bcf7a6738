#!/usr/bin/env python3
"""What do the probes cost the process they watch?

nginx (bench/nginx.conf) under wrk -t1 -c50 -d5s, in turn without probes, with `archbench probe
--port 18080` (every default probe family: targets, sched, memory, tcp, gc) and with `--syscalls`
added (the opt-in syscall counts and latency), ROUNDS rounds; prints the median req/s of each and
the ratios to the bare runs (target for the default probes >= 0.97).

usage: bench/probe-overhead.py [ROUNDS=3] [--no-syscalls] [--aa]
  --no-syscalls  leave out the --syscalls configuration (more rounds in the same time)
  --aa           add a second bare configuration: how far apart two identical ones come out
"""
import os
import random
import re
import signal
import subprocess
import sys
import time

from common import ARCHBENCH, NGINX_URL, PIN, Nginx, cpu_of, median, out, require

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
ROUNDS = int(ARGS[0]) if ARGS else 3


def nginx_cpu_seconds():
    """utime + stime of every nginx process (master and worker), from /proc/PID/stat."""
    total = 0
    for pid in subprocess.run(["pgrep", "-x", "nginx"], capture_output=True, text=True).stdout.split():
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk_rps():
    """(req/s, CPU microseconds per request of nginx and wrk together). The probes' programs run in
    the context of the tasks they trace, so their cost shows as CPU time per request, which the
    host's speed moves far less than it moves throughput."""
    before = nginx_cpu_seconds()
    text, wrk_cpu = cpu_of(PIN + ["wrk", "-t1", "-c50", "-d5s", NGINX_URL])
    nginx_cpu = nginx_cpu_seconds() - before
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), (nginx_cpu + wrk_cpu) / requests * 1e6


def with_probes(extra):
    probe = subprocess.Popen([ARCHBENCH, "probe", "--port", "18080", "--json"] + extra, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    # Wait until attached: the probe says so on stderr.
    deadline = time.monotonic() + 30
    line = ""
    while "probing" not in line and time.monotonic() < deadline:
        line = probe.stderr.readline()
        if not line and probe.poll() is not None:
            raise SystemExit(f"archbench probe failed: {probe.stderr.read()}")
    result = wrk_rps()
    probe.send_signal(signal.SIGINT)
    stdout, _ = probe.communicate(timeout=60)
    if probe.returncode != 0:
        raise SystemExit("archbench probe did not end cleanly")
    return result


def bootstrap_median_ci(values, resamples=10000):
    """A percentile bootstrap 95% interval of the median (seeded: the same data print the same)."""
    generator = random.Random(1)
    medians = sorted(median(generator.choices(values, k=len(values))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def main():
    require("wrk")
    require("nginx")
    configurations = [("bare", None), ("default probes", [])]
    if "--no-syscalls" not in sys.argv:
        configurations.append(("with --syscalls", ["--syscalls"]))
    if "--aa" in sys.argv:
        # A/A: a second bare configuration shows how far apart two identical ones come out.
        configurations.append(("bare again", None))
    rps = {name: [] for name, _ in configurations}
    cpu = {name: [] for name, _ in configurations}
    with Nginx():
        out(f"nginx under wrk -t1 -c50 -d5s: bare, with the default probes, with --syscalls too; {ROUNDS} rounds\n")
        for i in range(ROUNDS):
            # Each round starts with the next configuration: a fixed order would give whichever runs
            # first (or last) in every round the same share of whatever the host does meanwhile.
            for name, extra in configurations[i % len(configurations):] + configurations[:i % len(configurations)]:
                r, c = wrk_rps() if extra is None else with_probes(extra)
                rps[name].append(r)
                cpu[name].append(c)
            out(f"  round {i + 1}: " + ", ".join(f"{name} {rps[name][-1]:.0f} req/s {cpu[name][-1]:.2f} CPU-µs/req"
                                                  for name, _ in configurations))
    out()
    # The host's speed drifts by tens of percent within minutes; a round's three runs are adjacent,
    # so the median of the per-round ratios is the steadier figure.
    for name, _ in configurations[1:]:
        ratios = [a / b for a, b in zip(rps[name], rps["bare"])]
        low, high = bootstrap_median_ci(ratios)
        out(f"{name} / bare: req/s ratio of the medians {median(rps[name]) / median(rps['bare']):.3f}, "
            f"median of the rounds' {median(ratios):.3f} (95% CI {low:.3f}..{high:.3f}); "
            f"CPU per request {median([a / b for a, b in zip(cpu[name], cpu['bare'])]):.3f}")
    out("(target for the default probes: req/s ratio >= 0.97; the floor of the raw syscall tracepoints "
        "behind --syscalls is bench/syscall-tracepoint-floor.sh)")


if __name__ == "__main__":
    main()

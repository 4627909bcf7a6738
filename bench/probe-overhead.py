#!/usr/bin/env python3
"""What do the probes cost the process they watch?

nginx (bench/nginx.conf) under wrk -t1 -c50 -d5s, in turn without probes, with `archbench probe
--port 18080` (every default probe family: targets, sched, memory, tcp, gc) and with `--syscalls`
added (the opt-in syscall counts and latency), ROUNDS rounds; prints the median req/s of each and
the ratios to the bare runs (target for the default probes >= 0.97).

usage: bench/probe-overhead.py [ROUNDS=3]
"""
import re
import signal
import subprocess
import sys
import time

from common import ARCHBENCH, NGINX_URL, PIN, Nginx, median, out, require

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def wrk_rps():
    text = subprocess.run(PIN + ["wrk", "-t1", "-c50", "-d5s", NGINX_URL], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))


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
    rps = wrk_rps()
    probe.send_signal(signal.SIGINT)
    stdout, _ = probe.communicate(timeout=60)
    if probe.returncode != 0:
        raise SystemExit("archbench probe did not end cleanly")
    return rps, len(stdout)


def main():
    require("wrk")
    require("nginx")
    bare, default, syscalls = [], [], []
    with Nginx():
        out(f"nginx under wrk -t1 -c50 -d5s: bare, with the default probes, with --syscalls too; {ROUNDS} rounds\n")
        for i in range(ROUNDS):
            bare.append(wrk_rps())
            default.append(with_probes([])[0])
            syscalls.append(with_probes(["--syscalls"])[0])
            out(f"  round {i + 1}: bare {bare[-1]:.0f} req/s, default probes {default[-1]:.0f}, "
                f"with --syscalls {syscalls[-1]:.0f}")
    out()
    out(f"median req/s bare {median(bare):.0f}, default probes {median(default):.0f}, "
        f"with --syscalls {median(syscalls):.0f}")
    # The host's speed drifts by tens of percent within minutes; a round's three runs are adjacent,
    # so the median of the per-round ratios is the steadier figure.
    paired = median([d / b for d, b in zip(default, bare)])
    paired_syscalls = median([s / b for s, b in zip(syscalls, bare)])
    out(f"ratio default probes / bare: of the medians {median(default) / median(bare):.3f}, "
        f"median of the rounds' {paired:.3f}  (target >= 0.97)")
    out(f"ratio with --syscalls / bare: of the medians {median(syscalls) / median(bare):.3f}, "
        f"median of the rounds' {paired_syscalls:.3f}  (opt-in; the floor of the raw syscall tracepoints is "
        f"bench/syscall-tracepoint-floor.sh)")


if __name__ == "__main__":
    main()

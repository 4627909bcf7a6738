#!/usr/bin/env python3
"""What do the probes cost the process they watch?

nginx (bench/nginx.conf) under wrk -t1 -c50 -d5s, alternately without and with `archbench probe
--port 18080` (every default probe family: syscalls with latency, sched, memory, tcp, targets)
attached to it, PAIRS pairs; prints the median req/s of each and the ratio (target >= 0.97).

usage: bench/probe-overhead.py [PAIRS=3]
"""
import re
import signal
import subprocess
import sys
import time

from common import ARCHBENCH, NGINX_URL, PIN, Nginx, median, out, require

PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def wrk_rps():
    text = subprocess.run(PIN + ["wrk", "-t1", "-c50", "-d5s", NGINX_URL], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))


def with_probes():
    probe = subprocess.Popen([ARCHBENCH, "probe", "--port", "18080", "--json"], stdout=subprocess.PIPE,
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
    bare, probed = [], []
    with Nginx():
        out(f"nginx under wrk -t1 -c50 -d5s, without and with archbench probe attached, {PAIRS} pairs\n")
        for i in range(PAIRS):
            bare.append(wrk_rps())
            rps, _ = with_probes()
            probed.append(rps)
            out(f"  pair {i + 1}: without {bare[-1]:.0f} req/s, with probes {probed[-1]:.0f} req/s")
    out()
    out(f"median req/s without {median(bare):.0f}, with probes {median(probed):.0f}: "
        f"ratio {median(probed) / median(bare):.3f}  (target >= 0.97)")


if __name__ == "__main__":
    main()

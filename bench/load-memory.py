#!/usr/bin/env python3
"""Does archbench load's memory stay flat over a long run with many connections?

Runs `archbench load -t2 -cCONNECTIONS -dSECONDS` (closed loop) against nginx (bench/nginx.conf)
and samples the load generator's VmRSS from /proc every 5 s. Prints the samples, the peak, and the
growth rate from a least-squares fit over the second half (after the connections are up).

usage: bench/load-memory.py [SECONDS=600] [CONNECTIONS=10000]
"""
import json
import subprocess
import sys
import tempfile
import time

from common import ARCHBENCH, NGINX_URL, Nginx, out, require, rss_kib, slope_per_minute

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 600
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 10000


def main():
    require("nginx")
    with Nginx():
        start = time.monotonic()
        # The JSON (one window per 100 ms) is larger than a pipe holds: it goes to a file.
        output = tempfile.TemporaryFile(mode="w+")
        load = subprocess.Popen([ARCHBENCH, "load", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--json", NGINX_URL],
                                stdout=output, stderr=subprocess.PIPE, text=True)
        samples = []
        while load.poll() is None:
            time.sleep(5)
            try:
                samples.append((time.monotonic() - start, rss_kib(load.pid)))
            except OSError:
                break
            out(f"  {samples[-1][0]:6.0f} s  RSS {samples[-1][1] / 1024:7.1f} MiB")
        _, stderr = load.communicate()
    if load.returncode != 0:
        raise SystemExit(f"archbench load failed: {stderr}")
    output.seek(0)
    result = json.load(output)
    samples = [s for s in samples if s[1] > 0]
    peak = max(r for _, r in samples)
    later = samples[len(samples) // 2:]
    out()
    out(f"{CONNECTIONS} connections, {SECONDS} s, {result['requests']} requests ({result['requests_per_s']:.0f}/s), "
        f"{result['connects']} connects, errors {result['errors']}")
    out(f"RSS first {samples[0][1] / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, last {samples[-1][1] / 1024:.1f} MiB;"
        f" growth over the second half {slope_per_minute(later):+.1f} KiB/min  (target: peak < 64 MiB, flat)")


if __name__ == "__main__":
    main()

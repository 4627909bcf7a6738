#!/usr/bin/env python3
"""archbench load against wrk on nginx (bench/nginx.conf), alternating, and the ratios.

  1. throughput: -t1 -c50 -d5s, PAIRS pairs: req/s and CPU seconds per million requests;
  2. precision at one connection: -t1 -c1 -d3s, max(2 x PAIRS, 10) pairs: p50 latency;
  3. open loop: archbench --rate 20000 -t1 -c50 -d5s, PAIRS runs: achieved rate.

The load generators are pinned to CPU 1 and nginx to CPU 0.

usage: bench/load-vs-wrk.py [PAIRS]   (`make bench` installs wrk and nginx and builds first)
"""
import json
import re
import sys

from common import ARCHBENCH, NGINX_URL, PIN, Nginx, cpu_of, median, out, require, wrk_seconds

PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def wrk(threads, connections, seconds=5):
    text, cpu = cpu_of(PIN + ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", NGINX_URL])
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = wrk_seconds(re.search(r"50%\s+(\S+)", text).group(1)) * 1e6
    return {"rps": rps, "cpu_per_m": cpu / requests * 1e6, "p50_us": p50}


def archbench(threads, connections, *extra, seconds=5):
    text, cpu = cpu_of(PIN + [ARCHBENCH, "load", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--json", *extra,
                              NGINX_URL])
    result = json.loads(text)
    return {"rps": result["requests_per_s"], "cpu_per_m": cpu / max(result["requests"], 1) * 1e6,
            "p50_us": result["latency_us"]["p50"], "achieved": result["achieved_rate"],
            "errors": sum(result["errors"].values())}


def main():
    require("wrk")
    require("nginx")
    with Nginx():
        out(f"archbench load vs wrk on nginx (1 worker, return 200), {PAIRS} alternating pairs of 5 s runs\n")
        rows = {"wrk": [], "archbench": []}
        for i in range(PAIRS):
            rows["wrk"].append(wrk(1, 50))
            rows["archbench"].append(archbench(1, 50))
            out(f"  pair {i + 1} -t1 -c50: wrk {rows['wrk'][-1]['rps']:.0f} req/s {rows['wrk'][-1]['cpu_per_m']:.2f} CPU-s/M"
                f" | archbench {rows['archbench'][-1]['rps']:.0f} req/s {rows['archbench'][-1]['cpu_per_m']:.2f} CPU-s/M")
        wrk_rps, ab_rps = (median([r["rps"] for r in rows[k]]) for k in ("wrk", "archbench"))
        wrk_cpu, ab_cpu = (median([r["cpu_per_m"] for r in rows[k]]) for k in ("wrk", "archbench"))

        # One connection's latency is a few tens of µs and varies with the host between runs by
        # more than the 10% compared: many short pairs for its median.
        single = {"wrk": [], "archbench": []}
        for i in range(max(2 * PAIRS, 10)):
            single["wrk"].append(wrk(1, 1, seconds=3))
            single["archbench"].append(archbench(1, 1, seconds=3))
            out(f"  pair {i + 1} -t1 -c1:  wrk p50 {single['wrk'][-1]['p50_us']:.1f} µs"
                f" | archbench p50 {single['archbench'][-1]['p50_us']:.1f} µs")
        wrk_p50, ab_p50 = (median([r["p50_us"] for r in single[k]]) for k in ("wrk", "archbench"))

        rates = []
        for i in range(PAIRS):
            run = archbench(1, 50, "--rate", "20000")
            rates.append(run["achieved"])
            out(f"  run {i + 1} --rate 20000 -t1 -c50: achieved {run['achieved']:.1f}/s, {run['errors']} errors")
        rate = median(rates)

    out()
    out(f"req/s (median)              wrk {wrk_rps:10.0f}   archbench {ab_rps:10.0f}   ratio {ab_rps / wrk_rps:.3f}  (target >= 1)")
    out(f"CPU-s per 1M requests       wrk {wrk_cpu:10.2f}   archbench {ab_cpu:10.2f}   ratio {ab_cpu / wrk_cpu:.3f}  (target <= 0.9)")
    out(f"p50 at -c1 (µs)             wrk {wrk_p50:10.1f}   archbench {ab_p50:10.1f}   ratio {ab_p50 / wrk_p50:.3f}  (target within 0.9-1.1)")
    out(f"--rate 20000 achieved (median) {rate:.1f}/s   error {100 * (rate - 20000) / 20000:+.2f}%  (target within ±1%)")


if __name__ == "__main__":
    main()

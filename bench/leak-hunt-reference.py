#!/usr/bin/env python3
"""Does `archbench leak-hunt` flag a leaking service of the reference microservices, with the right
slope, and leave a clean one alone?

Leak run: `archbench serve microservices` with `--leak-bytes-per-request users:BYTES`, and
`leak-hunt --port` on its gateway (the gateway and its services) driving GET /api/users/1 at RATE
requests/s for SECONDS. The users service must be flagged, with a slope within 25% of BYTES × the
achieved rate. Clean runs: the same without the leak, CLEAN times; nothing may be flagged.

    python3 bench/leak-hunt-reference.py [SECONDS=60] [CLEAN=5] [BYTES=2048] [RATE=200]   (as root)
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

from common import ARCHBENCH


def serve(extra):
    server = subprocess.Popen([ARCHBENCH, "serve", "microservices", "--port", "0", "--ws-port", "0"] + extra,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = server.stderr.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            return server, int(match.group(1))
    server.kill()
    raise SystemExit("the microservices did not start")


def hunt(port, seconds, rate):
    started = time.time()
    process = subprocess.run([ARCHBENCH, "leak-hunt", "--port", f"users={port}", "--url",
                              f"http://127.0.0.1:{port}/api/users/1", "--rate", str(rate), "--duration", str(seconds),
                              "--json"], capture_output=True, text=True)
    if process.returncode not in (0, 1):
        raise SystemExit(f"leak-hunt failed ({process.returncode}): {process.stderr.strip()}")
    return process.returncode, json.loads(process.stdout), time.time() - started


def stop(server):
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=15)


def main():
    seconds, clean, leak, rate = (float(sys.argv[1]) if len(sys.argv) > 1 else 60, int(sys.argv[2]) if len(sys.argv) > 2 else 5,
                                  int(sys.argv[3]) if len(sys.argv) > 3 else 2048, float(sys.argv[4]) if len(sys.argv) > 4 else 200)
    server, port = serve(["--leak-bytes-per-request", f"users:{leak}"])
    try:
        code, report, took = hunt(port, seconds, rate)
    finally:
        stop(server)
    users = [p for p in report["processes"] if p["comm"] == "ab-users"]
    flagged = [p["comm"] for p in report["processes"] if p["leak_suspected"]]
    expected = leak * report["load"]["requests_per_s"]
    growth = users[0]["growth_bytes_per_s"] if users else float("nan")
    print(f"leak run ({seconds:.0f} s, {leak} B/request at {report['load']['requests_per_s']:.1f} req/s): exit {code}, "
          f"flagged {flagged}; users grows {growth:.0f} B/s [{users[0]['ci95_bytes_per_s'][0]:.0f}, "
          f"{users[0]['ci95_bytes_per_s'][1]:.0f}], set {expected:.0f} B/s: ratio {growth / expected:.3f}")
    ok = code == 1 and flagged == ["ab-users"] and abs(growth / expected - 1) <= 0.25
    false_flags = 0
    for run in range(1, clean + 1):
        server, port = serve([])
        try:
            code, report, took = hunt(port, seconds, rate)
        finally:
            stop(server)
        flagged = [f"{p['comm']} ({p['growth_bytes_per_s']:.0f} B/s)" for p in report["processes"] if p["leak_suspected"]]
        slopes = ", ".join(f"{p['comm']} {p['growth_bytes_per_s']:.0f}" for p in report["processes"] if not p.get("reason"))
        print(f"clean run {run}: exit {code}, flagged {flagged or 'nothing'}; slopes B/s: {slopes}")
        false_flags += bool(flagged)
        ok = ok and code == 0 and not flagged
    print(f"result: {false_flags} of {clean} clean runs flagged; " + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main()

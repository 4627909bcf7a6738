#!/usr/bin/env python3
"""How honest are the analysis's intervals? An A/A run: the same reference monolith spawned as both
architectures, RUNS times. Each run prints how many of its A/B deltas the analysis calls within
noise, the ones it calls a change, and its exit code. Two copies of one server differ only by noise
(and by whatever makes two processes of one binary differ), so nearly every delta should be within
noise and the run should pass its gate.

    python3 bench/aa-run.py [RUNS=3] [DURATION=2] [ROUNDS=3] [BACKEND=monolith]     (as root for the probes)

BACKEND is the reference backend spawned on both sides: monolith or microservices. Each run also
prints how many of its validation checks were critical (the gate must not fail an A/A run).
"""
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile

from common import ARCHBENCH


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(directory, backend):
    doc = {}
    for name in [backend, backend + "_again"]:
        port, ws_port = free_port(), free_port()
        command = [ARCHBENCH, "serve", backend, "--port", str(port)]
        if backend == "microservices":
            command += ["--ws-port", str(ws_port)]
        else:
            ws_port = port
        doc[name] = {"base_url": f"http://127.0.0.1:{port}", "websocket_url": f"ws://127.0.0.1:{ws_port}/ws",
                     "connection_pool_size": 20, "command": command}
    path = os.path.join(directory, "aa.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    duration = sys.argv[2] if len(sys.argv) > 2 else "2"
    rounds = sys.argv[3] if len(sys.argv) > 3 else "3"
    backend = sys.argv[4] if len(sys.argv) > 4 else "monolith"
    within_total = deltas_total = passed = critical_total = 0
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as directory:
            results = os.path.join(directory, "results")
            process = subprocess.run([ARCHBENCH, "run", "--config", config(directory, backend), "--duration", duration, "--rounds", rounds,
                                      "--results-dir", results], capture_output=True, text=True)
            if process.returncode not in (0, 1):
                raise SystemExit(f"archbench run failed ({process.returncode}): {process.stderr.strip()}")
            with open(glob.glob(os.path.join(results, "comprehensive_results_*.json"))[0]) as f:
                document = json.load(f)
            deltas = document["analysis"]["deltas"]
            critical = [c for c in document["validation"]["checks"] if c["verdict"] == "critical"]
        within = [d for d in deltas if d["verdict"] == "within_noise"]
        changes = [f"{d['benchmark']} {d['metric']} {d['change_pct']:+.1f}% [{d['ci95_pct'][0]:+.1f}, {d['ci95_pct'][1]:+.1f}]"
                   for d in deltas if d["verdict"] != "within_noise"]
        print(f"run {run}: {len(within)} of {len(deltas)} deltas within noise ({len(within) / len(deltas):.0%}), "
              f"{len(critical)} critical checks, exit {process.returncode}"
              + (f"; called changes: {'; '.join(changes)}" if changes else ""))
        within_total += len(within)
        critical_total += len(critical)
        deltas_total += len(deltas)
        passed += process.returncode == 0
    print(f"all: {within_total} of {deltas_total} deltas within noise ({within_total / deltas_total:.1%}); "
          f"{critical_total} critical checks; {passed} of {runs} runs exited 0")


if __name__ == "__main__":
    main()

"""Shared pieces of the bench scripts: the reference nginx, running a tool with its CPU time."""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHBENCH = os.path.join(ROOT, ".build", "release", "archbench")
NGINX_URL = "http://127.0.0.1:18080/"


class Nginx:
    """nginx (Debian) with bench/nginx.conf: one worker, `return 200`, on 127.0.0.1:18080."""

    def __enter__(self):
        self.process = subprocess.Popen(["nginx", "-c", os.path.join(ROOT, "bench", "nginx.conf"), "-p", "/tmp"])
        for _ in range(100):
            try:
                import urllib.request
                urllib.request.urlopen(NGINX_URL, timeout=1).read()
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit("nginx did not start on 127.0.0.1:18080")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=10)


def run_measured(argv):
    """Runs a command to completion and returns its stdout."""
    process = subprocess.run(argv, capture_output=True, text=True)
    if process.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({process.returncode}): {process.stderr.strip()}")
    return process.stdout


def cpu_of(argv):
    """(stdout, CPU seconds, user + system) of one run: the growth of this script's reaped-children
    times, which is exactly that child's, as nothing else runs from here meanwhile."""
    before = os.times()
    stdout = run_measured(argv)
    after = os.times()
    return stdout, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def wrk_seconds(text):
    """wrk prints latencies as 612.16us, 1.20ms, 2.00s."""
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


# The load generators run on CPU 1, nginx on CPU 0 (bench/nginx.conf): left to the scheduler they
# share one core in some runs and not in others, and throughput doubles between runs.
PIN = ["taskset", "-c", "1"] if os.cpu_count() and os.cpu_count() >= 2 else []


def median(values):
    return statistics.median(values)


def require(tool):
    if subprocess.run(["which", tool], capture_output=True).returncode != 0:
        raise SystemExit(f"{tool} is not installed: run `make bench`, which installs it")
    if not os.path.exists(ARCHBENCH):
        raise SystemExit(f"{ARCHBENCH} is missing: run `make bench`, which builds it")


def out(line=""):
    print(line, flush=True)
    sys.stdout.flush()


def rss_kib(pid):
    """VmRSS of a process, from /proc (0 when it has none: a zombie)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def slope_per_minute(points):
    """Least-squares slope of (seconds, value) pairs, per minute."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / var if var else 0.0

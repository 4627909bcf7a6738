#!/usr/bin/env python3
"""Soak: CONNECTIONS keep-alive connections for SECONDS against the reference monolith.

Runs `archbench serve monolith` (its open-file limit raised to hold the connections) and
`archbench load -t2 -cCONNECTIONS -dSECONDS GET /api/users/1` against it, and every 5 s samples
both processes' open descriptors (/proc/PID/fd) and VmRSS. After a warm-up (the first minute, or
the first fifth of a shorter run) it checks that:
  - descriptors stay flat: each process's count varies by at most 1% of the connections;
  - RSS stays flat: the least-squares growth over the rest of the run is under 1 MiB/min, and the
    last sample is within 10% (or 8 MiB) of the first one after the warm-up;
  - nothing is lost from the counts, measured by the kernel on the server's side: every byte the
    load generator says it wrote was read by the server (/proc/PID/io rchar, within 0.1%), and the server wrote
    the responses the load generator counted (its requests x the response's exact size, found by
    one request on a raw socket), give or take one response per connection in flight at the end;
    no errors; one connect per connection; the per-window responses add up to the total.
Prints the samples each minute, then each check with its figures and PASS/FAIL; exit 1 on a FAIL.

usage: bench/soak.py [SECONDS=600] [CONNECTIONS=10000]   (`make build-release` first)
"""
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

from common import ARCHBENCH, out, rss_kib, slope_per_minute

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 600
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
PATH = "/api/users/1"
SAMPLE_EVERY = 5


def raise_open_files():
    """In the server's child, before exec: room for every connection and then some."""
    wanted = CONNECTIONS + 1024
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        hard = wanted  # root may raise the hard limit; anyone else fails here, visibly
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve():
    server = subprocess.Popen([ARCHBENCH, "serve", "monolith", "--port", "0"], stderr=subprocess.PIPE, text=True,
                              preexec_fn=raise_open_files)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = server.stderr.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            # The server's later lines must not fill the pipe and block it.
            subprocess.Popen(["cat"], stdin=server.stderr, stdout=subprocess.DEVNULL)
            return server, int(match.group(1))
        if not line and server.poll() is not None:
            break
    server.kill()
    raise SystemExit("the monolith did not start")


def response_bytes(port):
    """The exact size of one response to GET PATH: status line, headers and Content-Length body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        while len(body) < length:
            body += connection.recv(65536)
        return len(head) + 4 + length


def io(pid):
    with open(f"/proc/{pid}/io") as stats:
        return {k: int(v) for k, v in (line.split(": ") for line in stats)}


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    if not os.path.exists(ARCHBENCH):
        raise SystemExit(f"{ARCHBENCH} is missing: run `make build-release`")
    server, port = serve()
    failed = []

    def check(name, ok, figures):
        out(f"  {'PASS' if ok else 'FAIL'}  {name}: {figures}")
        if not ok:
            failed.append(name)

    try:
        size = response_bytes(port)
        server_before = io(server.pid)
        out(f"soak: {CONNECTIONS} connections for {SECONDS} s, GET {PATH} ({size}-byte responses) on the monolith"
            f" (pid {server.pid}, port {port})")
        # The JSON (a window per 100 ms) is larger than a pipe holds: it goes to a file.
        output = tempfile.TemporaryFile(mode="w+")
        load = subprocess.Popen([ARCHBENCH, "load", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10",
                                 "--json", f"http://127.0.0.1:{port}{PATH}"],
                                stdout=output, stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        samples = []  # (seconds, load fds, load RSS KiB, server fds, server RSS KiB)
        while load.poll() is None and time.monotonic() - start < SECONDS + 120:
            time.sleep(SAMPLE_EVERY)
            try:
                samples.append((time.monotonic() - start, descriptors(load.pid), rss_kib(load.pid),
                                descriptors(server.pid), rss_kib(server.pid)))
            except OSError:
                break  # the load generator exited between poll() and the reads
            t, lf, lr, sf, sr = samples[-1]
            if len(samples) % (60 // SAMPLE_EVERY) == 0:
                out(f"  {t:5.0f} s  load: {lf} fds, {lr / 1024:6.1f} MiB | monolith: {sf} fds, {sr / 1024:6.1f} MiB")
        if load.poll() is None:
            load.kill()
            raise SystemExit("archbench load ran 2 minutes past its duration: killed")
        _, stderr = load.communicate()
        if load.returncode != 0:
            raise SystemExit(f"archbench load failed ({load.returncode}): {stderr.strip()}")
        # The server reads what is left on the closed connections: let it.
        time.sleep(1)
        server_after = io(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    output.seek(0)
    result = json.load(output)
    warm = min(60, SECONDS / 5)
    # Samples from the last seconds may catch the load generator closing its connections or gone.
    steady = [s for s in samples if warm <= s[0] <= SECONDS - SAMPLE_EVERY and s[2] > 0]
    if len(steady) < 3:
        raise SystemExit(f"only {len(steady)} samples after the warm-up: run longer")
    out()
    out(f"{result['requests']} responses ({result['requests_per_s']:.0f}/s), {result['sent']} sent,"
        f" {result['connects']} connects, errors {result['errors']}")
    out(f"checks over {steady[0][0]:.0f}…{steady[-1][0]:.0f} s ({len(steady)} samples):")
    for index, who in ((1, "load generator"), (3, "monolith")):
        counts = [s[index] for s in steady]
        check(f"{who} descriptors flat", max(counts) - min(counts) <= CONNECTIONS // 100,
              f"{min(counts)}…{max(counts)} (at most {CONNECTIONS // 100} apart)")
    for index, who in ((2, "load generator"), (4, "monolith")):
        growth = slope_per_minute([(s[0], s[index] / 1024) for s in steady])
        first, last = steady[0][index] / 1024, steady[-1][index] / 1024
        check(f"{who} RSS flat", growth < 1.0 and last - first <= max(first * 0.10, 8.0),
              f"{first:.1f} → {last:.1f} MiB, growth {growth:+.2f} MiB/min (under 1 MiB/min, last within"
              f" max(10%, 8 MiB) of first)")
    errors = sum(result["errors"].values())
    check("no errors", errors == 0, f"{result['errors']}")
    check("one connect per connection", result["connects"] == CONNECTIONS,
          f"{result['connects']} connects for {CONNECTIONS} connections")
    windows = sum(w["responses"] for w in result["windows"])
    check("windows add up", windows == result["requests"] or result.get("windows_dropped", 0) > 0,
          f"{windows} in windows, {result['requests']} in total, {result.get('windows_dropped', 0)} windows dropped")
    read_by_server = server_after["rchar"] - server_before["rchar"]
    slack = result["bytes_written"] // 1000 + 65536
    check("the server read every byte the load generator wrote",
          0 <= read_by_server - result["bytes_written"] <= slack,
          f"{result['bytes_written']} written by the load generator, {read_by_server} read by the monolith"
          f" (kernel rchar, which also counts its event loops' eventfd and timer reads: {slack} bytes allowed)")
    written_by_server = server_after["wchar"] - server_before["wchar"]
    expected = result["requests"] * size
    check("the server wrote the responses counted", 0 <= written_by_server - expected <= CONNECTIONS * size + 65536,
          f"{result['requests']} x {size} = {expected} bytes counted, {written_by_server} written by the monolith"
          f" (kernel wchar; up to one response per connection in flight at the end)")
    check("the load generator read the responses counted", 0 <= result["bytes_read"] - expected <= CONNECTIONS * size,
          f"{result['bytes_read']} bytes read, {expected} counted")
    out()
    out("soak: " + ("FAILED: " + ", ".join(failed) if failed else "every check passed"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Opens each HTML report in headless Chromium and fails when the page misbehaves.

    scripts/browser-check.py REPORT.html...

A report fails when: the browser logs any console message (the reports log nothing, so a message is
an error, a CSP refusal or a warning), an exception reaches the page (`data-errors`, recorded by the
page's own error trap), the page requests anything over the network (Chromium's net log: a request
started by the page rather than by the browser itself), a chart drew nothing (the page records
`data-charts` and `data-drawn` after drawing), or the screenshot of a chart's area is blank.

Standard library only; needs `chromium` and ImageMagick's `convert`. Each browser run has a
timeout, so the check cannot hang. Exit status 0 when every report passed.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

TIMEOUT_S = 60
WIDTH, HEIGHT = 1400, 3000
BROWSER_FLAGS = [
    "--headless=new", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr", "--v=0",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}", "--virtual-time-budget=5000",
]


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("browser-check: no chromium on PATH")


def page_requests(net_log: Path, page_url: str) -> list:
    """URLs the page itself asked for (the browser's own update and account requests have no
    initiator origin and are not the page's doing)."""
    try:
        log = json.loads(net_log.read_text(errors="replace"))
    except (OSError, ValueError):
        # Chromium killed mid-write leaves the log unterminated; its events are still one per line.
        text = net_log.read_text(errors="replace").rstrip().rstrip(",")
        log = json.loads(text + "]}") if text else {"constants": {"logEventTypes": {}}, "events": []}
    start = log["constants"]["logEventTypes"].get("URL_REQUEST_START_JOB")
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if event.get("type") != start or "url" not in params:
            continue
        if params.get("initiator") == "not an origin" or params["url"] == page_url:
            continue
        urls.append(params["url"])
    return urls


def blank_rects(screenshot: Path, rects: list) -> list:
    """The chart rectangles, inside the screenshot, whose pixels are all one colour."""
    blank = []
    for x, y, w, h in rects:
        if w <= 0 or h <= 0 or y + h > HEIGHT or x + w > WIDTH:
            continue
        colours = subprocess.run(
            ["convert", str(screenshot), "-crop", f"{w}x{h}+{x}+{y}", "+repage", "-format", "%k", "info:"],
            capture_output=True, text=True, timeout=TIMEOUT_S)
        if colours.returncode != 0 or int(colours.stdout.strip() or 0) <= 1:
            blank.append(f"{w}x{h}+{x}+{y}")
    return blank


def check(report: Path, chromium: str, work: Path) -> list:
    problems = []
    url = "file://" + urllib.parse.quote(str(report.resolve()))
    net_log, screenshot = work / "net.json", work / "shot.png"
    for stale in (net_log, screenshot):
        stale.unlink(missing_ok=True)
    try:
        run = subprocess.run(
            [chromium, *BROWSER_FLAGS, f"--user-data-dir={work / 'profile'}", f"--log-net-log={net_log}",
             f"--screenshot={screenshot}", "--dump-dom", url],
            capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return [f"chromium did not finish within {TIMEOUT_S} s"]
    dom = run.stdout
    if run.returncode != 0 or "<html" not in dom:
        return [f"chromium failed (exit {run.returncode}): {run.stderr.strip()[-400:]}"]

    for line in run.stderr.splitlines():
        if ":CONSOLE" in line:
            problems.append("console: " + line.split("] ", 1)[-1])
    root = re.search(r"<html\b[^>]*>", dom)
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', root.group(0))) if root else {}
    if attributes.get("data-errors"):
        problems.append("uncaught exception: " + attributes["data-errors"])
    if "data-charts" not in attributes:
        problems.append("the page script did not finish (no data-charts on <html>)")
    else:
        charts, drawn = int(attributes["data-charts"]), int(attributes.get("data-drawn", "0"))
        if charts == 0:
            problems.append("no charts")
        elif drawn != charts:
            problems.append(f"only {drawn} of {charts} charts drew anything")
        rects = [tuple(int(v) for v in r.split(",")) for r in attributes.get("data-rects", "").split(";") if r]
        if not screenshot.exists():
            problems.append("no screenshot")
        else:
            blank = blank_rects(screenshot, rects)
            if blank:
                problems.append("blank chart areas in the screenshot: " + ", ".join(blank))
    for request in page_requests(net_log, url) if net_log.exists() else []:
        problems.append("network request: " + request)
    return problems


def main(argv: list) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    chromium = browser()
    if not shutil.which("convert"):
        sys.exit("browser-check: no ImageMagick convert on PATH")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="browser-check-") as tmp:
        for name in argv:
            report = Path(name)
            started = time.monotonic()
            if not report.is_file():
                problems = ["no such file"]
            else:
                work = Path(tmp) / str(len(os.listdir(tmp)))
                work.mkdir()
                problems = check(report, chromium, work)
            seconds = time.monotonic() - started
            if problems:
                failed += 1
                for problem in problems:
                    print(f"FAIL {report}: {problem}", file=sys.stderr)
            else:
                print(f"ok   {report} ({seconds:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

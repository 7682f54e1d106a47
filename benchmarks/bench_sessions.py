"""Eight visitors open one link at once: how many trainings the server performs (target 1)
and its peak memory, against one visitor alone.

Starts ``streamlit run app.py`` with a store of its own, opens the link in N headless
Chromium contexts at the same moment (Playwright; Debian's chromium), waits until every
page shows the run, then reads the server's log ("training ... started" lines) and its
peak resident memory (VmHWM).

    python benchmarks/bench_sessions.py [--visitors 8] [--query "steps=12000"]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SERVER = ("import logging, sys\n"
          "logging.basicConfig(level=logging.WARNING, format='%(name)s: %(message)s')\n"
          "logging.getLogger('neurondash').setLevel(logging.INFO)\n"
          "from streamlit.web import cli\n"
          "sys.argv = ['streamlit', 'run', 'app.py', '--server.headless', 'true',\n"
          "            '--server.port', sys.argv[1], '--browser.gatherUsageStats', 'false']\n"
          "cli.main()\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def visit(url: str, visitors: int) -> float:
    """Open ``url`` in ``visitors`` contexts at once; seconds until every page shows a run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = [browser.new_context().new_page() for _ in range(visitors)]
        start = time.perf_counter()
        for page in pages:  # goto returns at load; the run is awaited below
            page.goto(url, timeout=120_000, wait_until="commit")
        for page in pages:
            page.wait_for_selector("[data-testid='stMetric']", timeout=600_000)
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def measure(query: str, visitors: int) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as store:
        log = Path(store) / "server.log"
        with open(log, "w") as out:
            server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT,
                                      stdout=out, stderr=subprocess.STDOUT,
                                      env=os.environ | {"NEURONDASH_STORE": store})
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            seconds = visit(f"{url}/?{query}", visitors)
            trainings = log.read_text().count("neurondash.jobs: training")
            if os.environ.get("BENCH_LOG"):
                print(log.read_text())
            print(f"{visitors} visitor(s) at once on ?{query}: {trainings} training(s), all "
                  f"pages showing the run after {seconds:.1f} s; server peak RSS "
                  f"{peak_rss_mb(server.pid):.0f} MB")
        finally:
            server.terminate()
            server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--query", default="steps=12000",
                        help="a link that trains unasked (estimated at 4 s or less)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
        return
    measure(args.query, 1)
    measure(args.query, args.visitors)


if __name__ == "__main__":
    main()

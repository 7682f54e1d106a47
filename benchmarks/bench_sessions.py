"""Eight visitors open one link at once: how many trainings the server performs (target 1)
and its peak memory, against one visitor alone. Then a class: twenty visitors open twenty
different stored links at once (target: every page shows its run from the store, no error,
no training).

Starts ``streamlit run app.py`` with a store of its own, opens the link in N headless
Chromium contexts at the same moment (Playwright; Debian's chromium), waits until every
page shows the run, then reads the server's log ("training ... started" lines) and its
peak resident memory (VmHWM).

    python benchmarks/bench_sessions.py [--visitors 8] [--query "steps=12000"]
        [--different 20] [--no-alone]
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


def visit_each(url: str, queries: list[str]) -> tuple[float, int, int]:
    """Open every link in a context of its own at once; (seconds until every page shows its
    run, pages that said it came from the store, pages showing an error)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = [browser.new_context().new_page() for _ in queries]
        start = time.perf_counter()
        for page, query in zip(pages, queries, strict=True):
            page.goto(f"{url}/?{query}", timeout=120_000, wait_until="commit")
        for page in pages:
            page.wait_for_selector("[data-testid='stMetric']", timeout=600_000)
        seconds = time.perf_counter() - start
        stored = sum(page.get_by_text("Opened from the run store").count() > 0
                     for page in pages)
        errors = sum(page.locator("[data-testid='stException'], [data-testid='stAlert']"
                                  ).filter(has_text="error").count() > 0 for page in pages)
        browser.close()
    return seconds, stored, errors


def serve(store: str, log: Path) -> tuple[subprocess.Popen, str]:
    """A server on a free port with its own store, healthy; (process, its URL)."""
    port = free_port()
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT,
                                  stdout=out, stderr=subprocess.STDOUT,
                                  env=os.environ | {"NEURONDASH_STORE": store})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return server, url


def measure_class(query: str, visitors: int) -> None:
    """``visitors`` different stored runs (seeds of ``query``) opened at once."""
    sys.path.insert(0, str(ROOT))
    from neurondash import Config, train
    from neurondash.store import RunStore

    queries = [f"{query}&seed={seed}" for seed in range(1, visitors + 1)]
    with tempfile.TemporaryDirectory() as store:
        runs = RunStore(store)
        for linked in queries:
            runs.put(train(Config.from_query(linked)[0]))
        log = Path(store) / "server.log"
        server, url = serve(store, log)
        try:
            seconds, stored, errors = visit_each(url, queries)
            trainings = log.read_text().count("neurondash.jobs: training")
            print(f"{visitors} different stored links at once: {stored} of {visitors} pages "
                  f"showed their run from the store, {errors} with an error, {trainings} "
                  f"training(s); the last page after {seconds:.1f} s; server peak RSS "
                  f"{peak_rss_mb(server.pid):.0f} MB")
        finally:
            server.terminate()
            server.wait(timeout=20)


def measure(query: str, visitors: int) -> None:
    with tempfile.TemporaryDirectory() as store:
        log = Path(store) / "server.log"
        server, url = serve(store, log)
        try:
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
    parser.add_argument("--different", type=int, default=20,
                        help="visitors opening as many different stored links at once")
    parser.add_argument("--no-alone", action="store_true",
                        help="skip the one-visitor baseline (a smoke test)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
        return
    if not args.no_alone:
        measure(args.query, 1)
    measure(args.query, args.visitors)
    measure_class(args.query, args.different)


if __name__ == "__main__":
    main()

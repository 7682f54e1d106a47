"""What watching a training live costs the training: steps/s of the engine with one Chromium
page drawing the live views, against no page watching, side by side in one run.

- watching: a real ``streamlit run`` server (a store of its own) and one headless Chromium
  page that opens the link, clicks Train and keeps the Activations tab open, redrawn every
  second from the latest snapshot until the run ends; steps/s from the stored run's
  training time (``Run.elapsed``: the engine's own clock, page start-up excluded);
- not watching: the same Config trained by ``train()`` in this process, the server idle.

Alternated, several seeds each (a new seed per pair, so the store never answers for a
training), for the default model and for depth 5 x width 512. Prints the BLAS kernel
threadpoolctl reports and each pair's steps/s and their ratio (watching / not watching),
and the CPU seconds Chromium and the server used while the page was live: from its first
live draw to its last, which runs past the training's end (the page learns of it within a
second and then draws the whole run), so the server's CPU seconds fall short of that time
by the part after the end.

Two layouts of the two cores: ``shared``, the browser and the server on both (a visitor's
browser here takes CPU from the training, as on no real deployment, where it runs on the
visitor's machine), and ``separate``, the server (and the unwatched training) on core 0
and Chromium on core 1: what watching costs the server itself (drawing the views, in the
training's process).

Then, how long Stop takes to show the stopped run: from the click on Stop training to
"Stopped at step k" on the page, for a few 60,000-step runs.

    python benchmarks/live_cost.py [--repeats 3] [--quick] [--layout shared|separate|both]
        [--model '20,000 steps'] [--stops 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neurondash import Config, train  # noqa: E402
from neurondash.cost import estimate_seconds  # noqa: E402
from neurondash.engine.train import blas_description  # noqa: E402
from neurondash.identity import run_key  # noqa: E402
from neurondash.run_source import AUTO_SECONDS  # noqa: E402
from neurondash.store import RunStore  # noqa: E402
from tests.ui.test_browser import ARGS, CHROMIUM, streamlit_server  # noqa: E402

MODELS = {"default model, 20,000 steps": "steps=20000",
          "default model, 100,000 steps": "steps=100000",
          "depth 5 x width 512, 3,000 steps": "steps=3000&depth=5&width=512"}
"""The default model at two lengths: about 3 s of training, in which the page's start (its
first full rerun, the first live draw building the views' theory and chart templates)
falls, and about 14 s, most of it redraws once a second."""
QUICK = {"default model, 8,000 steps": "steps=8000"}
"""The test suite's short run: each still long enough to be drawn live."""
LIVE = "[data-testid='stCaptionContainer']:has-text('Live: the views below')"


def cpu_seconds(name: bytes) -> float:
    """CPU seconds (user + system) used so far by the processes whose command line holds
    ``name`` (from /proc; 0 where there is none)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if name not in cmdline.read():
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def settled(name: bytes, idle_share: float = 0.05, seconds: float = 0.5) -> None:
    """Wait (at most 30 s) until the processes named ``name`` use less than ``idle_share``
    of a core over ``seconds``: after a watched run the server still draws the finished
    page on the core the next unwatched training takes."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        before = cpu_seconds(name)
        time.sleep(seconds)
        if cpu_seconds(name) - before < idle_share * seconds:
            return


def watched(url: str, store: Path, query: str) -> tuple[float, dict[str, float]]:
    """Steps/s of ``query`` trained by the server while one page watches it live, and the
    CPU seconds the browser and the server (its training included) used while the page
    was live, with that time itself ("wall")."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(f"{url}/?{query}&view=Activations", timeout=60_000)
        if estimate_seconds(Config.from_query(query)[0]) > AUTO_SECONDS:
            page.get_by_role("button", name="Train", exact=True).click()  # a long link waits for it
        page.wait_for_selector(LIVE, timeout=60_000)
        before = {"browser": cpu_seconds(b"chrom"), "server": cpu_seconds(b"streamlit"),
                  "wall": time.monotonic()}
        page.wait_for_selector(LIVE, state="detached", timeout=900_000)
        used = {"browser": cpu_seconds(b"chrom"), "server": cpu_seconds(b"streamlit"),
                "wall": time.monotonic()}
        page.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
        browser.close()
    config = Config.from_query(query)[0]
    run = RunStore(store).get(run_key(config))
    if run is None or run.status != "finished":
        raise RuntimeError(f"the watched run of {query} was not stored as finished")
    return config.total_steps / run.elapsed, {k: used[k] - before[k] for k in used}


def unwatched(query: str, cores: set[int]) -> float:
    """Steps/s of ``query`` trained in this process, on ``cores``."""
    config = Config.from_query(query)[0]
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        return config.total_steps / train(config).elapsed
    finally:
        os.sched_setaffinity(0, mine)


LAYOUTS = {"shared": ({0, 1}, {0, 1}), "separate": ({0}, {1})}
"""Cores of the server (and the unwatched training), and of this process and the Chromium
it launches (children inherit their parent's cores)."""


def measure(queries: dict[str, str], layout: str, repeats: int) -> None:
    server_cores, browser_cores = LAYOUTS[layout]
    mine = os.sched_getaffinity(0)
    print(f"\n== layout {layout}: server on cores {sorted(server_cores)}, Chromium on "
          f"{sorted(browser_cores)}")
    with tempfile.TemporaryDirectory() as folder:
        os.sched_setaffinity(0, server_cores)
        with streamlit_server({"NEURONDASH_STORE": folder}) as url:
            os.sched_setaffinity(0, browser_cores)
            try:
                for label, query in queries.items():
                    ratios = []
                    print(f"\n{label} ({query}):")
                    for seed in range(1, repeats + 1):
                        seeded = f"{query}&seed={100 + seed}"
                        settled(b"streamlit")
                        off = unwatched(seeded, server_cores)
                        on, cpu = watched(url, Path(folder), seeded)
                        ratios.append(on / off)
                        print(f"  seed {100 + seed}: not watching {off:,.0f} steps/s, "
                              f"watching {on:,.0f} steps/s, ratio {on / off:.3f}; while "
                              f"live ({cpu['wall']:.1f} s) Chromium used "
                              f"{cpu['browser']:.1f} CPU-s, the server (training included) "
                              f"{cpu['server']:.1f}")
                    print(f"  median ratio (watching / not watching): "
                          f"{statistics.median(ratios):.3f}")
            finally:
                os.sched_setaffinity(0, mine)


STOP_QUERY = "steps=60000"
"""A run long enough to be stopped mid-way (about 10 s here)."""


def stop_latency(stops: int) -> None:
    """Seconds from a click on Stop training to the stopped run on screen ("Stopped at step
    k"), for ``stops`` runs (a new seed each), each stopped 1.5 s after it went live."""
    import re

    from playwright.sync_api import sync_playwright

    print(f"\n== Stop: click to the stopped run on screen ({STOP_QUERY}, stopped 1.5 s into "
          "the live view)")
    waits = []
    with tempfile.TemporaryDirectory() as folder, \
            streamlit_server({"NEURONDASH_STORE": folder}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for seed in range(1, stops + 1):
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.goto(f"{url}/?{STOP_QUERY}&seed={300 + seed}", timeout=60_000)
            page.get_by_role("button", name="Train", exact=True).click()
            page.wait_for_selector(LIVE, timeout=60_000)
            page.wait_for_timeout(1500)
            start = time.perf_counter()
            page.get_by_role("button", name="Stop training").click()
            page.get_by_text(re.compile(r"Stopped at step [\d,]+ of ")).first.wait_for(
                timeout=60_000)
            waits.append(time.perf_counter() - start)
            print(f"  seed {300 + seed}: {waits[-1]:.2f} s")
            page.close()
        browser.close()
    print(f"  median click to stopped run: {statistics.median(waits):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test)")
    parser.add_argument("--layout", choices=[*LAYOUTS, "both"], default="both")
    parser.add_argument("--model", default="", help="only the models whose label holds this")
    parser.add_argument("--stops", type=int, default=4,
                        help="runs stopped to time Stop (0: none)")
    args = parser.parse_args()
    print(f"BLAS: {blas_description()}; {os.cpu_count()} cores")
    for layout in (LAYOUTS if args.layout == "both" else [args.layout]):
        models = QUICK if args.quick else MODELS
        measure({k: v for k, v in models.items() if args.model in k}, layout, args.repeats)
    if args.stops:
        stop_latency(args.stops)


if __name__ == "__main__":
    main()

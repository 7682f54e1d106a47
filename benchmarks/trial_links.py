"""Every search trial opens from its link: run searches of every method whose values fall off
any slider grid (log-uniform, uniform, off-grid choices; trials stopped at a rung), then
open each trial's link in the dashboard (Streamlit's AppTest, a fresh session each) with
training forbidden, and check that the page holds the trial's exact Config and shows the
stored run's numbers.

Prints the count; exits 1 if any trial failed to open.

    python benchmarks/trial_links.py [--trials 200]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEARCHES = (
    ("tpe", 3, ["lr=auto", "opt=choice(sgd,adamw)", "init_scale=loguniform(0.05,5)",
                "wd=loguniform(1e-4,0.3) if opt=adamw"]),
    ("random", 1, ["lr=loguniform(1e-3,1)", "bias_init=uniform(0,0.5)",
                   "out_scale=uniform(0.01,2)", "act=choice(tanh,relu,gelu)"]),
    ("grid", 1, ["lr=0.0137,0.231,0.87", "init_scale=0.73,1.37", "bias_init=0.05,0.173"]),
    ("cmaes", 2, ["lr=loguniform(1e-3,1)", "init_scale=uniform(0.3,3)",
                  "batch=uniform(8,100)"]),
    ("random", 1, ["lr=auto", "opt=choice(momentum,adam)", "batch=uniform(8,100)",
                   "wd=uniform(0,0.01)", "width=choice(5;7;11)"]),
)
"""(method, rungs, ranges): a trial stopped at a rung is a link too."""
BASE = "task=moons&depth=1&width=8&steps=40&snap_every=10"


def trial_links(total: int) -> list[tuple[str, object]]:
    """(the trial's link, its Config) for ``total`` trials over the searches, run into the
    store named by NEURONDASH_STORE: each trial's furthest run, as its leaderboard row."""
    from neurondash.config import Config
    from neurondash.search import SearchSpec, parse_ranges, run_search
    from neurondash.store import shared_store
    from neurondash.sweep import SerialExecutor

    base = Config.from_query(BASE)[0]
    per_search = math.ceil(total / len(SEARCHES))
    links = []
    number = 0
    while number < len(SEARCHES) or len(links) < total:  # more random searches if short
        method, rungs, ranges = SEARCHES[number] if number < len(SEARCHES) else SEARCHES[1]
        spec = SearchSpec(base, parse_ranges(ranges), trials=per_search, method=method,
                          seed=number, rungs=rungs)
        number += 1
        frame = run_search(spec, SerialExecutor(), store=shared_store())
        ran = frame[(frame["repeat"] == 0) & (frame["status"] != "not run")]
        links += [(query, Config.from_query(query)[0]) for query in ran["query"]]
    return links[:total]


def opens(link: str, config, app: str) -> str | None:
    """None when the link opens the stored run exactly; else what went wrong."""
    from streamlit.testing.v1 import AppTest

    from neurondash.identity import run_key
    from neurondash.store import shared_store

    at = AppTest.from_file(app, default_timeout=60)
    for part in filter(None, link.split("&")):
        name, value = part.split("=", 1)
        at.query_params[name] = value
    at.run()
    if at.exception:
        return f"exception {at.exception[0].value}"
    if at.session_state["url_warnings"]:
        return f"link warning {at.session_state['url_warnings'][0]}"
    shelf = at.session_state["runs"]
    shown = shelf.get(list(shelf)[-1]) if len(shelf) else None
    if shown is None:
        return "no run shown (it would have had to train)"
    if shown.config != config:
        return f"page holds {shown.config.to_query()}"
    stored = shared_store().get(run_key(config, None))
    if stored is None or shown.final != stored.final:
        return "numbers differ from the stored run"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    os.environ["NEURONDASH_STORE"] = tempfile.mkdtemp(prefix="trial-links-")
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    from neurondash import run_source
    from neurondash.ui import app as dashboard

    def no_training(*_args, **_kwargs):
        raise AssertionError("a trial's link trained")

    run_source.AUTO_SECONDS = 0.0  # nothing may train unasked ...
    dashboard.train = no_training  # ... nor be trained at all
    start = time.perf_counter()
    links = trial_links(args.trials)
    searched = time.perf_counter() - start
    failures = []
    app = str(ROOT / "app.py")
    for link, config in links:
        problem = opens(link, config, app)
        if problem is not None:
            failures.append((link, problem))
    from neurondash.ui.sidebar import LOG_GRIDS

    off_grid = sum(any(getattr(config, name) not in grid for name, grid in LOG_GRIDS.items())
                   for _, config in links)
    print(f"searches ({', '.join(m for m, _, _ in SEARCHES)}, more random) trained "
          f"{len(links)} trials in {searched:.1f} s; {off_grid} of them with a value off "
          "its slider's grid")
    print(f"{len(links) - len(failures)} of {len(links)} trials opened from their links with "
          f"no training and the stored numbers ({time.perf_counter() - start - searched:.1f} s)")
    for link, problem in failures[:20]:
        print(f"  FAILED {link}: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

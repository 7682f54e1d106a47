"""The run store: how long a stored run takes to open against how long it took to train.

For each Config: its training time; its body's size; reading it back from disk in a fresh
store object (decompress, parse, check against the engine); and the dashboard's first page
for its link through Streamlit's AppTest, once with an empty store (it trains) and once with
the run stored (it opens); how many such runs the default cap holds. Target: a stored run
opens within 1 s of app time, whatever its training cost. ``--canonical`` adds makemore
part 3's run (depth 5, width 100, BatchNorm, 200k steps: about 80 s of training).

    python benchmarks/bench_store.py [--canonical]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
APP = str(ROOT / "app.py")

from neurondash import Config  # noqa: E402
from neurondash.identity import run_key  # noqa: E402
from neurondash.store import DEFAULT_MAX_BYTES, RunStore  # noqa: E402

CANONICAL = Config(depth=5, width="100", norm="batch", steps=200_000)


def first_page_seconds(config: Config) -> float:
    """Wall time of the dashboard's first run for the Config's link (AppTest)."""
    at = AppTest.from_file(APP, default_timeout=900)
    for key, value in config.to_dict().items():
        if value != Config().to_dict()[key]:
            at.query_params[key] = str(value)
    start = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - start
    if at.exception or not at.metric:
        raise RuntimeError(f"the page for {config.to_query()} did not show a run")
    return seconds


def measure(label: str, config: Config) -> None:
    with tempfile.TemporaryDirectory() as root:
        os.environ["NEURONDASH_STORE"] = root
        trained_page = first_page_seconds(config)  # trains (no size limit: see below)
        store = RunStore(root)
        key = run_key(config)
        (row,) = [row for row in store.list() if row.key == key]
        start = time.perf_counter()
        run = RunStore(root).get(key)
        read = time.perf_counter() - start
        stored_page = first_page_seconds(config)
    print(f"{label} ({config.to_query() or 'defaults'}): trained in {run.elapsed:.2f} s; "
          f"stored body {row.bytes / 1e6:.2f} MB ({row.bytes:,} bytes): "
          f"{DEFAULT_MAX_BYTES // row.bytes:,} such runs fit in the default cap "
          f"({DEFAULT_MAX_BYTES / 1e6:,.0f} MB)")
    print(f"  read back from disk (fresh store object): {1000 * read:.0f} ms")
    print(f"  dashboard first page: {trained_page:.2f} s with an empty store (trains), "
          f"{stored_page:.2f} s with the run stored ({stored_page / trained_page:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--canonical", action="store_true",
                        help="also makemore part 3's 200k-step run (minutes)")
    args = parser.parse_args()
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    from neurondash import run_source

    run_source.AUTO_SECONDS = float("inf")  # the benchmark's first page trains any size
    measure("default Config", Config())
    if args.canonical:
        measure("makemore part 3", CANONICAL)


if __name__ == "__main__":
    main()

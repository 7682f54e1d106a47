"""Stored size of runs: version 2 of the run file against version 3, and what reading one
back and rebuilding its snapshot weights costs.

A store body is the run file gzip-compressed (``RunStore.put``). Version 2 copied the
weights out at every snapshot and kept histograms as float columns; version 3 keeps a
digest of the weights, which training replays, integer histogram counts and compact
exact arrays (``neurondash/runfile.py``). The version-2 body here is the same run written
as version 2 wrote it (every field as then, the weights at each snapshot included), so
the two sizes compare the encodings of one run.

Runs measured: the default Config; with ``--lecture`` makemore part 3's 200k-step run
(depth 5, width 100, BatchNorm: about a minute of training); and the runs of a 50-trial
random search over the learning rate and init scale of the default run (``--trials``,
0 to skip), stored by ``python -m neurondash sweep`` into a scratch store.

    python benchmarks/bench_run_size.py [--lecture] [--trials 50]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neurondash import Config, Run, train  # noqa: E402
from neurondash.engine.train import blas_description  # noqa: E402
from neurondash.run_encoding import encode_array  # noqa: E402
from neurondash.store import DEFAULT_MAX_BYTES, RunStore  # noqa: E402

LECTURE = Config(depth=5, width="100", norm="batch", steps=200_000)
TARGETS = {"default": 320_000, "lecture": 1_000_000}
"""Issue 27's targets for the stored body (bytes)."""


def body(text: str) -> int:
    """Bytes of a store body holding this run file (``RunStore.put``'s compression)."""
    return len(gzip.compress(text.encode(), compresslevel=6, mtime=0))


def version_2_text(run: Run) -> str:
    """``run`` as version 2 wrote it: plain arrays, histograms as a table, the weights of
    every kept snapshot copied out (rebuilt by replay for a run read from a file)."""
    blob = run.to_json_dict(compact=False)
    del blob["replay"], blob["checkpoints"]
    blob["version"] = 2
    blob["model_states"] = {
        str(step): {"params": encode_array(state["params"]),
                    "buffers": {k: encode_array(v) for k, v in state["buffers"].items()}}
        for step, state in ((s, run.model_states[s]) for s in run.model_states)}
    return json.dumps(blob, allow_nan=False)


def measure(label: str, run: Run) -> tuple[int, int]:
    before, text = body(version_2_text(run)), run.to_json()
    after = body(text)
    start = time.perf_counter()
    back = Run.from_json(text)
    read = time.perf_counter() - start
    steps = list(back.model_states)
    replays = []
    for step in (steps[len(steps) // 2], steps[-2]) if len(steps) > 2 else ():
        back = Run.from_json(text)  # a fresh run: nothing replayed yet
        start = time.perf_counter()
        back.model(step)
        replays.append(f"step {step:,} in {time.perf_counter() - start:.2f} s")
    target = TARGETS.get(label)
    verdict = "" if target is None else (
        f"; target <= {target / 1e3:,.0f} KB: {'met' if after <= target else 'NOT met'}")
    print(f"{label} ({run.config.to_query() or 'defaults'}): version 2 {before:,} bytes, "
          f"version 3 {after:,} bytes ({before / after:.1f}x smaller){verdict}")
    print(f"  read back in {1000 * read:.0f} ms; {len(back.checkpoints)} kept training "
          f"states; weights rebuilt by replay: {', '.join(replays) or 'none kept'}")
    return before, after


def search_sizes(trials: int) -> tuple[int, int]:
    """Total version-2 and version-3 bytes of a ``trials``-trial search's stored runs."""
    with tempfile.TemporaryDirectory() as root:
        command = [sys.executable, "-m", "neurondash", "sweep",
                   "--sample", "lr=loguniform(0.01,0.5)",
                   "--sample", "init_scale=uniform(0.5,2)", "--method", "random",
                   "--trials", str(trials), "--executor", "serial", "--store", root,
                   "--out", str(Path(root) / "sweep.csv")]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "NEURONDASH_STORE": root})
        seconds = time.perf_counter() - start
        store = RunStore(root)
        rows = store.list()
        after = sum(row.bytes for row in rows)
        before = sum(body(version_2_text(store.get(row.key, opened=False))) for row in rows)
    print(f"{trials}-trial search ({len(rows)} runs stored, {seconds:.0f} s): version 2 "
          f"{before:,} bytes, version 3 {after:,} bytes in total ({before / after:.1f}x "
          "smaller)")
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lecture", action="store_true",
                        help="also makemore part 3's 200k-step run (about a minute)")
    parser.add_argument("--trials", type=int, default=50,
                        help="trials of the search whose runs are measured (0: none)")
    args = parser.parse_args()
    print(f"BLAS: {blas_description()}")
    before, after = measure("default", train(Config()))
    print(f"  the default cap ({DEFAULT_MAX_BYTES / 1e6:,.0f} MB) holds "
          f"{DEFAULT_MAX_BYTES // before:,} default runs of version 2, "
          f"{DEFAULT_MAX_BYTES // after:,} of version 3")
    if args.lecture:
        measure("lecture", train(LECTURE))
    if args.trials:
        search_sizes(args.trials)


if __name__ == "__main__":
    main()

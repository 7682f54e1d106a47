"""How far a search gets without a person in the loop: the names task's defaults, the
search's default ranges, a budget in seconds, the local process pool. Prints the best
validation loss against seconds as runs finish, and the best run's command.

By hand (six rounds of coordinate descent, ~7 minutes of machine time) the best was val
1.994; the target for a 10-minute search on 2 cores is <= 2.00.

    python benchmarks/search_trajectory.py [--budget 600] [--workers 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurondash import Config  # noqa: E402
from neurondash.search import (  # noqa: E402
    SearchSpec,
    default_ranges,
    leaderboard,
    run_search,
)
from neurondash.store import RunStore  # noqa: E402
from neurondash.sweep import make_executor  # noqa: E402


def blas() -> str:
    from threadpoolctl import threadpool_info

    return ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                     for i in threadpool_info() if i.get("user_api") == "blas")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the search's seed")
    parser.add_argument("--method", choices=("adaptive", "random"), default="adaptive")
    parser.add_argument("--trials", type=int, default=150,
                        help="trials at most (adaptive: a third of them drawn at random)")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per run (default: the Config default)")
    args = parser.parse_args()
    base = Config() if args.steps is None else Config(steps=args.steps)
    spec = SearchSpec(base, default_ranges(base), trials=args.trials, seed=args.seed,
                      method=args.method, budget_seconds=args.budget)
    print(f"BLAS: {blas()}; {os.cpu_count()} cores, {args.workers} workers")
    print(f"{args.method} search; ranges: " + ", ".join(r.spell() for r in spec.ranges)
          + f"; steps {base.steps}; budget {args.budget:g} s")
    results: dict[int, dict] = {}
    runs: list = []  # filled by run_search, round after round
    start = time.monotonic()
    best = [math.inf]

    def show(done: int, total: int) -> None:
        finished = [r["val_loss"] for r in results.values() if math.isfinite(r["val_loss"])]
        if finished and min(finished) < best[0]:
            best[0] = min(finished)
            index = min((i for i in results if math.isfinite(results[i]["val_loss"])),
                        key=lambda i: results[i]["val_loss"])
            print(f"  {time.monotonic() - start:6.1f} s  {len(results):4d} runs  best val "
                  f"{best[0]:.4f}  {runs[index][2].to_query()}", flush=True)

    with tempfile.TemporaryDirectory() as root, \
            make_executor("process", args.workers, wait=True) as executor:
        frame = run_search(spec, executor, on_result=show, results=results,
                           store=RunStore(root), started=start, runs=runs)
    seconds = time.monotonic() - start
    board = leaderboard(frame, spec.searched)
    top = board.iloc[0]
    print(f"after {seconds:.0f} s: {len(results)} runs; best val {top['val_loss']:.4f} "
          f"(target <= 2.00)")
    print(f"reproduce: python -m neurondash train --query '{top['query']}'")


if __name__ == "__main__":
    main()

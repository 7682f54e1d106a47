"""Our search against plain Optuna TPE, side by side: the names task's defaults, the search's
default ranges, the same wall budget, one process and one BLAS thread each, run at the same
time (so both see the same machine load), for several search seeds.

- ours: TPE (multivariate, grouped, 10 random start-up trials) with 3 rungs of successive
  halving, a promoted trial continued from its shorter run, the run store;
- plain: the same sampler and space, every trial trained in full, no store, no warm start.

Then a second search of ours from each seed's store (warm-started), with half the budget,
two at a time: does it beat that first search's best? Prints each search's trajectory (seconds,
runs, best validation loss) and a table.

    python benchmarks/search_vs_tpe.py [--budget 600] [--seeds 0 1 2] [--warm-budget 300]
        [--rungs 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurondash import Config  # noqa: E402
from neurondash.engine.train import blas_description  # noqa: E402
from neurondash.search import (  # noqa: E402
    SearchLog,
    SearchSpec,
    default_ranges,
    leaderboard,
    run_search,
)
from neurondash.store import RunStore  # noqa: E402
from neurondash.sweep import SerialExecutor  # noqa: E402

KINDS = ("ours", "plain")
OURS_RUNGS = 3
"""Successive-halving rungs of our search (plain TPE trains every trial in full)."""


def one_search(kind: str, seed: int, budget: float, store_dir: str | None, out: str,
               warm: bool, rungs: int = OURS_RUNGS, steps: int | None = None) -> None:
    """One search in this process; its trajectory and best go to ``out`` as JSON."""
    base = Config() if steps is None else Config(steps=steps)
    spec = SearchSpec(base, default_ranges(base), trials=500, seed=seed, method="tpe",
                      budget_seconds=budget, rungs=rungs if kind == "ours" else 1)
    store = RunStore(store_dir) if store_dir else None
    log, start, best, trajectory = SearchLog(), time.monotonic(), [math.inf], []

    def seen(done: int, total: int) -> None:
        whole = [r["val_loss"] for i, r in log.results.items()
                 if log.runs[i].config.until == 0 and log.runs[i].origin == "search"
                 and r.get("status") == "finished" and math.isfinite(r["val_loss"])]
        if whole and min(whole) < best[0]:
            best[0] = min(whole)
            trajectory.append((round(time.monotonic() - start, 1), len(log.results),
                               round(best[0], 4)))

    frame = run_search(spec, SerialExecutor(), on_result=seen, log=log, store=store,
                       started=start, warm=warm)
    board = leaderboard(frame[frame["origin"] == "search"], spec.searched)
    whole = board[board["whole"]]
    Path(out).write_text(json.dumps({
        "kind": kind, "seed": seed, "warm": warm, "runs": len(log.results),
        "trials": int(frame["trial"].nunique()),
        "stored_trials": int((frame["origin"] == "store").sum()),
        "best": float(whole["val_loss"].iloc[0]) if len(whole) else math.nan,
        "query": str(whole["query"].iloc[0]) if len(whole) else "",
        "trajectory": trajectory, "seconds": round(time.monotonic() - start, 1)}))


def launch(kind: str, seed: int, budget: float, store_dir: str | None, out: Path,
           warm: bool = False, rungs: int = OURS_RUNGS,
           steps: int | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    args = [sys.executable, __file__, "--one", kind, "--seeds", str(seed), "--budget",
            str(budget), "--out", str(out), "--rungs", str(rungs),
            *(["--store", store_dir] if store_dir else []),
            *(["--warm"] if warm else []), *(["--steps", str(steps)] if steps else [])]
    return subprocess.Popen(args, env=env)


def show(result: dict) -> None:
    steps = "  ".join(f"{t:.0f}s:{b:.4f}" for t, _, b in result["trajectory"])
    print(f"  {result['kind']:5s} seed {result['seed']}: best {result['best']:.4f} after "
          f"{result['runs']} runs, {result['trials']} trials; trajectory {steps}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0)
    parser.add_argument("--warm-budget", type=float, default=300.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rungs", type=int, default=OURS_RUNGS,
                        help="successive-halving rungs of our search")
    parser.add_argument("--steps", type=int, default=None,
                        help="the base run's steps (default: the names task's default; "
                             "fewer only for a quick check of the script)")
    parser.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_search(args.one, args.seeds[0], args.budget, args.store, args.out, args.warm,
                   args.rungs, args.steps)
        return
    print(f"BLAS: {blas_description()}; {os.cpu_count()} cores; budget {args.budget:g} s; "
          f"our rungs {args.rungs}; ranges: "
          + ", ".join(r.spell() for r in default_ranges(Config())), flush=True)
    results: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory() as root:
        for seed in args.seeds:
            outs = {kind: Path(root) / f"{kind}-{seed}.json" for kind in KINDS}
            procs = [launch("ours", seed, args.budget, f"{root}/store-{seed}", outs["ours"],
                            rungs=args.rungs, steps=args.steps),
                     launch("plain", seed, args.budget, None, outs["plain"], steps=args.steps)]
            for proc in procs:
                proc.wait()
            for kind, out in outs.items():
                results[kind, seed] = json.loads(out.read_text())
                show(results[kind, seed])
        warm: dict[int, dict] = {}
        for pair in (args.seeds[i:i + 2] for i in range(0, len(args.seeds), 2)):
            outs = {seed: Path(root) / f"warm-{seed}.json" for seed in pair}
            for proc in [launch("ours", seed, args.warm_budget, f"{root}/store-{seed}",
                                out, warm=True, rungs=args.rungs, steps=args.steps)
                         for seed, out in outs.items()]:
                proc.wait()
            warm |= {seed: json.loads(out.read_text()) for seed, out in outs.items()}
    print("\n| seed | ours | runs | plain TPE | runs |\n|---|---|---|---|---|")
    for seed in args.seeds:
        ours, plain = results["ours", seed], results["plain", seed]
        print(f"| {seed} | {ours['best']:.4f} | {ours['runs']} | {plain['best']:.4f} | "
              f"{plain['runs']} |")
    median = {kind: sorted(results[kind, s]["best"] for s in args.seeds)[len(args.seeds) // 2]
              for kind in KINDS}
    print(f"median best: ours {median['ours']:.4f}, plain TPE {median['plain']:.4f} "
          f"(target: ours <= 1.98 and ahead)")
    beaten = 0
    for seed in args.seeds:
        first, again = results["ours", seed]["best"], warm[seed]["best"]
        beaten += again < first
        print(f"warm start: a {args.warm_budget:g} s search from seed {seed}'s store "
              f"({warm[seed]['stored_trials']} stored trials told first) reached "
              f"{again:.4f} against the first search's {first:.4f}: "
              f"{'better' if again < first else 'not better'}")
        show(warm[seed])
    print(f"warm start better than its first search on {beaten} of {len(args.seeds)} seeds")


if __name__ == "__main__":
    main()

"""``sweep``: a grid, TPE, random or CMA-ES search from --vary values and --sample ranges,
warm-started from the run store, optionally with rungs; the leaderboard and the settings'
importances printed, one row per trial and seed written as CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..config import SEARCHABLE, Config
from ..search import (
    MAX_RUNGS,
    MAX_SEARCHED,
    MAX_TRIALS,
    METHODS,
    SearchError,
    SearchLog,
    SearchSpec,
    choice_range,
    importance_frame,
    leaderboard,
    parse_range,
    run_search,
    rung_words,
    skipped_frame,
)
from ..sweep import SCHEDULER_ENV, SchedulerError, axes_from_pairs, make_executor
from .flags import (
    add_setting_flags,
    add_store_flags,
    add_words_flag,
    open_store,
    positive_int,
    settings_from_args,
    write_output,
)

METRICS = ("val_loss", "val_acc", "train_loss")


def add_parser(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep", help="search settings (grid, TPE, random or CMA-ES, with seed repeats), "
                      "write a CSV",
        description=f"Search up to {MAX_SEARCHED} settings over a base Config (flags as for "
                    "train): --vary gives values (every combination is trained), --sample "
                    "gives ranges (Optuna's TPE draws the trials). Stored runs of the same "
                    "search space are told to the sampler first. Results are sorted, best "
                    "first. Searchable: " + ", ".join(SEARCHABLE) + ".",
        epilog="ranges: lr=auto (log-uniform over the optimizer's useful range), "
               "lr=loguniform(1e-4,1e-1), init_scale=uniform(0.5,2), "
               "width=choice(64;128;256), 'wd=loguniform(1e-4,0.1) if opt=adamw'")
    add_setting_flags(sweep)
    sweep.add_argument("--query", default="", help="base Config as a dashboard query")
    add_words_flag(sweep)
    sweep.add_argument("--vary", action="append", default=[], metavar="NAME=V1,V2,...",
                       help="a setting and its values (widths are separated by ';')")
    sweep.add_argument("--sample", action="append", default=[], metavar="RANGE",
                       help="a setting's range for random search (see below)")
    sweep.add_argument("--method", choices=tuple(METHODS), default=None,
                       help="grid when every setting has values, else tpe: "
                            + METHODS["tpe"])
    sweep.add_argument("--trials", type=positive_int, default=20,
                       help="trials to draw (default 20)")
    sweep.add_argument("--rungs", type=positive_int, default=1,
                       help=f"1 to {MAX_RUNGS}: {rung_words(3)}")
    sweep.add_argument("--cold", action="store_true",
                       help="do not tell the sampler the stored runs of this space first")
    sweep.add_argument("--repeats", type=positive_int, default=1,
                       help="seeds per trial, all on the first seed's data split")
    sweep.add_argument("--budget", type=parse_budget, default=(None, None),
                       metavar="N|SECONDS s",
                       help="at most N runs, or stop starting runs after e.g. 600s or 10m")
    sweep.add_argument("--search-seed", type=int, default=0,
                       help="seed of the random draw (the same seed gives the same trials)")
    sweep.add_argument("--metric", choices=METRICS, default="val_loss",
                       help="what ranks the trials")
    sweep.add_argument("--sort", default=None,
                       help="column to sort the printed table by (default: the metric)")
    sweep.add_argument("--executor", choices=("process", "serial", "dask"), default="process")
    sweep.add_argument("--workers", type=positive_int, default=None,
                       help="process pool size (default: one per core)")
    sweep.add_argument("--scheduler", default=None, help="Dask scheduler address "
                       f"(default: ${SCHEDULER_ENV})")
    sweep.add_argument("--out", type=Path, default=Path("sweep.csv"),
                       help="results CSV, one row per run")
    add_store_flags(sweep)


def main(args: argparse.Namespace) -> int:
    try:
        base, words = settings_from_args(args)
        spec = search_from_args(args, base)
    except ValueError as err:  # ConfigError and SearchError included
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{spec.plan()} Runs of {base.steps} steps over "
          + ", ".join(r.spell() for r in spec.ranges), file=sys.stderr)
    log = SearchLog()

    def show(done: int, total: int) -> None:
        print(f"  {done}/{total} runs done", file=sys.stderr)

    try:
        with make_executor(args.executor, args.workers, args.scheduler,
                           wait=True) as executor:
            frame = run_search(spec, executor, on_result=show, log=log,
                               words=tuple(words) if words else None, store=open_store(args),
                               warm=not args.cold)
    except SchedulerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in skipped_frame(spec, log).itertuples():
        print(f"  skipped trial {row.trial}: {row.skipped}", file=sys.stderr)
    print_leaderboard(frame, spec, args.metric, args.sort)
    table = importance_frame(spec, frame)
    if len(table):
        print("what mattered (share of the variance of the whole trials' validation loss):")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return write_output(args.out, lambda path: frame.to_csv(path, index=False))


def search_from_args(args: argparse.Namespace, base: Config) -> SearchSpec:
    """--vary values and --sample ranges -> a SearchSpec (grid when every range is a list
    of values, unless --method says otherwise)."""
    if not args.vary and not args.sample:
        raise SearchError("give --vary NAME=V1,V2 or --sample RANGE (see --help)")
    ranges = [choice_range(name, values) for name, values in axes_from_pairs(args.vary).items()]
    ranges += [parse_range(text) for text in args.sample]
    method = args.method or ("grid" if all(r.kind == "choice" for r in ranges) else "tpe")
    runs_cap, seconds = args.budget
    trials = args.trials
    if runs_cap is not None:
        trials = max(1, runs_cap // args.repeats)
    spec = SearchSpec(base, tuple(ranges), trials=min(trials, MAX_TRIALS),
                      repeats=args.repeats, method=method, seed=args.search_seed,
                      budget_seconds=seconds, rungs=args.rungs)
    runs = spec.trial_count * spec.repeats
    if method == "grid" and runs_cap is not None and runs > runs_cap:
        raise SearchError(f"the grid has {runs} runs, over --budget {runs_cap}")
    return spec


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """'50' -> at most 50 runs; '600s', '10m', '1.5h' -> seconds of starting runs."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    text = text.strip().lower()
    try:
        if text and text[-1] in units:
            seconds = float(text[:-1]) * units[text[-1]]
            if not seconds > 0 or seconds == float("inf"):
                raise ValueError
            return None, seconds
        runs = int(text)
        if runs < 1:
            raise ValueError
        return runs, None
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a budget: a number of runs (50) "
                                         "or of seconds (600s, 10m)") from None


def print_leaderboard(frame, spec: SearchSpec, metric: str, sort: str | None) -> None:
    """The trials best first (mean and sd over repeats), and the best one's command."""
    board = leaderboard(frame, [n for n in spec.searched if n != "seed"], metric,
                        ascending=metric != "val_acc")
    if board.empty:
        print("no run finished")
        return
    if sort is not None:
        if sort not in board.columns:
            print(f"warning: --sort {sort!r} is not a column; sorted by {metric}",
                  file=sys.stderr)
        else:
            board = board.sort_values(sort, kind="stable")
    shown = board.drop(columns=["query", "whole"]).copy()
    if shown["trained"].str.startswith("all").all():
        shown = shown.drop(columns="trained")
    if (shown["origin"] == "search").all():
        shown = shown.drop(columns="origin")
    shown["findings"] = shown["findings"].fillna("").str.slice(0, 40)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    best = board.iloc[0] if sort is None else board.sort_values(
        metric, ascending=metric != "val_acc").iloc[0]
    spread = (f" +- {best[metric + '_sd']:.4f} over {int(best['repeats'])} seeds"
              if best["repeats"] > 1 else "")
    print(f"best: {metric} {best[metric]:.4f}{spread} (trial {int(best['trial'])}); "
          f"reproduce: python -m neurondash train --query '{best['query']}'")
    not_run = int((frame["status"] == "not run").sum())
    if not_run:
        print(f"{not_run} run(s) not started (budget or stop)")

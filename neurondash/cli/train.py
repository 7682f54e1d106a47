"""``train``: one Config, from the store when it holds the run, else trained here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..engine.train import Progress
from ..identity import run_key
from ..run import Run
from ..store import RunStore
from ..training import train
from .flags import (
    add_setting_flags,
    add_store_flags,
    add_words_flag,
    open_store,
    settings_from_args,
    write_output,
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("train", help="train one Config and report its losses",
                              description="Train one Config. Flags use the dashboard's names.")
    add_setting_flags(run)
    run.add_argument("--query", default="", help="a dashboard URL or its query string "
                     "(e.g. 'act=relu&lr=0.05'); flags override it")
    add_words_flag(run)
    run.add_argument("--out", type=Path, help="write the run (config, history, snapshots) "
                     "as JSON here")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--retrain", action="store_true",
                     help="train even when the store holds this run")
    add_store_flags(run)


def _progress_printer(quiet: bool):
    last = [-1]

    def show(progress: Progress) -> None:
        percent = int(100 * progress.fraction)
        if quiet or percent // 10 == last[0]:
            return
        last[0] = percent // 10
        print(f"  step {progress.step:>7}/{progress.total}  loss {progress.loss:.4f}  "
              f"({progress.elapsed:.1f}s)", file=sys.stderr)

    return show


def main(args: argparse.Namespace) -> int:
    try:
        config, words = settings_from_args(args)
    except ValueError as err:  # ConfigError included
        print(f"error: {err}", file=sys.stderr)
        return 2
    store = open_store(args)
    stored = None if store is None or args.retrain else store.get(run_key(config, words))
    if stored is not None:
        print(f"from the run store ({store.root}): not trained again (--retrain trains it)",
              file=sys.stderr)
        run = stored
    else:
        if not args.quiet:
            print(f"training: {config.to_query() or '(defaults)'}", file=sys.stderr)
        run = train(config, on_progress=_progress_printer(args.quiet), words=words)
    if run.message:
        print(run.message)
    print(f"initial loss {run.initial_loss:.4f} (expected {run.expected_initial_loss:.4f})")
    for split in ("train", "val", "test"):
        if f"{split}_loss" in run.final:
            print(f"{split} loss {run.final[split + '_loss']:.4f}  "
                  f"accuracy {run.final[split + '_acc']:.3f}")
    print(f"time {run.elapsed:.2f}s for {run.steps_done} steps")
    if store is not None and stored is None:
        key = _store_or_report(store, run)
        if key:
            print(f"stored as {key} in {store.root}")
    if args.out and write_output(args.out, lambda path: path.write_text(run.to_json())):
        return 2
    return 0 if run.status != "diverged" else 1


def _store_or_report(store: RunStore, run: Run) -> str | None:
    """Write a run to the store; a full disk or a read-only store is a warning, not a
    lost run (the results were printed, --out still writes)."""
    try:
        return store.put(run)
    except OSError as err:
        print(f"warning: could not store the run in {store.root}: {err}", file=sys.stderr)
        return None

"""``runs``: list, show, import, export, delete and collect the run store's runs; back the
store up."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from ..config import Config
from ..identity import run_key
from ..paths import store_root
from ..run import MAX_IMPORT_BYTES, RunFormatError
from ..runchecks import read_run_file
from ..store import RunStore
from ..store_policy import PINNED_DAYS, SEARCH_TOP
from .flags import check_output, open_store, positive_int, write_output


def add_parser(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser("runs", help="list, show, import, export, delete stored runs",
                               description="Manage the run store (default "
                               f"{store_root()}; NEURONDASH_STORE or --store moves it).")
    actions = runs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list", help="every stored run, most recently used first, with what eviction keeps",
        description="Eviction keeps runs opened in the last "
        f"{PINNED_DAYS:g} days (pinned) longest, and drops a search's unopened runs beyond "
        f"its best {SEARCH_TOP} first (goes first).")
    listing.add_argument("--limit", type=positive_int, default=50)
    show = actions.add_parser("show", help="one run's settings, losses and findings")
    show.add_argument("key", help="a stored run's key (or a unique start of it), or its "
                      "dashboard link")
    bring = actions.add_parser("import", help="store a run file trained elsewhere")
    bring.add_argument("file", type=Path)
    export = actions.add_parser("export", help="write a stored run as a run file")
    export.add_argument("key")
    export.add_argument("--out", type=Path, required=True)
    delete = actions.add_parser("delete", help="remove stored runs")
    delete.add_argument("key", nargs="+")
    backup = actions.add_parser("backup", help="copy the store, in use or not, into a new "
                                "directory (to keep, or to move the store there)")
    backup.add_argument("destination", type=Path, help="a directory that does not exist yet")
    gc = actions.add_parser("gc", help="drop leftovers and evict to the size cap")
    gc.add_argument("--max-mb", type=float, default=None,
                    help="size cap in MB (default: NEURONDASH_STORE_MAX_MB or 1000)")
    for action in (listing, show, bring, export, delete, backup, gc):
        action.add_argument("--store", type=Path, default=None,
                            help="store directory (default: NEURONDASH_STORE or the cache)")


def _find(store: RunStore, start: str) -> str:
    """The one stored key that begins with ``start``, or the key of the run a link (or
    its query string) names; ValueError otherwise."""
    rows = store.list()
    if "=" in start or "?" in start:
        config, warnings = Config.from_query(start.split("?", 1)[-1])
        if warnings:
            raise ValueError("; ".join(warnings))
        # A word-list run's key holds its words too: a link finds it by its settings.
        same = [row.key for row in rows if row.key == run_key(config)] or [
            row.key for row in rows if row.query == config.to_query()]
        if len(same) != 1:
            raise ValueError(f"no stored run has the settings {config.to_query()!r}"
                             if not same else
                             f"{len(same)} stored runs have the settings "
                             f"{config.to_query()!r} (word-list runs of different lists): "
                             "give the key, the first column of `runs list`")
        return same[0]
    keys = [row.key for row in rows if row.key.startswith(start)]
    if len(keys) != 1:
        raise ValueError(f"no stored run has a key starting {start!r}" if not keys else
                         f"{len(keys)} stored runs have keys starting {start!r}: give more")
    return keys[0]


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def main(args: argparse.Namespace) -> int:
    try:
        store = open_store(args)
        return RUN_ACTIONS[args.action](store, args)
    except (ValueError, OSError) as err:  # RunFormatError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2


def _list(store: RunStore, args: argparse.Namespace) -> int:
    rows = store.list()
    print(f"{len(rows)} runs, {store.total_bytes() / 1e6:.1f} MB of "
          f"{store.max_bytes / 1e6:.0f} MB in {store.root}; kept: pinned = opened in the "
          f"last {PINNED_DAYS:g} days (evicted last), goes first = a search's unopened runs "
          f"beyond its best {SEARCH_TOP}")
    for row in rows[:args.limit]:
        final = row.summary["final"]
        loss = f"{final['val_loss']:.4f}" if "val_loss" in final else "-"
        findings = ", ".join(row.summary["findings"]) or "healthy"
        print(f"{row.key[:12]}  {_when(row.last_used)}  {row.kept or '-':<10}  "
              f"{row.summary['status']:<8}  "
              f"val {loss:>7}  {row.query or '(defaults)'}  [{findings}]")
    return 0


def _show(store: RunStore, args: argparse.Namespace) -> int:
    key = _find(store, args.key)
    row = next(row for row in store.list() if row.key == key)
    summary = row.summary
    print(f"key      {key}\nlink     ?{row.query}\nstatus   {summary['status']} after "
          f"{summary['steps_done']:,} steps ({summary['elapsed']:.1f} s of training)\n"
          f"stored   {_when(row.created)}, last used {_when(row.last_used)}, "
          f"{row.bytes / 1e6:.2f} MB, kept {row.kept or 'by last use'}")
    for name, value in summary["final"].items():
        print(f"{name:<8} {value:.4f}")
    print("findings " + (", ".join(summary["findings"]) or "none (healthy)"))
    return 0


def _import(store: RunStore, args: argparse.Namespace) -> int:
    if args.file.stat().st_size > MAX_IMPORT_BYTES:
        raise ValueError(f"{args.file} is over the {MAX_IMPORT_BYTES / 1e6:.0f} MB limit")
    run = read_run_file(args.file.read_bytes())
    key = store.put(run)
    if key is None:
        raise RunFormatError(f"{args.file} holds a {run.status} run of {run.steps_done:,} "
                             "steps: only finished or diverged runs are stored")
    print(f"stored as {key}: ?{run.config.to_query()}")
    return 0


def _export(store: RunStore, args: argparse.Namespace) -> int:
    check_output(args.out)
    run = store.get(_find(store, args.key))
    if run is None:
        raise ValueError(f"the stored run {args.key} could not be read: "
                         + (store.problems[-1] if store.problems else "it is gone"))
    return write_output(args.out, lambda path: path.write_text(run.to_json()))


def _delete(store: RunStore, args: argparse.Namespace) -> int:
    keys = [_find(store, start) for start in args.key]
    for key in keys:
        store.delete(key)
        print(f"deleted {key}")
    return 0


def _backup(store: RunStore, args: argparse.Namespace) -> int:
    runs = store.backup(args.destination)
    print(f"{runs} runs copied to {args.destination} (NEURONDASH_STORE={args.destination} "
          "or --store opens it)")
    return 0


def _gc(store: RunStore, args: argparse.Namespace) -> int:
    found = store.gc()
    print(", ".join(f"{name}: {count}" for name, count in found.items()))
    return 0


RUN_ACTIONS = {"list": _list, "show": _show, "import": _import, "export": _export,
               "delete": _delete, "backup": _backup, "gc": _gc}

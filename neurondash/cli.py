"""Command line: ``python -m neurondash train --lr 0.01 --act relu --out run.json``.

Every Config setting is a flag with the same name (``--init-scale`` or ``--init_scale``);
``--query`` replays a dashboard link's query string, with explicit flags taking precedence.
``train`` and ``sweep`` keep their runs in the run store (``--no-store`` to skip), so a run
trained here opens at once in the dashboard from its link; ``runs`` manages the store.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import pandas as pd

from .config import SEARCHABLE, SETTINGS, SETTINGS_BY_NAME, Config
from .data.names import WordListError, parse_word_list
from .engine.train import Progress
from .identity import run_key
from .run import MAX_IMPORT_BYTES, Run, RunFormatError
from .runchecks import read_run_file
from .search import (
    MAX_SEARCHED,
    MAX_TRIALS,
    METHODS,
    SearchError,
    SearchSpec,
    choice_range,
    leaderboard,
    parse_range,
    run_search,
    skipped_frame,
)
from .store import RunStore, default_root, max_bytes_setting
from .sweep import (
    SCHEDULER_ENV,
    SchedulerError,
    axes_from_pairs,
    make_executor,
)
from .training import train

METRICS = ("val_loss", "val_acc", "train_loss")


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Config setting, printed --init-scale; --init_scale (the link's spelling)
    is accepted too."""
    for setting in SETTINGS:
        if "_" in setting.name:
            parser.add_argument(f"--{setting.name}", dest=setting.name, default=None,
                                help=argparse.SUPPRESS)
        parser.add_argument(f"--{setting.name.replace('_', '-')}", dest=setting.name,
                            default=None, metavar=setting.kind.__name__,
                            # argparse %-formats help texts ("75% of" would break --help)
                            help=f"{setting.help} Default {setting.default!r}; "
                                 f"{setting.allowed()}.".replace("%", "%%"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m neurondash",
                                     description="Train and inspect neural networks headless.")
    commands = parser.add_subparsers(dest="command", required=True)
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

    sweep = commands.add_parser(
        "sweep", help="search settings (grid or random, with seed repeats), write a CSV",
        description=f"Search up to {MAX_SEARCHED} settings over a base Config (flags as for "
                    "train): --vary gives values (every combination is trained), --sample "
                    "gives ranges (trials are drawn at random). Results are sorted, best "
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
                       help="grid when every setting has values, else random; adaptive: "
                            + METHODS["adaptive"])
    sweep.add_argument("--trials", type=positive_int, default=20,
                       help="random trials to draw (default 20)")
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

    runs = commands.add_parser("runs", help="list, show, import, export, delete stored runs",
                               description="Manage the run store (default "
                               f"{default_root()}; NEURONDASH_STORE or --store moves it).")
    actions = runs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every stored run, most recently used first")
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
    gc = actions.add_parser("gc", help="drop leftovers and evict to the size cap")
    gc.add_argument("--max-mb", type=float, default=None,
                    help="size cap in MB (default: NEURONDASH_STORE_MAX_MB or 1000)")
    for action in (listing, show, bring, export, delete, gc):
        action.add_argument("--store", type=Path, default=None,
                            help="store directory (default: NEURONDASH_STORE or the cache)")
    return parser


def add_store_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, default=None,
                        help="store directory (default: NEURONDASH_STORE or the user's cache)")
    parser.add_argument("--no-store", action="store_true",
                        help="neither read nor write the run store")


def open_store(args: argparse.Namespace) -> RunStore | None:
    """The store the flags name; None with --no-store."""
    if getattr(args, "no_store", False):
        return None
    max_bytes = (int(args.max_mb * 1e6) if getattr(args, "max_mb", None)
                 else max_bytes_setting())
    return RunStore(args.store or default_root(), max_bytes)


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (argparse reports anything else)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def add_words_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--words", type=Path, help="word list file for --task words")


def words_from_args(config: Config, args: argparse.Namespace) -> list[str] | None:
    """The --words list when the task needs one; ValueError says what is missing or wrong."""
    if config.task != "words":
        if args.words is not None:
            print(f"warning: --words is ignored: task {config.task!r} does not use a word "
                  "list (give --task words)", file=sys.stderr)
        return None
    if args.words is None:
        raise ValueError("--task words needs --words FILE (one word per line)")
    try:
        return parse_word_list(args.words.read_bytes())
    except (OSError, WordListError) as err:
        raise ValueError(str(err)) from None


def config_from_args(args: argparse.Namespace) -> tuple[Config, list[str]]:
    """Query first (lenient, with warnings), then explicit flags (strict)."""
    query = args.query.split("?", 1)[-1] if args.query else ""
    base, warnings = Config.from_query(query)
    flags = {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name) is not None}
    values = base.to_dict() | {k: SETTINGS_BY_NAME[k].coerce(v) for k, v in flags.items()}
    return Config.from_dict(values), warnings


def check_output(path: Path | None) -> None:
    """Refuse an --out that cannot be written before any work is done: a run of minutes
    must not end in a traceback about its output file."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"--out {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"--out {path}: the folder {path.parent} does not exist")


def settings_from_args(args: argparse.Namespace) -> tuple[Config, list[str] | None]:
    """Config and word list of train and sweep; query warnings go to stderr, and invalid
    input raises ValueError (ConfigError included) with the message to show."""
    check_output(args.out)
    config, warnings = config_from_args(args)
    words = words_from_args(config, args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return config, words


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


def sweep_main(args: argparse.Namespace) -> int:
    try:
        base, words = settings_from_args(args)
        spec = search_from_args(args, base)
    except ValueError as err:  # ConfigError and SearchError included
        print(f"error: {err}", file=sys.stderr)
        return 2
    trials = spec.trials if spec.method == "adaptive" else len(spec.trial_list())
    print(f"{spec.method} search: {'up to ' if spec.method == 'adaptive' else ''}"
          f"{trials * spec.repeats} runs ({trials} trials x {spec.repeats} seed(s)) of "
          f"{base.steps} steps over " + ", ".join(r.spell() for r in spec.ranges),
          file=sys.stderr)
    skipped = skipped_frame(spec)
    for row in skipped.itertuples():
        print(f"  skipped trial {row.trial}: {row.skipped}", file=sys.stderr)

    def show(done: int, total: int) -> None:
        print(f"  {done}/{total} runs done", file=sys.stderr)

    try:
        with make_executor(args.executor, args.workers, args.scheduler,
                           wait=True) as executor:
            frame = run_search(spec, executor, on_result=show,
                               words=tuple(words) if words else None, store=open_store(args))
    except SchedulerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print_leaderboard(frame, spec, args.metric, args.sort)
    return _write(args.out, lambda path: frame.to_csv(path, index=False))


def search_from_args(args: argparse.Namespace, base: Config) -> SearchSpec:
    """--vary values and --sample ranges -> a SearchSpec (grid when every range is a list
    of values, unless --method says otherwise)."""
    if not args.vary and not args.sample:
        raise SearchError("give --vary NAME=V1,V2 or --sample RANGE (see --help)")
    ranges = [choice_range(name, values) for name, values in axes_from_pairs(args.vary).items()]
    ranges += [parse_range(text) for text in args.sample]
    method = args.method or ("grid" if all(r.kind == "choice" for r in ranges) else "random")
    runs_cap, seconds = args.budget
    trials = args.trials
    if runs_cap is not None:
        trials = max(1, runs_cap // args.repeats)
    spec = SearchSpec(base, tuple(ranges), trials=min(trials, MAX_TRIALS),
                      repeats=args.repeats, method=method, seed=args.search_seed,
                      budget_seconds=seconds)
    if method == "grid" and runs_cap is not None and len(spec.runs()) > runs_cap:
        raise SearchError(f"the grid has {len(spec.runs())} runs, over --budget {runs_cap}")
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
    shown = board.drop(columns=["query"]).copy()
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


def _write(path: Path, write) -> int:
    """Write an output file; an OS error (disk full, permissions) is reported, not raised."""
    try:
        write(path)
    except OSError as err:
        print(f"error: could not write {path}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sweep":
        return sweep_main(args)
    if args.command == "runs":
        return runs_main(args)
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
    if args.out and _write(args.out, lambda path: path.write_text(run.to_json())):
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


def _find(store: RunStore, start: str) -> str:
    """The one stored key that begins with ``start``, or the key of the run a link (or
    its query string) names; ValueError otherwise."""
    if "=" in start or "?" in start:
        config, warnings = Config.from_query(start.split("?", 1)[-1])
        if warnings:
            raise ValueError("; ".join(warnings))
        start = run_key(config)
    keys = [row.key for row in store.list() if row.key.startswith(start)]
    if len(keys) != 1:
        raise ValueError(f"no stored run has a key starting {start!r}" if not keys else
                         f"{len(keys)} stored runs have keys starting {start!r}: give more")
    return keys[0]


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def runs_main(args: argparse.Namespace) -> int:
    try:
        store = open_store(args)
        return RUN_ACTIONS[args.action](store, args)
    except (ValueError, OSError) as err:  # RunFormatError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2


def _list(store: RunStore, args: argparse.Namespace) -> int:
    rows = store.list()
    print(f"{len(rows)} runs, {store.total_bytes() / 1e6:.1f} MB of "
          f"{store.max_bytes / 1e6:.0f} MB in {store.root}")
    for row in rows[:args.limit]:
        final = row.summary["final"]
        loss = f"{final['val_loss']:.4f}" if "val_loss" in final else "-"
        findings = ", ".join(row.summary["findings"]) or "healthy"
        print(f"{row.key[:12]}  {_when(row.last_used)}  {row.summary['status']:<8}  "
              f"val {loss:>7}  {row.query or '(defaults)'}  [{findings}]")
    return 0


def _show(store: RunStore, args: argparse.Namespace) -> int:
    key = _find(store, args.key)
    row = next(row for row in store.list() if row.key == key)
    summary = row.summary
    print(f"key      {key}\nlink     ?{row.query}\nstatus   {summary['status']} after "
          f"{summary['steps_done']:,} steps ({summary['elapsed']:.1f} s of training)\n"
          f"stored   {_when(row.created)}, last used {_when(row.last_used)}, "
          f"{row.bytes / 1e6:.2f} MB")
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
    return _write(args.out, lambda path: path.write_text(run.to_json()))


def _delete(store: RunStore, args: argparse.Namespace) -> int:
    keys = [_find(store, start) for start in args.key]
    for key in keys:
        store.delete(key)
        print(f"deleted {key}")
    return 0


def _gc(store: RunStore, args: argparse.Namespace) -> int:
    found = store.gc()
    print(", ".join(f"{name}: {count}" for name, count in found.items()))
    return 0


RUN_ACTIONS = {"list": _list, "show": _show, "import": _import, "export": _export,
               "delete": _delete, "gc": _gc}

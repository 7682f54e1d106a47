"""What train, sweep and runs share: one flag per setting, the query, the word list, the
store flags, and the checks and writes of output files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import SETTINGS, SETTINGS_BY_NAME, Config
from ..data.names import WordListError, parse_word_list
from ..paths import store_root
from ..store import RunStore, max_bytes_setting


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
    return RunStore(args.store or store_root(), max_bytes)


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


def write_output(path: Path, write) -> int:
    """Write an output file; an OS error (disk full, permissions) is reported, not raised."""
    try:
        write(path)
    except OSError as err:
        print(f"error: could not write {path}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0

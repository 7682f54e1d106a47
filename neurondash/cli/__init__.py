"""Command line: ``python -m neurondash train --lr 0.01 --act relu --out run.json``.

Every Config setting is a flag with the same name (``--init-scale`` or ``--init_scale``);
``--query`` replays a dashboard link's query string, with explicit flags taking precedence.
``train`` and ``sweep`` keep their runs in the run store (``--no-store`` to skip), so a run
trained here opens at once in the dashboard from its link; ``runs`` manages the store.
"""

from __future__ import annotations

import argparse

from . import runs, sweep, theory, train
from .flags import config_from_args, settings_from_args
from .sweep import search_from_args

COMMANDS = {"train": train, "sweep": sweep, "runs": runs, "theory": theory}
"""The subcommands, in --help order: each module adds its parser (``add_parser``) and runs
the parsed arguments (``main``, which returns the exit status)."""

__all__ = ["COMMANDS", "build_parser", "config_from_args", "main", "search_from_args",
           "settings_from_args"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m neurondash",
                                     description="Train and inspect neural networks headless.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command].main(args)

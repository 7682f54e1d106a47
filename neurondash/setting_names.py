"""What a link's parameter name most likely means when it names no setting: another
library's name for it, or a misspelling."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SETTING_ALIASES = {"learning_rate": "lr", "activation": "act", "optimizer": "opt",
                   "batch_size": "batch", "weight_decay": "wd", "schedule": "sched",
                   "layers": "depth", "hidden": "width", "normalization": "norm",
                   "iterations": "steps", "epochs": "steps"}
"""Other libraries' names for settings, as a link written by hand may use them."""


def meant_setting(name: str, names: Iterable[str]) -> str | None:
    """The setting a mistyped or foreign parameter name most likely means, if any."""
    lowered = name.strip().lower()
    if lowered in SETTING_ALIASES:
        return SETTING_ALIASES[lowered]
    close = difflib.get_close_matches(lowered, list(names), n=1, cutoff=0.75)
    if close:
        return close[0]
    # A misspelt alias ('lerning_rate'): the setting the alias names.
    alias = difflib.get_close_matches(lowered, list(SETTING_ALIASES), n=1, cutoff=0.8)
    return SETTING_ALIASES[alias[0]] if alias else None

"""The dashboard's views, one module each, and the table that lists them in tab order.

A view draws one tab from a ``Page`` (what the sidebar and the run source settled). Adding a
view is a module here and one row in ``VIEWS``; a view whose ``needs_run`` is set is drawn
only when a run with snapshots is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...config import Config
from ...identity import run_key
from ...run import Run
from ...store import shared_store
from ..session import Session
from ..shelf import RunShelf
from . import (
    activations,
    compare,
    export,
    gradients,
    lessons,
    logits,
    loss,
    lr_finder,
    neuron,
    overview,
    runs,
    sweep,
    weights,
)


@dataclass(frozen=True)
class Page:
    """What every view may draw from."""

    config: Config
    words: list[str] | None
    run: Run | None
    step: int | None
    runs: RunShelf
    """The session's runs by ``run_key``."""


@dataclass(frozen=True)
class View:
    draw: Callable[[Page], None]
    needs_run: bool = False
    trains: bool = False
    """It trains runs of the sidebar's settings: with task words, not before a word list."""


VIEWS: dict[str, View] = {
    "Overview": View(lambda p: overview.overview(p.run, p.step), needs_run=True),
    "Loss": View(lambda p: loss.loss_tab(p.run), needs_run=True),
    "Logits": View(lambda p: logits.logits_tab(p.run, p.step), needs_run=True),
    "Activations": View(lambda p: activations.activations_tab(p.run, p.step), needs_run=True),
    "Gradients": View(lambda p: gradients.gradients_tab(p.run, p.step), needs_run=True),
    "Weights": View(lambda p: weights.weights_tab(p.run, p.step), needs_run=True),
    "Neuron": View(lambda p: neuron.neuron_tab(p.run, p.step), needs_run=True),
    "Runs": View(lambda p: runs.runs_tab()),
    "Compare": View(lambda p: compare.compare_tab(
        runs.stored_configs(Session().compare_keys)
        | {key: entry.config for key, entry in p.runs.entries()},
        lambda key: p.runs.get(key) or shared_store().get(key))),
    "Lessons": View(lambda p: lessons.lessons_tab()),
    "Sweep": View(lambda p: sweep.sweep_tab(p.config, p.words), trains=True),
    "LR finder": View(lambda p: lr_finder.lr_finder_tab(p.config, p.words), trains=True),
    "Export / import": View(lambda p: export.export_tab(p.run, p.runs, run_key, p.step)),
}
TABS = tuple(VIEWS)

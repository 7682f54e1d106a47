"""The number each finding is about, read off a Run, and which way is better: what "Try it"
shows before and after, and what the corpus test counts as the advice having helped."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..parts.activations import ACTIVATIONS
from ..run import Run
from .loss import early_rise, later_rise


@dataclass(frozen=True)
class Metric:
    label: str
    value: Callable[[Run, str | None], float]
    """The number on a run (for the named hidden layer, when it is per layer)."""
    badness: Callable[[float], float]
    """Lower is better: the value itself, or its distance from a healthy 1 (log scale)."""
    digits: str = ".3f"
    at_init: bool = False
    """Read at step 0 alone: a run cut after its first step has it (a cheap check)."""


def _init_rows(run: Run) -> pd.DataFrame:
    layers = run.layers
    return layers[layers["step"] == layers["step"].min()] if len(layers) else layers


def _layer_value(rows: pd.DataFrame, column: str, layer: str | None) -> float:
    """The column on ``layer`` (the worst layer when none is named or it is missing)."""
    picked = rows[rows["layer"] == layer] if layer else rows.iloc[0:0]
    if len(picked):
        return float(picked[column].iloc[0])
    return float(rows[column].max()) if len(rows) else math.nan


def _saturated_at(first: bool) -> Callable[[Run, str | None], float]:
    def value(run: Run, layer: str | None) -> float:
        layers = run.layers
        if not len(layers):
            return math.nan
        step = layers["step"].min() if first else layers["step"].max()
        return _layer_value(layers[layers["step"] == step], "saturated_pct", layer)
    return value


def _ratio(column: str) -> Callable[[Run, str | None], float]:
    """First over last hidden layer's ``column`` at init."""
    def value(run: Run, _layer: str | None) -> float:
        values = _init_rows(run)[column].to_numpy()
        return float(values[0] / values[-1]) if len(values) > 1 and values[-1] > 0 else math.nan
    return value


def _val_loss(run: Run, _layer: str | None) -> float:
    value = run.final.get("val_loss", math.nan) if run.status != "diverged" else math.inf
    return float(value) if math.isfinite(value) else math.inf


def _dead(run: Run, _layer: str | None) -> float:
    if run.dead_units is None:
        return math.inf if run.status == "diverged" else math.nan
    return float(sum(run.dead_units.values()))


def _gap(run: Run, _layer: str | None) -> float:
    if not run.final:
        return math.inf
    return float(run.final["val_loss"] - run.final["train_loss"])


def _log_distance(value: float) -> float:
    return abs(math.log10(value)) if value > 0 and math.isfinite(value) else math.inf


METRICS: dict[str, Metric] = {
    "val_loss": Metric("final validation loss", _val_loss, lambda v: v),
    "initial_loss": Metric("initial loss", lambda run, _: run.initial_loss, lambda v: v,
                           at_init=True),
    "saturated_init": Metric("{state} % at init", _saturated_at(True), lambda v: v, ".0f",
                             at_init=True),
    "saturated_end": Metric("{state} % after training", _saturated_at(False), lambda v: v,
                            ".0f"),
    "dead_units": Metric("dead units", _dead, lambda v: v, ".0f"),
    "std_ratio": Metric("first / last hidden layer's activation std at init",
                        _ratio("act_std"), _log_distance, ".3g", at_init=True),
    "grad_ratio": Metric("first / last hidden layer's gradient std at init",
                         _ratio("grad_std"), _log_distance, ".3g", at_init=True),
    "early_rise": Metric("early rise of the training loss above its start",
                         lambda run, _: early_rise(run), lambda v: v, ".2f"),
    "later_rise": Metric("largest sudden rise of the training loss after its early steps",
                         lambda run, _: later_rise(run), lambda v: v, ".2f"),
    "gap": Metric("validation minus training loss", _gap, lambda v: v),
}


def label(metric: str, act: str) -> str:
    """The number's name in the activation's own words ("inactive % at init" for ReLU)."""
    return METRICS[metric].label.format(state=ACTIVATIONS[act].saturation_label)


def measure(run: Run, metric: str, layers: tuple[str, ...] = ()) -> float:
    """The finding's number on ``run`` (nan when the run does not have it)."""
    return METRICS[metric].value(run, layers[0] if layers else None)


def improved(metric: str, before: float, after: float) -> bool:
    """Whether ``after`` is better than ``before`` (a number that went missing is not)."""
    if math.isnan(after):
        return False
    badness = METRICS[metric].badness
    return badness(after) < badness(before) or (math.isnan(before) and math.isfinite(after))

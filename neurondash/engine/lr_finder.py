"""Learning-rate range test: runs whose rate rises exponentially, loss against rate.

The range follows the optimizer (Adam's useful rates sit two decades below plain SGD's).
The suggestion is a fixed fraction of the rate at which the smoothed loss is lowest, per
optimizer (``MIN_FRACTION``), measured by ``benchmarks/lr_finder_check.py``: over five
names configs, the learning rate that trained best was 0.45-1.4x the test's minimum for
SGD and 0.09-0.31x for Adam(W). fastai's "valley" (two-thirds along the longest falling
stretch) and the steepest descent both suggested 10-40x too low a rate on these models
(they train for thousands of steps, not 300). One test is noisy, so it is run for a few
seeds on one data split and the median is taken; the spread is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Config
from ..data import load_dataset
from .train import Trainer, deterministic_blas

SMOOTHING = 0.95
EXPLODE_FACTOR = 4.0
RANGES: dict[str, tuple[float, float]] = {
    "sgd": (1e-4, 10.0), "momentum": (1e-5, 3.0), "adam": (1e-6, 1.0), "adamw": (1e-6, 1.0),
}
"""Rates swept per optimizer: wide enough to start flat and end exploding."""
SEEDS = 3
TOP_SHARE = 0.05
"""A minimum in the last 5% of a test's steps is at the top of its range (not inside it)."""
MIN_FRACTION: dict[str, float] = {"sgd": 0.8, "momentum": 0.8, "adam": 0.2, "adamw": 0.2}
"""Suggestion = this x the rate at the smoothed loss's minimum (geometric means of the
measured best/minimum ratios: SGD 0.82, Adam 0.19; momentum takes SGD's, not measured)."""


@dataclass(frozen=True)
class LRFinderResult:
    frame: pd.DataFrame
    """seed, lr, loss, smoothed: one row per step taken, every seed."""
    suggestion: float
    """The median of the seeds' suggestions."""
    suggestions: tuple[float, ...]
    """Each seed's suggestion (their spread is how far to trust one)."""
    start_loss: float
    stopped_early: bool

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.suggestions), max(self.suggestions)

    @property
    def minimum_at_top(self) -> bool:
        """Whether most seeds' smoothed loss was still at its lowest at the top of the range
        (the last ``TOP_SHARE`` of their steps): no minimum inside it, so its suggestion
        says only that the rate may be that high (a ReLU net at init scale 5 under Adam
        fell all the way to lr 1; its suggestion 0.2 made it worse)."""
        ends = [int(np.argmin(rows["smoothed"].to_numpy())) >= (1 - TOP_SHARE) * (len(rows) - 1)
                for _, rows in self.frame.groupby("seed")]
        return sum(ends) > len(ends) / 2


def lr_range(config: Config) -> tuple[float, float]:
    return RANGES[config.opt]


def find_lr(config: Config, steps: int = 300, seeds: int = SEEDS,
            words: list[str] | None = None, low: float | None = None,
            high: float | None = None) -> LRFinderResult:
    """``seeds`` range tests (seed, seed+1, ...) of ``steps`` steps each over the
    optimizer's range (or ``low``-``high``)."""
    default_low, default_high = lr_range(config)
    low, high = low or default_low, high or default_high
    frames, suggestions, stopped = [], [], False
    for offset in range(seeds):
        seeded = config.replace(seed=(config.seed + offset) % 2**31, data_seed=config.split_seed)
        frame, early = _one_test(seeded, steps, low, high, words)
        frames.append(frame.assign(seed=seeded.seed))
        suggestions.append(suggest(frame, config.opt))
        stopped = stopped or early
    frame = pd.concat(frames, ignore_index=True)
    finite = [s for s in suggestions if math.isfinite(s)]
    # Three significant digits: the rate as stated and as "use" sets it (a link's value).
    suggestion = float(f"{np.median(finite):.3g}") if finite else float("nan")
    start = float(frame.groupby("seed")["smoothed"].first().mean())
    return LRFinderResult(frame[["seed", "lr", "loss", "smoothed"]], suggestion,
                          tuple(suggestions), start, stopped)


def _one_test(config: Config, steps: int, low: float, high: float,
              words: list[str] | None) -> tuple[pd.DataFrame, bool]:
    """One run with lr = low * (high/low)^(t/(steps-1)); it stops once the smoothed loss
    exceeds ``EXPLODE_FACTOR`` times its minimum or stops being finite."""
    trainer = Trainer(config, load_dataset(config, words), record=False)
    model, optimizer = trainer.model, trainer.optimizer
    x, y, batch = trainer.x, trainer.y, config.batch
    rates, losses, smoothed = [], [], []
    average, best, stopped = 0.0, math.inf, False
    with np.errstate(all="ignore"), deterministic_blas():
        for t in range(steps):
            lr = low * (high / low) ** (t / max(steps - 1, 1))
            idx = trainer.batch_rng.integers(0, len(y), batch)
            loss = model.loss_and_grad(x[idx], y[idx])
            if not math.isfinite(loss):
                stopped = True
                break
            optimizer.step(model.flat, model.grad, lr)
            average = SMOOTHING * average + (1 - SMOOTHING) * loss
            value = average / (1 - SMOOTHING ** (t + 1))
            rates.append(lr)
            losses.append(loss)
            smoothed.append(value)
            best = min(best, value)
            if value > EXPLODE_FACTOR * best:
                stopped = True
                break
    return pd.DataFrame({"lr": rates, "loss": losses, "smoothed": smoothed}), stopped


def suggest(frame: pd.DataFrame, opt: str) -> float:
    """``MIN_FRACTION[opt]`` times the rate at which the smoothed loss is lowest."""
    if len(frame) < 5:
        return float(frame["lr"].iloc[0]) if len(frame) else float("nan")
    lowest = int(np.argmin(frame["smoothed"].to_numpy()))
    return MIN_FRACTION[opt] * float(frame["lr"].iloc[lowest])

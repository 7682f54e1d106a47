"""Learning-rate range test: one run whose rate rises exponentially, loss against rate.

The suggested rate is where the smoothed loss falls fastest per decade of learning rate,
before it reaches its minimum (after that the loss soon blows up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Config
from ..data import load_dataset
from .train import Trainer, deterministic_blas

SMOOTHING = 0.9
EXPLODE_FACTOR = 4.0


@dataclass(frozen=True)
class LRFinderResult:
    frame: pd.DataFrame
    """lr, loss, smoothed: one row per step taken."""
    suggestion: float
    stopped_early: bool


def find_lr(config: Config, low: float = 1e-4, high: float = 10.0, steps: int = 300,
            words: list[str] | None = None) -> LRFinderResult:
    """Train ``steps`` steps with lr = low * (high/low)^(t/(steps-1)); stop once the
    smoothed loss exceeds ``EXPLODE_FACTOR`` times its minimum or stops being finite."""
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
    frame = pd.DataFrame({"lr": rates, "loss": losses, "smoothed": smoothed})
    return LRFinderResult(frame, suggest(frame), stopped)


def suggest(frame: pd.DataFrame) -> float:
    """Rate of steepest descent of the smoothed loss (per log10 lr) before its minimum."""
    if len(frame) < 5:
        return float(frame["lr"].iloc[0]) if len(frame) else float("nan")
    values = frame["smoothed"].to_numpy()
    lrs = np.log10(frame["lr"].to_numpy())
    end = int(np.argmin(values)) + 1
    if end < 3:
        return float(frame["lr"].iloc[0])
    slope = np.gradient(values[:end], lrs[:end])
    return float(10 ** lrs[int(np.argmin(slope))])

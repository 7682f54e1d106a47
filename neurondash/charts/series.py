"""Long per-step series cut to a chart's size: group means, each group's extremes, and the
moving average the loss chart calls smoothed."""

from __future__ import annotations

import numpy as np
import pandas as pd


def downsample(steps: np.ndarray, values: np.ndarray, points: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Mean of ``values`` over at most ``points`` equal groups of consecutive steps."""
    n = len(steps)
    if n <= points:
        return steps, values
    edges = np.linspace(0, n, points + 1).astype(int)
    sums = np.add.reduceat(values, edges[:-1])
    counts = np.diff(edges)
    return steps[edges[1:] - 1], sums / counts


def extremes(steps: np.ndarray, values: np.ndarray, points: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """The lowest and the highest value of at most ``points // 2`` equal groups of
    consecutive steps, at their own steps and in step order: a spike the diagnosis names
    (one step at 5.84) is drawn at its height, where a group's mean would halve it."""
    n = len(steps)
    if n <= points:
        return steps, values
    starts = np.linspace(0, n, max(1, points // 2) + 1).astype(int)[:-1]
    counts = np.diff(np.append(starts, n))
    index = np.arange(n)
    kept = [np.minimum.reduceat(np.where(values == np.repeat(pick.reduceat(values, starts),
                                                             counts), index, n), starts)
            for pick in (np.minimum, np.maximum)]
    keep = np.unique(np.concatenate(kept))
    return steps[keep], values[keep]


def ema(values: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average (what 'smoothed' means in the loss chart): starts at the
    first value, alpha = 2 / (span + 1), a non-finite value leaves it unchanged. pandas'
    compiled ewm: a Python loop took 0.33 s over a 200k-step history."""
    if not len(values):
        return np.empty(0)
    return (pd.Series(values, dtype=float).ewm(span=span, adjust=False, ignore_na=True)
            .mean().to_numpy())


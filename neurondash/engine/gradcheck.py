"""Hand-written backward passes checked against finite differences of the loss.

This is makemore part 4's exercise ("becoming a backprop ninja": compare each gradient you
derived with the one autograd gives) turned around: the engine's explicit backward is
compared with central differences, in float64, where both agree to about 1e-9. The tests
run it over every layer, activation and norm; the dashboard runs it on the model a user
trained, at any snapshot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..parts.losses import cross_entropy
from .model import Model

EPS = 1e-6
"""Central-difference step: in float64 the truncation (~EPS^2) and round-off
(~1e-16 / EPS) errors are both far below the 1e-6 tolerance."""
TOLERANCE = 1e-6
NOISE_FLOOR = 1e-8
"""Absolute difference (per unit of loss) that central differences cannot resolve: the
two loss values carry rounding errors of ~1e-14, divided by the 2e-6 step. A parameter
whose gradients are all tiny (a vanishing-gradient layer) can show a large relative error
made of this noise alone, so a difference below the floor counts as agreement."""


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / (||a|| + ||n||): scale-free, and 0 only when they agree.

    A gradient that is truly zero (e.g. a shift that the next BatchNorm removes) has no
    meaningful relative error; there, agreement within 1e-8 (far above finite-difference
    round-off of ~1e-10, far below real gradients) counts as exact.
    """
    denominator = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if denominator < 1e-6 and np.max(np.abs(analytic - numeric), initial=0.0) < 1e-8:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / max(denominator, 1e-12))


OTHER_STEPS = (1e-4, 1e-8)
"""Steps tried when EPS disagrees: a saturated network's loss can curve so sharply that
EPS's truncation error (about EPS squared times the third derivative) is the whole
difference, and a far smaller step agrees; a wrong backward agrees at no step."""


def numeric_grad(f: Callable[[], float], array: np.ndarray,
                 indices: np.ndarray | None = None, eps: float = EPS) -> np.ndarray:
    """Central differences of scalar ``f()`` with respect to ``array``'s entries at flat
    ``indices`` (every entry by default), changing each in place and restoring it."""
    flat = array.reshape(-1)
    indices = np.arange(flat.size) if indices is None else indices
    grad = np.zeros(len(indices))
    for k, i in enumerate(indices):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        grad[k] = (plus - minus) / (2 * eps)
    return grad


def check_gradients(model: Model, x: np.ndarray, y: np.ndarray, entries: int = 8,
                    seed: int = 0) -> pd.DataFrame:
    """Every parameter's backward gradient against finite differences, on batch (x, y).

    ``model`` must be float64 (``Run.model(dtype=np.float64)``); up to ``entries`` entries
    of each parameter, drawn under ``seed``, are checked (all of them for small ones).
    BatchNorm uses the batch's statistics without moving its running ones, as in a
    diagnostics pass. One row per parameter: its name and shape, the entries checked, the
    finite-difference step that agreed best (EPS unless it disagreed), the largest
    absolute difference, the relative error and whether they agree (relative error within
    TOLERANCE, or every difference below the noise floor).
    """
    if model.dtype != np.float64:
        raise ValueError("finite differences need a float64 model")
    rng = np.random.default_rng(seed)
    model.set_running_updates(False)
    try:
        floor = NOISE_FLOOR * max(1.0, abs(model.loss_and_grad(x, y)))
        analytic = {name: g.ravel().copy() for name, g in model.gradients().items()}
        loss = lambda: cross_entropy(model.forward(x, train=True), y)[0]  # noqa: E731
        rows = []
        for name, param in model.parameters().items():
            size = param.size
            picked = (np.arange(size) if size <= entries
                      else np.sort(rng.choice(size, entries, replace=False)))
            expected = analytic[name][picked]
            best = None
            for step in (EPS, *OTHER_STEPS):
                numeric = numeric_grad(loss, param, picked, step)
                error = relative_error(expected, numeric)
                largest = float(np.max(np.abs(expected - numeric)))
                row = {"parameter": name, "shape": "x".join(map(str, param.shape)),
                       "entries": len(picked), "step": step, "max_abs_diff": largest,
                       "relative_error": error,
                       "agrees": error < TOLERANCE or largest < floor}
                if best is None or error < best["relative_error"]:
                    best = row
                if row["agrees"]:
                    break
            rows.append(best)
    finally:
        model.set_running_updates(True)
    return pd.DataFrame(rows)

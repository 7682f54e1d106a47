"""Weight initializers keyed by name.

Each returns a (fan_in, fan_out) matrix *before* the global ``init_scale`` multiplier:
``normal`` and ``uniform`` have unit scale (so init_scale is their std / half-width),
``xavier`` keeps variance ~ 2/(fan_in+fan_out), and ``kaiming`` uses the activation's gain
over sqrt(fan_in), which keeps activations at a steady scale through a deep stack.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Initializer = Callable[[np.random.Generator, int, int, float], np.ndarray]


def _normal(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float) -> np.ndarray:
    return rng.standard_normal((fan_in, fan_out))


def _uniform(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, (fan_in, fan_out))


def _xavier(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float) -> np.ndarray:
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / (fan_in + fan_out))


def _kaiming(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float) -> np.ndarray:
    return rng.standard_normal((fan_in, fan_out)) * (gain / math.sqrt(fan_in))


def _zero(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float) -> np.ndarray:
    return np.zeros((fan_in, fan_out))


INITIALIZERS: dict[str, Initializer] = {
    "normal": _normal,
    "uniform": _uniform,
    "xavier": _xavier,
    "kaiming": _kaiming,
    "zero": _zero,
}


def expected_std(name: str, fan_in: int, fan_out: int, gain: float) -> float:
    """The standard deviation each scheme aims for (used by tests and the dashboard)."""
    return {
        "normal": 1.0,
        "uniform": 1.0 / math.sqrt(3.0),
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "kaiming": gain / math.sqrt(fan_in),
        "zero": 0.0,
    }[name]

"""2-D two-class point sets in the style of TensorFlow Playground, generated under a seed.

Every generator returns points roughly inside [-1, 1]^2 and labels 0/1; ``noise`` (0-1)
is the share of the pattern's scale added as Gaussian jitter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Generator = Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]


def _halves(n: int) -> np.ndarray:
    return (np.arange(n) >= n // 2).astype(np.int64)


def spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    labels = _halves(n)
    t = rng.uniform(0.0, 1.0, n) ** 0.5 * 2.5 * np.pi
    angle = t + np.pi * labels
    radius = t / (2.5 * np.pi)
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return points + rng.normal(0.0, noise * 0.3, points.shape), labels


def circles(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    labels = _halves(n)
    radius = np.where(labels == 0, rng.uniform(0.0, 0.4, n), rng.uniform(0.65, 1.0, n))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return points + rng.normal(0.0, noise * 0.3, points.shape), labels


def xor(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    points = rng.uniform(-1.0, 1.0, (n, 2))
    points += np.sign(points) * 0.05
    labels = (points[:, 0] * points[:, 1] < 0).astype(np.int64)
    return points + rng.normal(0.0, noise * 0.3, points.shape), labels


def gauss(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    labels = _halves(n)
    centers = np.where(labels[:, None] == 0, -0.45, 0.45)
    return centers + rng.normal(0.0, 0.15 + 0.5 * noise, (n, 2)), labels


def moons(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    labels = _halves(n)
    angle = rng.uniform(0.0, np.pi, n)
    x = np.where(labels == 0, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(labels == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = np.column_stack([(x - 0.5) * 0.66, (y - 0.25) * 0.66 * 1.3])
    return points + rng.normal(0.0, noise * 0.3, points.shape), labels


POINT_GENERATORS: dict[str, Generator] = {
    "spiral": spiral, "circles": circles, "xor": xor, "gauss": gauss, "moons": moons,
}

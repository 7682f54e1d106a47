"""Input features of a 2-D point, as TensorFlow Playground offers them, keyed by name.

A 2-D model sees the features chosen in its Config instead of the bare coordinates: with
x1² and x2², the circles become separable by a single linear layer. The model applies them
to every input (training batches, the decision-boundary grid, a traced neuron), so data
and queries keep working on plain points. Points lie roughly in [-1, 1]², so the sines
take π·x to span a full period as Playground's sin(X) does on its wider plane.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feature:
    """One input computed from a point's coordinates x1, x2."""

    name: str
    label: str
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("x1", "x1", lambda x1, x2: x1),
        Feature("x2", "x2", lambda x1, x2: x2),
        Feature("x1sq", "x1²", lambda x1, x2: x1 * x1),
        Feature("x2sq", "x2²", lambda x1, x2: x2 * x2),
        Feature("x1x2", "x1·x2", lambda x1, x2: x1 * x2),
        Feature("sin1", "sin(πx1)", lambda x1, x2: np.sin(np.pi * x1)),
        Feature("sin2", "sin(πx2)", lambda x1, x2: np.sin(np.pi * x2)),
    )
}
DEFAULT_FEATURES = ("x1", "x2")


class FeatureMap:
    """Points (N x 2) -> the chosen features (N x F), in the points' dtype."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.features = [FEATURES[name] for name in names]
        self.identity = names == ("x1", "x2")

    @property
    def labels(self) -> list[str]:
        return [feature.label for feature in self.features]

    def __call__(self, points: np.ndarray) -> np.ndarray:
        if self.identity:
            return points
        x1, x2 = points[:, 0], points[:, 1]
        return np.column_stack([f.compute(x1, x2) for f in self.features]).astype(
            points.dtype, copy=False)

    def __repr__(self) -> str:
        return f"FeatureMap({', '.join(self.names)})"

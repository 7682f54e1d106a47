"""What the engine's own net measures at init across seeds, beside what mean-field theory
(``theory``) predicts for the infinitely wide one: at finite width each seed strays from
the prediction, and the spread over seeds says by how much a single run may."""

from __future__ import annotations

import numpy as np

from .config import Config
from .data import data_rngs
from .engine.model import build_model
from .engine.train import deterministic_blas
from .parts.losses import cross_entropy

Array = np.ndarray


def seed_spread(config: Config, x: Array, n_inputs: int, n_classes: int, seeds: list[int],
                y: Array | None = None, per: int | None = None) -> dict[str, Array]:
    """Pre-activation std ("preact") of every hidden layer (columns) of the engine's net at
    init under each of ``seeds`` (rows), on ``x``: a seed's scatter, which a line alone
    hides. With labels ``y``, also ∂loss/∂h's std ("grad") of the mean loss over ``per``
    examples (the run's diagnostic batch: the mean over ``len(x)`` scaled to it)."""
    rows: dict[str, list] = {"preact": [], "grad": []}
    for seed in seeds:
        model = build_model(config.replace(seed=seed), n_inputs, n_classes,
                            data_rngs(seed)["init"])
        with deterministic_blas():  # threads fighting over 2 busy cores cost 20x here
            logits = model.forward(x, train=False)
            if y is not None:
                model.backward(cross_entropy(logits, y)[1] * (len(x) / (per or len(x))))
        layers = [model.layers[b.activation] for b in model.blocks]
        rows["preact"].append([float(np.std(layer.x, dtype=np.float64)) for layer in layers])
        if y is not None:
            rows["grad"].append([float(np.std(layer.grad_out, dtype=np.float64))
                                 for layer in layers])
    return {name: np.array(values) for name, values in rows.items() if values}

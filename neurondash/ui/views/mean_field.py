"""Mean-field theory for the shown run, computed once per run and shared by the header, the
Activations view and the Gradients view."""

from __future__ import annotations

import numpy as np

from ... import theory
from ...data import data_rngs
from ...run import Run
from ...seed_spread import seed_spread
from ..cache import dataset_of, derived_at_init

SPREAD_SEEDS = 8
"""Other seeds drawn for the band: enough for its range to show a 20–50% scatter."""
SPREAD_EXAMPLES = (32, 128)
"""Examples each seed's net sees, fewest and most: the scatter is the weights', not the
batch's, so large nets see fewer to keep the band under half a second."""
SPREAD_MULTIPLY_ADDS = 2e9
"""Work allowed for all seeds' forward passes (about 0.4 s on one core)."""


def first_layer_std(run: Run) -> float | None:
    """The measured pre-activation std of the first hidden layer at step 0."""
    rows = run.layers[(run.layers["step"] == 0) & (run.layers["layer"] == "hidden 1")]
    return float(rows["preact_std"].iloc[0]) if len(rows) else None


def prediction_of(run: Run) -> theory.Prediction | None:
    """The prediction from the input variance this run measured at step 0 (None without a
    step-0 snapshot or a hidden layer: nothing to compare with)."""
    if 0 not in run.snapshot_steps or not len(run.layers):
        return None
    q0 = theory.input_mean_square(run.config, first_layer_std(run))
    return derived_at_init(run, "theory", lambda: theory.predict(run.config, q0))


def spread_of(run: Run) -> dict[str, np.ndarray]:
    """Pre-activation and gradient std per layer (columns) of this net at init under other
    seeds (rows), on the run's own diagnostic examples: one forward and backward pass per
    seed, no training (``seed_spread.seed_spread``)."""
    def compute() -> dict[str, np.ndarray]:
        data = dataset_of(run)
        seeds = [(run.config.seed + i) % 2**31 for i in range(1, SPREAD_SEEDS + 1)]
        per_example = SPREAD_SEEDS * sum(
            fan * width for fan, width in zip(run.config.fan_ins(), run.config.widths,
                                              strict=False))
        low, high = SPREAD_EXAMPLES
        examples = int(min(max(SPREAD_MULTIPLY_ADDS // per_example, low), high))
        # The run's own diagnostic examples (the first of its permutation): the training
        # split's first examples are the first words' starts, unlike the rest.
        chosen = data_rngs(run.config.seed)["diagnostics"].permutation(
            len(data.y["train"]))[:examples]
        return seed_spread(run.config, data.x["train"][chosen], data.n_inputs,
                                  data.n_classes, seeds, y=data.y["train"][chosen],
                                  per=run.diagnostic_examples)
    return derived_at_init(run, "theory_spread", compute)


def grad_prediction_of(run: Run, prediction: theory.Prediction) -> list[float]:
    """Predicted ∂loss/∂h mean square per layer, anchored at the last layer's measured
    std at step 0."""
    first = run.layers[run.layers["step"] == 0]
    last = float(first.loc[first["layer"] == f"hidden {len(prediction.q)}",
                           "grad_std"].iloc[0])
    return derived_at_init(run, "theory_grad",
                   lambda: theory.predicted_grad_ms(run.config, prediction.q, last**2))

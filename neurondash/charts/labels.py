"""The names the page shows for the engine's parameters and the tables' columns."""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..run import Run


def parameter_label(name: str, matrix_names: list[str], embedding: bool) -> str:
    """A parameter's name as the page shows it: 'hidden 1 weights' for the engine's
    'layers.1.weight'.

    ``matrix_names`` (a Run's, in layer order) are the embedding table (``embedding``:
    character tasks), each hidden layer's weights and the output's; any other parameter
    belongs to the normalisation after the hidden layer below it.
    """
    try:
        _, position, local = name.split(".")
        index = int(position)
    except ValueError:
        return name
    layers = [int(n.split(".")[1]) for n in matrix_names]
    if not layers:
        return name
    if embedding and index == layers[0]:
        return "embedding table"
    hidden = layers[1 if embedding else 0:-1]
    if index == layers[-1]:
        owner = "output"
    elif index in hidden:
        owner = f"hidden {hidden.index(index) + 1}"
    else:
        below = sum(1 for i in hidden if i < index)
        return f"hidden {below} norm {'gain' if local == 'weight' else 'shift'}"
    return f"{owner} {'weights' if local == 'weight' else 'biases'}"


def parameter_labeller(run: Run) -> Callable[[str], str]:
    """``parameter_label`` for this run's parameters."""
    return functools.partial(parameter_label, matrix_names=run.matrix_names,
                             embedding=run.config.is_char_task)


COLUMN_LABELS = {
    "layer": "layer", "units": "units", "act_mean": "mean activation",
    "act_std": "activation std", "grad_std": "gradient std", "param": "parameter",
    "parameter": "parameter", "weight_std": "weight std", "grad_data": "grad:data",
    "entries": "entries checked",
    "max_abs_diff": "largest difference", "relative_error": "relative error",
    "agrees": "agrees", "initial_loss": "initial loss",
    "train_loss": "train loss", "val_loss": "validation loss", "val_acc": "validation accuracy",
    "saturation_init_pct": "saturated % at init (mean of layers)",
    "saturation_final_pct": "saturated % at end (mean of layers)",
    "dead_units": "dead units", "update_data": "typical update:data (log10)", "status": "status",
    "diverged_step": "diverged at step", "seconds": "training seconds",
    "examples": "examples seen", "findings": "findings",
}
"""Readable headers of the tables' columns (the frames keep the short names)."""

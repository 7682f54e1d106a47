"""The diagnosis panel judges the learning rate by the run's typical update:data."""

from __future__ import annotations

import numpy as np

from neurondash import Config, train
from neurondash.diagnosis import diagnose


def lessons(run) -> list[str]:
    return [finding.lesson for finding in diagnose(run)]


def test_a_converged_model_is_not_told_its_learning_rate_is_too_low():
    """Near zero loss the last updates are tiny; that is convergence, not a low lr."""
    run = train(Config(task="spiral", depth=3, width="16", steps=2000))
    last = run.history[run.matrix_names].iloc[-200:].to_numpy()
    assert run.final["train_loss"] < 0.05 and np.median(last) < -4
    assert "Learning rate too low" not in lessons(run)
    assert -4 < run.typical_update_data() < -2


def test_a_high_learning_rate_that_does_not_diverge_is_named():
    run = train(Config(lr=1.0, norm="batch", steps=600))
    assert run.status == "finished"
    assert "Learning rate too high" in lessons(run)


def test_typical_update_data_leaves_out_tiny_matrices_when_larger_ones_exist():
    run = train(Config(task="moons", depth=2, width="16", steps=200))
    shapes = dict(zip(run.weights["param"], run.weights["shape"], strict=True))
    large = [name for name in run.matrix_names if shapes[name] == "16x16"]
    assert len(large) == 1 < len(run.matrix_names)  # 2x16 in, 16x16, 16x2 out
    values = run.history[large].iloc[len(run.history) // 20:].to_numpy()
    assert run.typical_update_data() == float(np.median(values[np.isfinite(values)]))

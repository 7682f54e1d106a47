"""The learning-rate range test and its suggestion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurondash import Config
from neurondash.engine.lr_finder import find_lr, suggest


def test_suggestion_is_the_steepest_descent_before_the_minimum():
    lrs = np.logspace(-4, 1, 50)
    loss = 3 - 2 / (1 + np.exp(-(np.log10(lrs) + 1.5) * 4))  # steepest at lr = 10**-1.5
    loss[40:] += np.linspace(0, 20, 10)  # blows up at the end
    frame = pd.DataFrame({"lr": lrs, "loss": loss, "smoothed": loss})
    assert abs(np.log10(suggest(frame)) + 1.5) < 0.1


def test_range_test_rises_exponentially_and_stops_when_loss_explodes():
    result = find_lr(Config(depth=2, width="32"), low=1e-4, high=10.0, steps=300)
    rates = result.frame["lr"].to_numpy()
    assert rates[0] == 1e-4 and np.all(np.diff(np.log(rates)) > 0)
    assert np.allclose(np.diff(np.log(rates)), np.log(1e5) / 299)
    assert result.stopped_early and len(rates) < 300
    assert 1e-3 < result.suggestion < 3.0

"""The learning-rate range test: its range follows the optimizer, its suggestion is
fastai's valley (in the falling stretch, before the minimum), and it is the median of a
few seeds whose spread is reported."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurondash import Config
from neurondash.engine.lr_finder import RANGES, find_lr, suggest


def test_the_suggestion_lies_in_the_falling_stretch_before_the_minimum():
    lrs = np.logspace(-5, 1, 120)
    decades = np.log10(lrs)
    wobble = 0.01 * np.sin(np.arange(120) * 2.1)  # noise: a flat start is not a descent
    loss = np.where(decades < -3, 3.0 + wobble,
                    np.where(decades < -1, 3.0 - (decades + 3), 1.0 + 10 * (decades + 1) ** 2))
    frame = pd.DataFrame({"lr": lrs, "loss": loss, "smoothed": loss})
    suggestion = np.log10(suggest(frame))
    assert -2.5 < suggestion < -1.3, suggestion  # the middle of the fall from 1e-3 to 1e-1
    assert suggest(frame.iloc[:3]) == lrs[0], "too short a test suggests its first rate"


def test_the_range_follows_the_optimizer_and_rises_exponentially():
    for opt in ("sgd", "adamw"):
        result = find_lr(Config(depth=2, width="32", opt=opt), steps=200, seeds=1)
        rates = result.frame["lr"].to_numpy()
        low, high = RANGES[opt]
        assert rates[0] == low and np.all(np.diff(np.log(rates)) > 0)
        assert np.allclose(np.diff(np.log(rates)), np.log(high / low) / 199)
        smoothed = result.frame["smoothed"]
        assert smoothed.iloc[-1] > 1.5 * smoothed.min(), "it runs past the useful rates"
    assert RANGES["adamw"][1] < RANGES["sgd"][1] / 5


def test_the_suggestion_is_the_median_of_several_seeds_and_they_agree():
    result = find_lr(Config(depth=2, width="32"))
    assert len(result.suggestions) == 3 and sorted(result.frame["seed"].unique()) == [42, 43, 44]
    assert result.suggestion == sorted(result.suggestions)[1]
    low, high = result.spread
    assert high / low < 4, result.suggestions  # one test alone would be trusted too far
    assert 1e-3 < result.suggestion < 3.0
    start = result.frame.groupby("seed")["smoothed"].first().mean()
    assert result.start_loss == start

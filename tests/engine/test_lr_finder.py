"""The learning-rate range test: its range follows the optimizer, its suggestion is a
calibrated fraction of the rate at the loss's minimum, and it is the median of a few seeds
whose spread is reported (benchmarks/lr_finder_check.py measures it against full runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurondash import Config
from neurondash.engine.lr_finder import MIN_FRACTION, RANGES, find_lr, suggest


def test_the_suggestion_is_a_fixed_fraction_of_the_minimums_rate_per_optimizer():
    lrs = np.logspace(-5, 1, 121)
    decades = np.log10(lrs)
    loss = np.where(decades < -1, 3.0 - 0.5 * (decades + 5), 1.0 + 10 * (decades + 1) ** 2)
    frame = pd.DataFrame({"lr": lrs, "loss": loss, "smoothed": loss})
    assert np.isclose(suggest(frame, "sgd"), MIN_FRACTION["sgd"] * 0.1)
    assert np.isclose(suggest(frame, "adamw"), MIN_FRACTION["adamw"] * 0.1)
    assert MIN_FRACTION["adamw"] < MIN_FRACTION["sgd"] < 1
    assert suggest(frame.iloc[:3], "sgd") == lrs[0], "too short a test suggests its first rate"


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
    assert result.suggestion == float(f"{sorted(result.suggestions)[1]:.3g}")  # as stated
    low, high = result.spread
    assert high / low < 4, result.suggestions  # one test alone would be trusted too far
    assert 1e-3 < result.suggestion < 3.0
    start = result.frame.groupby("seed")["smoothed"].first().mean()
    assert result.start_loss == start


def _result(shapes: list[np.ndarray]):
    from neurondash.engine.lr_finder import LRFinderResult

    frame = pd.concat([pd.DataFrame({"seed": seed, "lr": np.geomspace(1e-6, 1, len(shape)),
                                     "loss": shape, "smoothed": shape})
                       for seed, shape in enumerate(shapes)], ignore_index=True)
    return LRFinderResult(frame, 0.2, (0.2,) * len(shapes), float(shapes[0][0]), False)


def test_a_loss_still_falling_at_the_top_of_the_range_names_no_minimum():
    """A ReLU net at init scale 5 under Adam fell all the way to lr 1: its suggestion (0.2)
    made the run worse. Such a test is said to have no minimum inside its range, and the
    diagnosis leaves it out."""
    falling, valley = np.linspace(5, 1, 300), np.r_[np.linspace(5, 1, 150), np.linspace(1, 9, 150)]
    assert _result([falling, falling, valley]).minimum_at_top
    assert not _result([falling, valley, valley]).minimum_at_top

    from neurondash import train
    from neurondash.diagnosis import diagnose

    run = train(Config(lr=10, opt="sgd", steps=300, depth=1, width="16"))
    assert diagnose(run, _result([falling] * 3)) == diagnose(run)

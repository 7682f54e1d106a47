"""Random valid Configs (seeded, so the same ones every run) train without raising and
round-trip through JSON: the promise that nothing raises once training has started, checked
beyond the hand-picked cases. A longer fuzz with this recipe (default-length runs) found a
crash in the snapshot histograms; that case has its own test in test_diagnostics.py."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from neurondash import Config, Run, train
from neurondash.config import SETTINGS, ConfigError

SMALL_INTS = {"steps": (1, 40), "points": (100, 300), "depth": (0, 3), "context": (1, 4),
              "fuse": (0, 4), "embed_dim": (1, 8), "snap_every": (0, 9), "seed": (0, 10**6),
              "more": (0, 40), "data_seed": (-1, 10**6), "until": (0, 40)}
"""Every int setting without choices must be listed here: a float drawn for it is never
valid, so the draw would be silently retried without it."""


def test_every_plain_int_setting_has_a_small_range():
    assert {s.name for s in SETTINGS if s.kind is int} - {"batch"} <= set(SMALL_INTS)


def random_config(rng: random.Random) -> Config:
    """Any setting may be drawn anywhere in its range (log settings on a log scale), with
    sizes kept small so that a run takes milliseconds."""
    while True:
        values = {"steps": rng.randint(*SMALL_INTS["steps"])}
        for setting in SETTINGS:
            if rng.random() < 0.5 or setting.name == "steps":
                continue
            if setting.multi:
                values[setting.name] = ",".join(rng.sample(
                    setting.choices, rng.randint(1, len(setting.choices))))
            elif setting.choices:
                values[setting.name] = rng.choice([c for c in setting.choices if c != "words"])
            elif setting.name == "width":
                values["width"] = ",".join(str(rng.choice([1, 2, 5, 16]))
                                           for _ in range(rng.randint(1, 3)))
            elif setting.name == "batch":
                values["batch"] = rng.choice([1, 2, 7, 32])
            elif setting.name in SMALL_INTS:
                values[setting.name] = rng.randint(*SMALL_INTS[setting.name])
            elif setting.log:
                values[setting.name] = math.exp(rng.uniform(math.log(setting.low),
                                                            math.log(setting.high)))
            else:
                values[setting.name] = rng.uniform(setting.low, setting.high)
        try:
            return Config(**values)
        except ConfigError:  # a combination rule (e.g. width list vs depth): draw again
            continue


@pytest.mark.parametrize("seed", range(3))
def test_random_configs_train_and_round_trip(seed):
    rng = random.Random(seed)
    for _ in range(10):
        config = random_config(rng)
        run = train(config)
        assert run.status in ("finished", "diverged"), config.to_query()
        densities = run.histograms["density"].to_numpy()
        assert np.isfinite(densities).all(), config.to_query()
        text = run.to_json()
        assert Run.from_json(text).to_json() == text, config.to_query()

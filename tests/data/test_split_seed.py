"""data_seed: the split can be held fixed while the seed changes the init and the batches;
left at -1 it follows the seed, so every existing link keeps its numbers."""

from __future__ import annotations

import numpy as np

from neurondash import Config, train
from neurondash.data import load_dataset

SMALL = Config(depth=1, width="8", steps=30)


def test_unset_data_seed_is_todays_split_and_numbers():
    assert SMALL.data_seed == -1 and "data_seed" not in SMALL.to_query()
    same = SMALL.replace(data_seed=SMALL.seed)
    assert load_dataset(same).words == load_dataset(SMALL).words
    a, b = train(SMALL), train(same)
    assert np.array_equal(a.state["params"], b.state["params"])
    assert a.final == b.final


def test_a_fixed_data_seed_shares_the_split_across_seeds_and_the_seed_still_varies_init():
    runs = [SMALL.replace(seed=seed, data_seed=7) for seed in (1, 2)]
    first, second = (load_dataset(config) for config in runs)
    assert first.words == second.words
    assert all(np.array_equal(first.x[s], second.x[s]) for s in ("train", "val", "test"))
    assert first.words != load_dataset(SMALL.replace(seed=1)).words, "seed alone re-splits"
    a, b = (train(config) for config in runs)
    assert not np.array_equal(a.state["params"], b.state["params"])
    assert a.baselines == b.baselines, "the baselines belong to the split"


def test_the_points_follow_the_data_seed():
    moons = Config(task="moons", depth=1, width="4", steps=10)
    fixed = [load_dataset(moons.replace(seed=s, data_seed=3)) for s in (1, 2)]
    assert np.array_equal(fixed[0].x["train"], fixed[1].x["train"])
    assert not np.array_equal(fixed[0].x["train"],
                              load_dataset(moons.replace(seed=1)).x["train"])

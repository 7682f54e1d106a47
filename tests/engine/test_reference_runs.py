"""docs/DESIGN.md's reference numbers for Karpathy's makemore MLP, reproduced end to end.

The MLP: context 3, embedding 10, one hidden layer of 200 tanh units, Kaiming init, the
output layer scaled by 0.01, batch 32, 200k SGD steps at lr 0.1 then 0.01. makemore
reports train 2.04 / val 2.10, and 2.07 / 2.10 with BatchNorm. The two long runs go to two
processes at once (each is about a minute on one core).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurondash import Config, train
from neurondash.sweep import process_pool

MLP = Config(context=3, embed_dim=10, depth=1, width="200", act="tanh", init="kaiming",
             out_scale=0.01, opt="sgd", lr=0.1, sched="step", batch=32, steps=200_000)
REFERENCE = {"none": (2.04, 2.10), "batch": (2.07, 2.10)}
TOLERANCE = 0.03


def final_losses(config: Config) -> tuple[float, float]:
    final = train(config, record=False).final
    return final["train_loss"], final["val_loss"]


@pytest.mark.slow
def test_the_makemore_mlp_reaches_the_lecture_losses():
    with process_pool(2) as pool:  # spawn: safe whatever threads this process has
        results = dict(zip(REFERENCE, pool.map(
            final_losses, [MLP.replace(norm=norm) for norm in REFERENCE]), strict=True))
    for norm, (train_loss, val_loss) in results.items():
        expected_train, expected_val = REFERENCE[norm]
        assert abs(train_loss - expected_train) < TOLERANCE, (norm, train_loss)
        assert abs(val_loss - expected_val) < TOLERANCE, (norm, val_loss)


def test_the_hockey_stick_and_its_fix_at_init():
    """A random-normal network (weights and biases std 1, as in the lecture before its
    fixes) starts at a loss of about 27.9 on one batch; the output layer scaled by 0.01
    starts at about 3.32, near ln 27. Over ten seeds of the diagnostic batch the mean is
    what the lecture's single batch scatters around."""
    raw = Config(context=3, embed_dim=10, depth=1, width="200", init="normal", init_scale=1.0,
                 out_scale=1.0, bias_init=1.0, steps=1)
    hockey = [train(raw.replace(seed=seed)).initial_loss for seed in range(10)]
    assert 24.0 < float(np.mean(hockey)) < 30.0, hockey
    fixed = train(raw.replace(out_scale=0.01)).initial_loss
    assert abs(fixed - 3.32) < 0.05, fixed

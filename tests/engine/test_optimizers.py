"""Optimizers and schedules against hand-computed references; initializer scales."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurondash.parts.activations import ACTIVATIONS, LEAKY_SLOPE
from neurondash.parts.initializers import INITIALIZERS, expected_std
from neurondash.parts.optimizers import OPTIMIZERS, SCHEDULES


def test_sgd_momentum_adam_adamw_one_and_two_steps():
    p0 = np.array([1.0, -2.0, 3.0])
    g = np.array([0.5, 0.1, -0.2])
    mask = np.array([1.0, 1.0, 0.0])
    lr, wd = 0.1, 0.01
    expected = {
        "sgd": p0 - lr * (g + wd * mask * p0),
        "momentum": p0 - lr * (g + wd * mask * p0),
        "adam": p0 - lr * np.sign(g + wd * mask * p0),
        "adamw": p0 - lr * np.sign(g) - lr * wd * mask * p0,
    }
    for name, cls in OPTIMIZERS.items():
        p = p0.copy()
        update = cls(p, wd, mask).step(p, g, lr)
        assert p == pytest.approx(expected[name], rel=1e-6), name
        assert p0 - update == pytest.approx(p)
    p = p0.copy()
    opt = OPTIMIZERS["momentum"](p)
    opt.step(p, g, lr)
    opt.step(p, g, lr)
    assert p == pytest.approx(p0 - lr * g - lr * (0.9 * g + g))


def test_schedules():
    assert SCHEDULES["constant"](0.1, 900, 1000) == 0.1
    assert SCHEDULES["step"](0.1, 749, 1000) == 0.1
    assert SCHEDULES["step"](0.1, 750, 1000) == pytest.approx(0.01)
    assert SCHEDULES["cosine"](0.1, 0, 1000) == pytest.approx(0.1)
    assert SCHEDULES["cosine"](0.1, 500, 1000) == pytest.approx(0.1 * (0.01 + 0.99 * 0.5))
    assert SCHEDULES["cosine"](0.1, 1000, 1000) == pytest.approx(0.001)


def test_kaiming_gains():
    assert ACTIVATIONS["tanh"].gain == pytest.approx(5 / 3)
    assert ACTIVATIONS["relu"].gain == pytest.approx(math.sqrt(2))
    assert ACTIVATIONS["leaky_relu"].gain == pytest.approx(math.sqrt(2 / (1 + LEAKY_SLOPE**2)))
    assert ACTIVATIONS["sigmoid"].gain == 1.0 and ACTIVATIONS["identity"].gain == 1.0


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_scales(name):
    rng = np.random.default_rng(0)
    weights = INITIALIZERS[name](rng, 400, 300, 5 / 3)
    assert weights.shape == (400, 300)
    assert weights.std() == pytest.approx(expected_std(name, 400, 300, 5 / 3), abs=0.01)

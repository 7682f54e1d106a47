"""The backprop check the dashboard runs on a trained model: it passes on the engine's
backward and catches one that is slightly wrong."""

from __future__ import annotations

import numpy as np
import pytest

from neurondash import Config, train
from neurondash.data import load_dataset
from neurondash.engine.gradcheck import EPS, NOISE_FLOOR, TOLERANCE, check_gradients
from tests.faults import output_gradient_one_percent_off


@pytest.fixture(scope="module")
def trained():
    config = Config(depth=2, width="32", norm="batch", steps=200)
    data = load_dataset(config)
    return train(config), data.x["val"][:32], data.y["val"][:32]


def test_every_parameter_of_a_trained_model_agrees(trained):
    run, x, y = trained
    model = run.model(dtype=np.float64)
    running = {name: value.copy() for name, value in model.buffers().items()}
    table = check_gradients(model, x, y, entries=6)
    assert list(table["parameter"]) == list(model.parameters())
    sizes = [p.size for p in model.parameters().values()]
    assert list(table["entries"]) == [min(6, size) for size in sizes]
    assert table["agrees"].all() and (table["relative_error"] < TOLERANCE).all()
    assert running and all(np.array_equal(value, running[name])
                           for name, value in model.buffers().items()), "BatchNorm's running stats"


def test_a_slightly_wrong_backward_is_caught(trained, monkeypatch):
    run, x, y = trained
    output_gradient_one_percent_off(monkeypatch)
    table = check_gradients(run.model(dtype=np.float64), x, y).set_index("parameter")
    output = f"layers.{len(run.model().layers) - 1}.weight"
    assert not table.loc[output, "agrees"]
    assert table.loc[output, "relative_error"] == pytest.approx(0.005, rel=0.05)
    assert table.drop(index=output)["agrees"].all()


def test_float32_is_refused(trained):
    run, x, y = trained
    with pytest.raises(ValueError, match="float64"):
        check_gradients(run.model(), x, y)


def test_vanishing_gradients_below_the_noise_floor_agree():
    """Gradients of ~1e-5 make finite differences' round-off (~1e-10) a relative error above
    the tolerance; those differences are noise, not a wrong backward."""
    config = Config.from_query("context=16&fuse=4&depth=3&width=3&norm=layer&act=sigmoid"
                               "&steps=80&embed_dim=4")[0]
    data = load_dataset(config)
    table = check_gradients(train(config).model(dtype=np.float64), data.x["val"][:32],
                            data.y["val"][:32])
    assert (table["relative_error"] > TOLERANCE).any(), "the case this test is about"
    assert table["agrees"].all()
    assert (table["max_abs_diff"] < NOISE_FLOOR).all()


def test_a_sharply_curved_loss_is_checked_at_a_smaller_step():
    """A saturated net (init_scale 58, loss ~1000): the 1e-6 step's truncation error is
    the whole difference for the embedding, and a 1e-8 step agrees (found by fuzzing)."""
    config = Config(embed_dim=5, init_scale=58.62256743798082, out_scale=9.191709682090925,
                    opt="adam", sched="cosine", batch=2, steps=105)
    data = load_dataset(config)
    table = check_gradients(train(config).model(dtype=np.float64), data.x["val"][:32],
                            data.y["val"][:32]).set_index("parameter")
    assert table["agrees"].all()
    assert table.loc["layers.0.weight", "step"] < EPS

"""Model queries the dashboard uses, checked against direct computation."""

from __future__ import annotations

import numpy as np
import pytest

from neurondash import Config, train
from neurondash.data import load_dataset
from neurondash.engine import queries


@pytest.fixture(scope="module")
def char_run():
    return train(Config(depth=1, width="20", norm="batch", steps=300))


def test_sampled_words_use_the_vocabulary_and_are_seeded(char_run):
    model = char_run.model()
    words = queries.sample_words(model, char_run.vocab, 3, count=20, seed=5)
    assert len(words) == 20 and all(set(w) <= set(char_run.vocab[1:]) for w in words)
    assert words == queries.sample_words(model, char_run.vocab, 3, count=20, seed=5)


def test_next_char_probs_match_the_forward_pass(char_run):
    model = char_run.model()
    probs = queries.next_char_probs(model, char_run.vocab, 3, "em")
    assert probs.shape == (27,) and probs.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        queries.next_char_probs(model, char_run.vocab, 3, "e9")


def test_bigram_table_of_a_context_one_model():
    run = train(Config(context=1, depth=0, embed_dim=27, steps=50))
    table = queries.bigram_table(run.model(), 27)
    assert table.shape == (27, 27) and np.allclose(table.sum(axis=1), 1.0)


def test_grid_probabilities():
    run = train(Config(task="circles", depth=1, width="8", steps=100))
    xs, ys, probs = queries.grid_probs(run.model(), (-1, 1, -1, 1), resolution=15)
    assert probs.shape == (15, 15) and ((probs >= 0) & (probs <= 1)).all()


def test_neuron_trace_adds_up(char_run):
    model = char_run.model()
    data = load_dataset(char_run.config)
    x = data.x["val"][:10]
    trace = queries.trace_neuron(model, x, block=0, unit=3, example=4)
    assert trace.products == pytest.approx(trace.inputs * trace.weights)
    assert trace.linear == pytest.approx(trace.weighted_sum + (trace.bias or 0.0))
    assert trace.normalized is not None
    # A layer that BatchNorm follows has no bias to show (its shift stands in for it).
    assert (trace.bias is None) == (char_run.config.norm == "batch")
    assert trace.output == pytest.approx(np.tanh(trace.normalized), abs=1e-6)
    assert trace.positions == 1 and len(trace.pre_activations) == len(x)
    assert trace.pre_activations[4] == pytest.approx(trace.normalized, abs=1e-6)


def test_neuron_trace_of_a_fusing_layer_is_the_examples_last_positions():
    config = Config(context=4, fuse=2, depth=2, width="8", norm="batch", steps=30)
    model = train(config).model()
    x = load_dataset(config).x["val"][:6]
    trace = queries.trace_neuron(model, x, block=0, unit=5, example=3)
    assert trace.positions == 2 and len(trace.pre_activations) == 2 * len(x)
    table = model.layers[0].params["weight"]
    np.testing.assert_allclose(trace.inputs, table[x[3, 2:]].ravel(), rtol=1e-6)
    below = queries.trace_neuron(model, x, block=1, unit=2, example=3)
    outputs = [queries.trace_neuron(model, x, 0, unit, 3).output for unit in range(8)]
    np.testing.assert_allclose(below.inputs[8:], outputs, rtol=1e-5, atol=1e-6)
    assert below.output == pytest.approx(np.tanh(below.normalized), abs=1e-6)


def test_model_at_a_snapshot_has_that_steps_weights(char_run):
    from neurondash.data import data_rngs
    from neurondash.engine.model import build_model

    initial = char_run.model(step=0)
    fresh = build_model(char_run.config, 27, 27, data_rngs(char_run.config.seed)["init"])
    assert np.array_equal(initial.flat, fresh.flat)
    assert not np.array_equal(char_run.model().flat, fresh.flat)
    assert np.array_equal(char_run.model(step=char_run.steps_done).flat,
                          char_run.state["params"])


def test_grid_activations_are_each_units_output_at_each_grid_point():
    run = train(Config(task="moons", depth=2, width="6", steps=50))
    model = run.model()
    xs, ys, values = queries.grid_activations(model, 1, (-1.0, 1.0, -0.5, 0.5), 5)
    assert values.shape == (5, 5, 6)
    # Cell (row i, column j) is the point (xs[j], ys[i]): recompute one by hand.
    first, second = model.blocks[0], model.blocks[1]
    point = np.array([[xs[3], ys[1]]], dtype=model.dtype)
    hidden = point
    for layer in model.layers[first.linear:second.activation + 1]:
        hidden = layer.forward(hidden, train=False)
    np.testing.assert_allclose(values[1, 3], hidden[0], rtol=1e-5, atol=1e-6)
    assert np.abs(values).max() <= 1.0  # tanh


def test_embedding_points_are_the_table_or_its_first_principal_components():
    two = train(Config(embed_dim=2, depth=1, width="8", steps=20)).model()
    points, shown = queries.embedding_points(two)
    np.testing.assert_array_equal(points, two.layers[0].params["weight"].astype(np.float64))
    assert shown == 1.0
    wide = train(Config(embed_dim=6, depth=1, width="8", steps=20)).model()
    points, shown = queries.embedding_points(wide)
    table = wide.layers[0].params["weight"].astype(np.float64)
    centered = table - table.mean(axis=0)
    _, singular, components = np.linalg.svd(centered, full_matrices=False)
    for k in range(2):  # the same axes up to sign, signed so the largest loading is > 0
        axis = components[k] * np.sign(components[k][np.abs(components[k]).argmax()])
        np.testing.assert_allclose(points[:, k], centered @ axis, atol=1e-9)
    assert shown == pytest.approx(float((singular[:2] ** 2).sum() / (singular**2).sum()))
    assert 0 < shown < 1


def brute_force_dead(model, x, act: str) -> dict[str, int]:
    """Every example through the model at once; a unit is dead when the activation's strict
    rule holds for all of them."""
    from neurondash.parts.activations import ACTIVATIONS

    model.forward(x, train=False)
    return {block.name: int(ACTIVATIONS[act].dead(model.layers[block.activation].x,
                                                  model.layers[block.activation].y)
                            .all(axis=0).sum()) for block in model.blocks}


@pytest.mark.parametrize("query", ["depth=2&act=relu&init_scale=2&bias_init=2&steps=2000",
                                   "depth=2&width=30&act=tanh&init_scale=5&steps=200",
                                   "task=moons&depth=2&width=16&act=relu&bias_init=3&steps=100"])
def test_dead_units_are_counted_on_the_whole_training_split(query):
    """The split-wide count equals a brute-force pass over every training example, and is
    never more than the sample's count (no norm: the same forward pass): a unit dead on
    the whole split is dead on any sample of it, not the other way round."""
    from neurondash import Config as Cfg

    config = Cfg.from_query(query)[0]
    run = train(config)
    x = load_dataset(config).x["train"]
    assert run.dead_units == brute_force_dead(run.model(), x, config.act)
    last = run.layers[run.layers["step"] == run.steps_done]
    sampled = dict(zip(last["layer"], last["dead_units"], strict=True))
    assert all(run.dead_units[name] <= sampled[name] for name in sampled)


def test_a_unit_active_on_a_single_example_is_not_dead():
    config = Config(task="moons", depth=1, width="3", act="relu", points=200, steps=1)
    model = train(config).model()
    layer = model.layers[model.blocks[0].linear]
    layer.params["weight"][...] = 0.0
    layer.params["bias"][...] = [-1.0, 1.0, -1.0]  # units 0 and 2 off, unit 1 always on
    x = load_dataset(config).x["train"]
    assert queries.dead_units(model, x) == {"hidden 1": 2}
    layer.params["weight"][0, 2] = 100.0  # unit 2 fires where x1 > 0.01 only
    assert queries.dead_units(model, x) == {"hidden 1": 1}

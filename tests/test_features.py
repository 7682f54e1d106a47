"""Input features of 2-D points (TensorFlow Playground's Features panel)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurondash import Config, Run, train
from neurondash.cli import build_parser, config_from_args
from neurondash.config import ConfigError
from neurondash.data import load_dataset
from neurondash.engine import queries
from neurondash.features import FEATURES, FeatureMap
from neurondash.search import SearchSpec, choice_range
from neurondash.sweep import axes_from_pairs, parse_values


def test_each_feature_computes_its_formula():
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (50, 2))
    x1, x2 = points[:, 0], points[:, 1]
    expected = {"x1": x1, "x2": x2, "x1sq": x1**2, "x2sq": x2**2, "x1x2": x1 * x2,
                "sin1": np.sin(np.pi * x1), "sin2": np.sin(np.pi * x2)}
    assert set(expected) == set(FEATURES)
    table = FeatureMap(tuple(FEATURES))(points)
    for column, name in enumerate(FEATURES):
        np.testing.assert_allclose(table[:, column], expected[name], rtol=1e-15)
    assert FeatureMap(("x1", "x2"))(points) is points
    assert FeatureMap(("x2sq",))(points.astype(np.float32)).dtype == np.float32


def test_config_keeps_one_canonical_spelling_and_explains_bad_lists():
    assert Config(features=" x2sq , x1sq,x1sq").features == "x1sq,x2sq"
    assert Config(features="x1sq,x2sq").to_query() == "features=x1sq,x2sq"
    for bad in ("", "x3", "x1,,z"):
        with pytest.raises(ConfigError, match="comma list of one or more of x1, x2"):
            Config(features=bad)
    config, warnings = Config.from_query("task=circles&features=x1,bogus")
    assert config.features == "x1,x2" and "features='x1,bogus'" in warnings[0]


def test_the_first_layer_takes_one_input_per_feature():
    config = Config(task="circles", depth=1, width="4", features="x1,x1sq,x2sq")
    run = train(config.replace(steps=5))
    model = run.model()
    assert model.layers[0].params["weight"].shape == (3, 4)
    assert config.n_params() == model.n_params() == 3 * 4 + 4 + 4 * 2 + 2
    # The model maps raw points itself: queries over the plane and traces need no change.
    xs, ys, probs = queries.grid_probs(model, (-1, 1, -1, 1), 5)
    assert probs.shape == (5, 5)
    points = load_dataset(config).x["val"][:8]
    trace = queries.trace_neuron(model, points, 0, 1, 2)
    np.testing.assert_allclose(trace.inputs, FeatureMap(("x1", "x1sq", "x2sq"))(
        points.astype(np.float32))[2], rtol=1e-6)


def test_squared_inputs_make_the_circles_linearly_separable():
    """Playground's lesson: with no hidden layer, x1, x2 cannot separate the circles;
    x1² and x2² can."""
    base = Config(task="circles", depth=0, steps=2000, lr=0.5)
    plain = train(base).final["val_acc"]
    squared = train(base.replace(features="x1sq,x2sq")).final["val_acc"]
    assert plain < 0.75 and squared > 0.97, (plain, squared)


def test_features_reach_json_cli_and_sweeps(tmp_path):
    run = train(Config(task="xor", depth=1, width="3", steps=20, features="x1x2"))
    back = Run.from_json(run.to_json())
    assert back.config.features == "x1x2"
    assert json.loads(run.to_json())["config"]["features"] == "x1x2"
    np.testing.assert_array_equal(back.model().flat, run.model().flat)
    args = build_parser().parse_args(["train", "--task", "xor", "--features", "x1x2,sin1"])
    assert config_from_args(args)[0].features == "x1x2,sin1"
    assert parse_values("features", "x1,x2; x1sq,x2sq") == ("x1,x2", "x1sq,x2sq")
    axes = axes_from_pairs(["features=x1,x2;x1x2"])
    spec = SearchSpec(Config(task="xor", depth=0, steps=10),
                      tuple(choice_range(name, values) for name, values in axes.items()),
                      method="grid")
    trials = [spec.trial(i, values) for i, values in enumerate(spec.grid_values())]
    assert [trial.config.features for trial in trials] == ["x1,x2", "x1x2"]

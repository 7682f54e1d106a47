"""The Weights view's prescription: for every init scheme and every activation, the std the
engine's weights have at init is the one ``prescribed_std`` says the init chose."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurondash import Config, train
from neurondash.charts.weights import init_table, prescribed_std, weight_std_frame
from neurondash.parts.activations import ACTIVATIONS
from neurondash.parts.initializers import INITIALIZERS

WIDE = dict(depth=2, width="256", steps=1)


def _check_init_held(config: Config) -> None:
    run = train(config)
    table = init_table(run, 0)
    assert len(table) == len(run.matrix_names)
    for _, row in table.iterrows():
        if row["prescribed_std"] == 0:
            assert row["init_std"] == 0
            assert math.isnan(row["vs_prescribed"])
            continue
        fan_in, fan_out = (int(n) for n in row["shape"].split("x"))
        noise = 1 / math.sqrt(2 * fan_in * fan_out)  # a sample std's relative error
        assert row["init_std"] == pytest.approx(row["prescribed_std"], rel=4 * noise), (
            row.to_dict())


@pytest.mark.parametrize("init", sorted(INITIALIZERS))
def test_every_init_scheme_draws_the_std_the_weights_view_prescribes(init):
    _check_init_held(Config(init=init, init_scale=0.7, out_scale=0.5, **WIDE))


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_kaiming_uses_each_activations_own_gain(act):
    _check_init_held(Config(act=act, init="kaiming", **WIDE))


def test_the_prescription_is_the_kaiming_formula_and_training_moves_away_from_it():
    run = train(Config(task="moons", depth=2, width="64", steps=300, lr=0.5, act="tanh"))
    hidden = run.matrix_names[1]
    shape = str(run.weights.loc[run.weights["param"] == hidden, "shape"].iloc[0])
    assert prescribed_std(run, hidden, shape) == pytest.approx(
        ACTIVATIONS["tanh"].gain / math.sqrt(64))
    last = run.snapshot_steps[-1]
    moved = init_table(run, last)["vs_prescribed"].to_numpy()
    held = init_table(run, 0)["vs_prescribed"].to_numpy()
    assert np.abs(moved - 1).max() > np.abs(held - 1).max()


def test_the_std_over_training_has_one_named_line_per_matrix_and_snapshot():
    run = train(Config(steps=40))
    frame = weight_std_frame(run)
    assert len(frame) == len(run.matrix_names) * len(run.snapshot_steps)
    assert "embedding table" in set(frame["param"])
    assert not frame["param"].str.contains(r"layers\.").any()


def test_the_sentence_names_init_scale_wherever_it_multiplies():
    """init_scale multiplies the output layer too: the sentence says so for both."""
    from neurondash.charts.weights import prescription_sentence

    config = Config(init_scale=3.0, out_scale=0.1, **WIDE)
    run = train(config)
    out = init_table(run, 0).iloc[-1]
    assert out["prescribed_std"] == pytest.approx(3.0 * 0.1 / math.sqrt(256))
    sentence = prescription_sentence(run)
    assert sentence.count("x init scale 3") == 2, sentence
    assert "times out scale 0.1" in sentence


@pytest.mark.parametrize("init", ["kaiming", "xavier", "normal", "uniform"])
def test_the_sentence_gives_the_output_layer_the_rule_its_table_row_follows(init):
    """A uniform init's sentence said the output had "gain 1 x init scale 0.3, times out
    scale 0.1" (read: std 0.03) where its row prescribes 0.0173 (1/√3 of that): only
    Kaiming has a gain; the other schemes give the output their own rule."""
    from neurondash.charts.weights import prescription_sentence

    run = train(Config(init=init, init_scale=0.3, **WIDE))
    sentence = prescription_sentence(run)
    assert ("gain" in sentence) == (init == "kaiming"), sentence
    table = init_table(run, 0)
    hidden, out = table.iloc[-2], table.iloc[-1]
    if init in ("normal", "uniform"):  # the same rule whatever the fan: out scale alone
        assert "the output's with the same rule" in sentence
        assert out["prescribed_std"] == pytest.approx(0.1 * hidden["prescribed_std"])


def test_a_single_weight_matrix_gets_no_ratio_to_its_prescription():
    """width=1 read "÷ prescribed 0" for its 1x1 matrices: one weight has no spread, so its
    std is 0 by definition, which is not an init that failed."""
    run = train(Config.from_query("width=1&steps=30")[0])
    table = init_table(run, 30).set_index("shape")
    single = table.loc[["1x1"]]
    assert (single["weight_std"] == 0).all() and single["vs_prescribed"].isna().all()
    assert table.drop(index="1x1")["vs_prescribed"].notna().all()

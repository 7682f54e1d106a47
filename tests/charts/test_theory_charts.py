"""Theory charts and words, built from data without Streamlit: the seed band, the header's
sentence for every activation, and the edge-of-chaos map with its measured boundary."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash import Config
from neurondash.charts.edge import (
    MAX_SCALES,
    best_cell_sentence,
    boundary_sentence,
    curve_frame,
    edge_cells,
    edge_chart,
    edge_frame,
    measured_boundary,
)
from neurondash.charts.theory import (
    MEASURED,
    THEORY,
    headline,
    layer_frame,
    spread_sentence,
    theory_chart,
    theory_sentence,
)
from neurondash.parts.activations import ACTIVATIONS
from neurondash.theory import predict


def datasets(spec: dict) -> list[list[dict]]:
    return list(spec["datasets"].values())


def test_the_band_spans_the_seeds_and_the_sentence_reads_it():
    spread = np.array([[1.0, 0.5], [1.2, 0.8], [0.9, 1.1]])
    frame = layer_frame([1.05, 0.9], [1.0, 0.8], spread)
    band = frame.dropna(subset=["low"])
    assert band["low"].tolist() == [0.9, 0.5] and band["high"].tolist() == [1.2, 1.1]
    assert set(frame["series"]) == {MEASURED, THEORY, "3 other seeds (range)"}
    spec = theory_chart(frame).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["area", "line"]
    assert spec["layer"][0]["encoding"]["y2"] == {"field": "high"}
    text = spread_sentence(frame, predict(Config(act="relu", depth=2)))
    # Deepest layer: 0.5 / 0.8 - 1 = -38%, 1.1 / 0.8 - 1 = +38%.
    assert "at layer 2 they lie between 38% below theory and 38% above theory" in text
    assert "one relu seed" in text


def test_a_prediction_a_log_axis_cannot_draw_is_left_out():
    frame = layer_frame([1.0, 0.5, 0.2], [1.0, 0.0, math.inf])
    assert frame[frame["series"] == THEORY]["layer"].tolist() == [1]
    assert spread_sentence(frame, predict(Config())) == ""


NAMES = sorted(ACTIVATIONS)


@pytest.mark.parametrize("act", NAMES)
@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_the_headline_names_only_this_activation_and_its_phase(act, scale):
    prediction = predict(Config(act=act, init_scale=scale))
    text = headline(prediction)
    near = (", near the edge of chaos" if prediction.phase != "critical"
            and 0.8 <= prediction.chi1 <= 1.25 else "")
    assert text.startswith(f"{prediction.phase.capitalize()} phase{near} (χ₁ = "
                           f"{prediction.chi1:.3g})")
    others = [n for n in NAMES if n != act and re.search(rf"\b{n}\b", text)]
    assert not others, text
    assert "saturat" not in text or ACTIVATIONS[act].output_range is not None
    if prediction.critical_init_scale is not None and prediction.phase != "critical":
        assert f"init_scale {prediction.critical_init_scale:.3g} puts {act} at the edge" in text
    if prediction.phase == "chaotic" and math.isinf(prediction.q_star):
        assert f"{act}'s positive side is unbounded" in text


def test_the_lectures_tanh_is_told_why_it_trains_and_the_edge_what_it_does():
    """The default (gain 5/3) is chaotic at q* but its 3 layers see ×1.11, not χ₁ = 1.21,
    and are far within 6 ξ_c; at the critical scale q* = 0, so activations and gradients
    still shrink over 3 layers (×0.68): "keep their size" would be false there."""
    default = headline(predict(Config()))
    assert default.startswith("Chaotic phase, near the edge of chaos (χ₁ = 1.21): ")
    assert ("grows ×1.11 per layer over this net's 3 layers: its variance has not reached "
            "the fixed point q* = 1.18 where the rate is χ₁ = 1.21") in default
    assert "3 hidden layers are within 6 ξ_c (about 73 layers), the depth beyond which " \
        "theory says a net stops training" in default
    critical = headline(predict(Config(init_scale=0.6)))
    assert "keep their size" not in critical
    assert "activations shrink toward 0, but only slowly" in critical
    assert "shrinks ×0.68 per layer over this net's 3 layers" in critical
    assert "keep their size" in headline(predict(Config(act="relu")))


def test_headline_words_for_the_cases_learners_meet():
    assert headline(predict(Config(act="gelu"))).endswith(
        "no init_scale puts gelu without bias at a stable edge of chaos: its χ₁ = 1 point is "
        "unstable (a large enough bias_init makes one).")
    assert "init_scale 10.1 puts sigmoid at the edge of chaos" in headline(
        predict(Config(act="sigmoid")))
    small = headline(predict(Config(init_scale=0.3, depth=8)))
    assert "activations shrink toward 0" in small and "6 ξ_c" not in small  # q* = 0
    biased = headline(predict(Config(init_scale=0.3, depth=8, bias_init=0.1)))
    assert "inputs become alike" in biased and "8 hidden layers are beyond" in biased
    assert headline(predict(Config(norm="batch"))).startswith(
        "Mean-field theory does not apply here (batch norm rescales")


def grid(boundary_at: dict[float, float], depths=(1, 2, 4, 8)) -> pd.DataFrame:
    """val loss 2.0 (trained) below each scale's boundary depth, 3.0 at and above it."""
    return pd.DataFrame([{"init_scale": s, "depth": d, "val_loss": 2.0 if d < b else 3.0}
                         for s, b in boundary_at.items() for d in depths])


def test_cells_meet_halfway_on_a_log_scale():
    cells = edge_cells(grid({0.1: 3, 0.4: 9}))
    first = cells[(cells["init_scale"] == 0.1) & (cells["depth"] == 1)].iloc[0]
    assert first["scale_high"] == pytest.approx(0.2) and first["scale_low"] == pytest.approx(
        0.05)
    assert first["depth_low"] == 0.5 and first["depth_high"] == 1.5


def test_the_boundary_is_halfway_past_the_deepest_trained_cell_and_compared_with_theory():
    cells = edge_cells(grid({0.1: 3, 0.2: 0, 0.4: 9, 1.0: 6}))
    boundary = measured_boundary(cells, threshold=2.5).set_index("init_scale")
    assert boundary.loc[0.1, "boundary"] == 3.0 and boundary.loc[0.1, "side"] == "inside"
    assert boundary.loc[0.2, "side"] == "below" and boundary.loc[0.4, "side"] == "above"
    theory = {0.1: 2.0, 0.2: 0.5, 0.4: None, 1.0: 12.0}
    phases = {0.1: "ordered", 0.2: "ordered", 0.4: "critical", 1.0: "chaotic"}
    text = boundary_sentence(boundary.reset_index(), theory, phases, (1, 8))
    assert text.startswith("Ordered phase: the measured boundary lies at 1.5 × 6 ξ_c "
                           "(at 1 init scale: follows it); 1 init scale with "
                           "no boundary inside depths 1–8, as theory says.")
    assert "Critical phase: 1 init scale with no boundary" in text
    assert "Chaotic phase: the measured boundary lies at 0.5 × 6 ξ_c" in text
    assert "nets stop training well before it" in text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=2, max_size=6),
       st.lists(st.booleans(), min_size=4, max_size=4))
def test_the_boundary_is_never_deeper_than_the_first_failure(boundaries, noise):
    """Whatever the losses (failures then successes again, NaN for diverged runs), the
    boundary lies between the deepest trained cell before the first failure and it."""
    depths = (1, 2, 4, 8)
    scales = [0.1 * 2**i for i in range(len(boundaries))]
    rows = [{"init_scale": s, "depth": d,
             "val_loss": (math.nan if noise[j] and d >= b else 2.0 if d < b else 3.0)}
            for s, b in zip(scales, boundaries, strict=True) for j, d in enumerate(depths)]
    found = measured_boundary(edge_cells(pd.DataFrame(rows)), 2.5)
    for (_, row), b in zip(found.iterrows(), boundaries, strict=True):
        failed = [d for d in depths if d >= b]
        if not failed:
            assert row["side"] == "above" and math.isinf(row["boundary"])
        elif failed[0] == depths[0]:
            assert row["side"] == "below"
        else:
            assert depths[depths.index(failed[0]) - 1] < row["boundary"] < failed[0]


def test_the_map_draws_the_cells_the_curve_the_rule_and_the_boundary():
    cells = edge_cells(grid({0.1: 3, 0.4: 9, 1.0: 6}))
    boundary = measured_boundary(cells, 2.5)
    curve = curve_frame([0.06, 0.1, 0.3, 0.6, 1.0, 50.0], [1.0, 2.0, 5.0, None, 20.0, 9.0], 0.6)
    assert curve["branch"].tolist() == ["ordered"] * 3 + ["chaotic"] * 2
    spec = edge_chart(cells, curve, 0.6, 8, boundary).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
             for layer in spec["layer"]]
    assert marks == ["rect", "line", "rule", "point"]
    rows = datasets(spec)
    assert max(len(r) for r in rows) == len(cells)
    drawn = next(r for r in rows if r and "branch" in r[0])
    # Outside the map's scales (50 > 1.0's cell edge) is left out; 20 > 8 stays, clipped.
    assert [r["init_scale"] for r in drawn] == [0.06, 0.1, 0.3, 1.0]
    assert any(r == [{"init_scale": 0.6, "label": "critical init_scale"}] for r in rows)


def test_a_net_far_from_its_fixed_point_is_told_its_own_rate():
    """GELU at init_scale 1: χ₁ = 0.5 at q* = 0, but its layers' q stays near 2, where a
    layer scales the gradient's mean square by about 0.9: the header says both, and no
    verdict on depth from a ξ_c the net does not see."""
    prediction = predict(Config(act="gelu", depth=10))
    assert prediction.chi1 == pytest.approx(0.5, abs=1e-6)
    mean = float(np.exp(np.mean(np.log(prediction.gradient_factors))))
    assert 0.8 < mean < 1.0
    text = headline(prediction)
    assert (f"shrinks ×{mean:.3g} per layer over this net's 10 layers: its variance has not "
            "reached the fixed point q* = 0 where the rate is χ₁ = 0.5") in text
    assert "widths" not in text, "its layers are equally wide"
    assert "6 ξ_c" not in text
    near = headline(predict(Config(act="tanh", init_scale=0.3, depth=8, bias_init=0.1)))
    assert "per layer over this net's" not in near and "6 ξ_c" in near


def test_a_search_off_any_grid_becomes_map_cells_with_its_diverged_trials_untrained():
    rng = np.random.default_rng(0)
    scales = np.exp(rng.uniform(np.log(0.05), np.log(5.0), 60))
    depths = rng.integers(1, 6, 60)
    losses = rng.uniform(2.0, 3.0, 60)
    losses[:5] = np.nan  # diverged
    board = pd.DataFrame({"init_scale": scales, "depth": depths, "val_loss": losses,
                          "link": "?x"})
    cells = edge_frame(board, ceiling=3.2958)
    assert cells["init_scale"].nunique() <= MAX_SCALES
    assert cells["init_scale"].between(0.05, 5.0).all()
    assert len(cells) == len(cells.drop_duplicates(["init_scale", "depth"]))
    assert cells["val_loss"].max() == 3.2958 and np.isfinite(cells["val_loss"]).all()
    assert cells["val_loss"].min() == pytest.approx(np.nanmin(losses))
    on_grid = board.assign(init_scale=np.where(scales < 0.5, 0.1, 1.0))
    assert sorted(edge_frame(on_grid, 3.3)["init_scale"].unique()) == [0.1, 1.0]
    assert not edge_cells(cells).empty


def test_the_trainable_depth_is_said_in_whole_layers_and_hedged():
    """ReLU at init scale 0.5 with a bias has ξ_c ≈ 0.72, 6 ξ_c ≈ 4.3: a depth-5 net there
    still trains (slowly), so the sentence says "slowly or not at all", in layers a learner
    counts. Without a bias no depth is said (see test_theory)."""
    text = theory_sentence(predict(Config(act="relu", init_scale=0.5, depth=5, bias_init=0.1)))
    assert "over about 0.72 layers" in text and "6 ξ_c, is about 4 layers" in text
    assert "train slowly or not at all" in text and "4.33" not in text


def test_the_best_cell_is_placed_against_the_critical_scale():
    frame = pd.DataFrame({"init_scale": [0.3, 0.6, 1.0, 1.0], "depth": [2, 2, 2, 6],
                          "val_loss": [2.6, 2.5, 2.4, 2.45]})
    text = best_cell_sentence(frame, 0.6)
    assert text.startswith("The lowest validation loss (2.400) is at init_scale 1 with 2 "
                           "hidden layers, on the chaotic side of the critical init scale")
    assert "on the ordered side" in best_cell_sentence(frame.assign(
        val_loss=[2.3, 2.5, 2.4, 2.45]), 0.6)
    assert best_cell_sentence(frame, 1.0).endswith("with 2 hidden layers.")
    assert best_cell_sentence(frame, None).endswith("with 2 hidden layers.")


def test_unequal_widths_are_named_as_what_bends_the_gradients_rate():
    """width=7,300,2 read "Chaotic phase ... shrinks ×0.592 per layer ..., whose variance has
    not reached the fixed point": the shrinking comes from the widths (a layer passes its
    gradient back scaled by width over fan-in), which mean-field theory takes as equal. The
    header names that part; what is left is the equal-width net's own rate."""
    unequal = predict(Config.from_query("width=7,300,2")[0])
    equal = predict(Config())
    widths = float(np.exp(np.mean(np.log([300 / 7, 2 / 300]))))
    text = headline(unequal)
    assert f"unequal widths scale it by width over fan-in (×{widths:.3g} per layer" in text
    own = float(np.exp(np.mean(np.log(unequal.gradient_factors))))
    same = float(np.exp(np.mean(np.log(equal.gradient_factors))))
    assert own / widths == pytest.approx(same, rel=0.02)
    assert f"shrinks ×{own:.3g} per layer" in text


@given(st.floats(-12, 3), st.floats(0.01, 3), st.integers(2, 8))
def test_the_theory_axis_labels_its_whole_drawn_range(low_exponent, decades, layers):
    """Within one decade Vega labelled only its own round steps (a gradient std from 5e-5
    to 1.7e-4: labels up to 9e-5, none above): the axis now has labels spread over every
    value drawn, the smallest and largest within 5% of the ends."""
    stds = np.logspace(low_exponent, low_exponent + decades, layers)
    frame = pd.DataFrame({"layer": np.arange(1, layers + 1), "std": stds,
                          "series": MEASURED, "low": np.nan, "high": np.nan})
    spec = theory_chart(frame).to_dict()
    axis = [layer["encoding"]["y"]["axis"] for layer in spec["layer"]
            if "axis" in layer["encoding"]["y"]][0]
    ticks = axis["values"]
    assert len(ticks) >= 3
    digits = int(re.fullmatch(r"\.(\d+)~g", axis["format"]).group(1))
    assert len({f"{t:.{digits}g}" for t in ticks}) == len(ticks), "labels tell ticks apart"
    assert ticks == sorted(ticks) and all(t > 0 for t in ticks)
    assert abs(math.log(ticks[0] / stds.min())) < 0.05
    assert abs(math.log(ticks[-1] / stds.max())) < 0.05

"""Chart builders are pure: checked through chart.to_dict(), without Streamlit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash import Config, charts, train
from neurondash.charts import prepare
from neurondash.parts.optimizers import SCHEDULES


@pytest.fixture(scope="module")
def run():
    return train(Config(depth=2, width="16", steps=5000, snap_every=1000))


def datasets(spec: dict) -> list[list[dict]]:
    return list(spec["datasets"].values())


def test_engine_data_and_charts_do_not_import_streamlit():
    code = ("import sys, neurondash, neurondash.charts.prepare, neurondash.diagnosis, "
            "neurondash.cli; print('streamlit' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_loss_chart_downsamples_and_labels_baselines(run):
    curves = prepare.loss_curves(run)
    assert len(curves) <= 2 * prepare.LOSS_POINTS + len(run.evals)
    spec = charts.loss_chart(curves, prepare.loss_references(run), log_scale=True).to_dict()
    rows = datasets(spec)
    assert any(r and "series" in r[0] for r in rows)
    labels = {r["label"] for data in rows for r in data if "label" in r}
    assert {"uniform guess -ln(1/V)", "count bigram (val)"} <= labels
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"


def test_histogram_chart_has_one_colour_per_layer(run):
    hist = prepare.histograms_at(run, run.snapshot_steps[-1], "activation")
    spec = charts.histogram_chart(hist, "t", "x").to_dict()
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"] == ["hidden 1", "hidden 2"]
    assert scale["range"][:2] == charts.PALETTE[:2]
    assert spec["params"][0]["bind"] == "legend"
    grads = prepare.histograms_at(run, run.snapshot_steps[-1], "weight_grad")
    color = charts.histogram_chart(grads, "t", "x").to_dict()["encoding"]["color"]
    assert color["legend"]["title"] == "parameter" and color["scale"]["domain"] == [
        "embedding table", "hidden 1 weights", "hidden 2 weights", "output weights"]
    assert len(set(color["scale"]["range"])) == len(run.matrix_names)


def test_update_data_chart_has_the_guide_and_fits_the_row_cap(run):
    frame = prepare.update_data_frame(run)
    assert len(frame) <= charts.MAX_ROWS
    spec = charts.over_steps_chart(frame, "update_data", "u", "log10", color="param",
                                   guide=-3.0).to_dict()
    assert any(r.get("y") == -3.0 for data in datasets(spec) for r in data)


def test_dead_map_keeps_under_the_row_cap():
    mask = np.zeros((48, 1000), dtype=bool)
    mask[:, 7] = True
    spec = charts.dead_map_chart(prepare.dead_map_frame(mask), "hidden 1", 1000).to_dict()
    rows = datasets(spec)[0]
    assert len(rows) <= charts.MAX_ROWS
    assert all(r["saturated"] for r in rows if r["unit"] == 7)


def test_oversized_data_is_refused():
    frame = pd.DataFrame({"previous": ["a"] * 6000, "next": ["b"] * 6000, "p": 0.1})
    with pytest.raises(ValueError, match="pre-aggregate"):
        charts.heatmap_chart(frame, "too big")


def test_downsample_averages_groups():
    steps = np.arange(1, 10_001)
    s, v = prepare.downsample(steps, steps.astype(float), 100)
    assert len(s) == 100 and v[0] == pytest.approx(50.5) and s[-1] == 10_000


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=3000), st.integers(2, 400))
@settings(max_examples=60, deadline=None)
def test_extremes_keep_every_groups_lowest_and_highest_in_step_order(values, points):
    steps = np.arange(1, len(values) + 1)
    s, v = prepare.extremes(steps, np.array(values), points)
    assert len(s) <= max(points, 2) and np.all(np.diff(s) > 0)
    assert v.max() == max(values) and v.min() == min(values)
    assert np.array_equal(v, np.array(values)[s - 1]), "each value at its own step"


def test_the_loss_chart_draws_an_early_spike_at_its_height():
    run = train(Config(act="relu", depth=7, lr=0.3, steps=3000))
    peak = run.history["loss"].iloc[:300].max()
    curves = prepare.loss_curves(run)
    assert curves.loc[curves["series"] == "train", "loss"].max() == peak


def test_an_exploding_loss_is_smoothed_on_the_log_scale_it_is_drawn_on():
    """relu at init_scale 30 starts near 2e5, jumps to 1e13, falls to 3.3, then diverges:
    the smoothed curve, a plain average, stayed near 1e12 while the loss was at 3.3. It now
    averages log loss, as the log-scale chart reads it."""
    run = train(Config.from_query("act=relu&init_scale=30&steps=400&seed=77")[0])
    assert prepare.loss_explodes(run)
    curves = prepare.loss_curves(run)
    smoothed = curves.loc[curves["series"] == "train (smoothed)", "loss"].to_numpy()
    loss = run.history["loss"].to_numpy()
    kept = np.isfinite(loss)
    plain = prepare.ema(loss[kept], 10)
    low = int(np.argmin(loss[kept]))  # the loss at its lowest before it blew up
    assert smoothed[low] < plain[low] / 1e3
    assert np.log(smoothed[low]) == pytest.approx(prepare.ema(np.log(loss[kept]), 10)[low])


def test_decision_chart_colours_regions_like_their_class_and_spans_the_grid():
    xs = np.linspace(-1.5, 1.5, 4)
    probs = (np.meshgrid(xs, xs)[0] > 0).astype(float)
    points = pd.DataFrame({"x": [-1.0, 1.0], "y": [0.0, 0.0], "label": ["0", "1"],
                           "split": "train"})
    plane = prepare.decision_frame(xs, xs, probs, points)
    assert (plane["part"] == "grid").sum() == 16 and (plane["part"] == "point").sum() == 2
    cell = plane[(plane["part"] == "grid")].iloc[5]  # row 1, column 1
    assert (cell["x"], cell["x2"], cell["p"]) == (-1.0, 0.0, probs[1, 1])
    spec = charts.decision_chart(plane).to_dict()
    background, dots = spec["layer"]
    region = background["encoding"]["color"]["scale"]
    assert region["scheme"] == "redblue" and not region.get("reverse")  # 0 red, 1 blue
    assert dots["encoding"]["color"]["scale"]["range"] == ["#b2182b", "#2166ac"]
    assert background["encoding"]["x"]["scale"]["domain"] == [-2.0, 2.0]
    assert dots["mark"]["clip"] is True
    (split,) = spec["params"]  # Altair lifts a layer's selection to the top
    assert split["select"]["fields"] == ["split"] and split["bind"] == "legend"
    assert dots["encoding"]["opacity"]["condition"]["param"] == split["name"]
    assert len(datasets(spec)) == 1, "one frame: a new snapshot only swaps the data"


def test_neuron_inputs_name_the_context_character_and_embedding_dimension():
    vocab = ".abc"
    labels = prepare.neuron_inputs(0, 6, context=np.array([0, 3, 1]), vocab=vocab,
                                   embed_dim=2)
    assert labels == ["char 1 '.', embedding dim 0", "char 1 '.', embedding dim 1",
                      "char 2 'c', embedding dim 0", "char 2 'c', embedding dim 1",
                      "char 3 'a', embedding dim 0", "char 3 'a', embedding dim 1"]
    assert prepare.neuron_inputs(0, 2) == ["x1", "x2"]
    assert prepare.neuron_inputs(2, 3) == ["hidden 2 unit 0", "hidden 2 unit 1",
                                           "hidden 2 unit 2"]
    # A fusing layer: the first sees the last two characters, a deeper one two positions.
    assert prepare.neuron_inputs(0, 4, context=np.array([0, 3, 1, 2]), vocab=vocab,
                                 embed_dim=2)[2] == "char 4 'b', embedding dim 0"
    assert prepare.neuron_inputs(1, 6, below=3)[4] == "hidden 1 unit 1, position 2 of 2"


def test_unit_maps_keep_the_first_units_and_fit_the_row_cap():
    xs, ys = np.linspace(-1, 1, 16), np.linspace(-1, 1, 16)
    values = np.random.default_rng(0).uniform(-1, 1, (16, 16, 40))
    cells = prepare.unit_maps_frame(xs, ys, values, 16)
    assert sorted(cells["unit"].unique()) == list(range(16))
    first = cells[(cells["unit"] == 2) & (cells["row"] == 4) & (cells["column"] == 7)]
    assert first["value"].item() == values[4, 7, 2]
    spec = charts.unit_maps_chart(cells, (-1.0, 1.0)).to_dict()
    assert len(datasets(spec)[0]) == len(cells) <= charts.MAX_ROWS
    assert spec["spec"]["encoding"]["color"]["scale"]["domain"] == [-1.0, 1.0]


def test_embedding_chart_labels_every_character():
    frame = pd.DataFrame({"char": list(".abc"), "x": [0.0, 1.0, 2.0, 3.0],
                          "y": [1.0, 0.0, -1.0, 0.5]})
    spec = charts.embedding_chart(frame, "dim 0", "dim 1").to_dict()
    assert [row["char"] for row in datasets(spec)[0]] == list(".abc")
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["circle", "text"]
    assert spec["layer"][1]["encoding"]["text"]["field"] == "char"
    encoding = spec["encoding"] if "encoding" in spec else spec["layer"][0]["encoding"]
    assert all(encoding[axis]["scale"]["padding"] > 0 for axis in "xy"), \
        "a character at the edge of the range stays inside the plot"


def test_network_frame_draws_the_first_units_and_the_weights_between_them():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(2, 20)), rng.normal(size=(20, 3)), rng.normal(size=(3, 2))]
    network = prepare.network_frame(weights, max_units=16, input_labels=["x1²", "sin(πx2)"])
    units, lines = network[network["part"] == "unit"], network[network["part"] == "weight"]
    assert units.loc[units["column"] == 0, "label"].tolist() == ["x1²", "sin(πx2)"]
    assert not units.loc[units["column"] > 0, "label"].any()
    assert units.groupby("column").size().tolist() == [2, 16, 3, 2]
    assert units["layer"].unique().tolist() == ["input", "hidden 1", "hidden 2", "output"]
    assert len(lines) == 2 * 16 + 16 * 3 + 3 * 2
    # Column 1 holds 16 units centred on 0: unit 0 at row -7.5, unit 15 at +7.5.
    line = lines[(lines["column"] == 1) & (lines["row"] == -7.5) & (lines["row2"] == 1.0)]
    assert line["weight"].item() == weights[1][0, 2]
    assert lines["size"].max() == 1.0 and lines["size"].min() >= 0
    spec = charts.network_chart(network).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "circle", "text"]
    assert spec["layer"][2]["encoding"]["text"]["field"] == "label"
    assert len(datasets(spec)) == 1, "one frame: a new snapshot only swaps the data"


def test_distribution_over_steps_scales_each_histogram_to_its_peak(run):
    frame = prepare.distribution_over_steps(run, "activation")
    assert set(frame["step"]) == set(run.snapshot_steps)
    assert list(dict.fromkeys(frame["name"])) == ["hidden 1", "hidden 2"]
    peaks = frame.groupby(["name", "step"])["share"].max()
    assert np.allclose(peaks, 1.0)
    assert frame["share"].between(0.0, 1.0).all()
    one = frame[(frame["name"] == "hidden 2") & (frame["step"] == run.snapshot_steps[1])]
    assert np.allclose(one["share"], one["density"] / one["density"].max())


def test_distribution_over_steps_thins_snapshots_evenly_to_the_row_cap():
    many = train(Config(depth=3, width="8", steps=398, snap_every=2))
    assert len(many.snapshot_steps) == 200
    frame = prepare.distribution_over_steps(many, "gradient", max_rows=1200)
    steps = sorted(set(frame["step"]))
    assert len(frame) <= 1200 and len(steps) == 1200 // (3 * 40)
    assert steps[0] == 0 and steps[-1] == 398
    gaps = np.diff(steps)
    assert gaps.max() - gaps.min() <= 2
    assert prepare.distribution_over_steps(many, "no such quantity").empty


def test_distribution_over_steps_chart_draws_one_heatmap_row_per_layer(run):
    frame = prepare.distribution_over_steps(run, "gradient")
    spec = charts.distribution_over_steps_chart(frame, "t", "dloss/dh").to_dict()
    assert spec["mark"]["type"] == "rect"
    encoding = spec["encoding"]
    assert encoding["row"]["field"] == "name" and encoding["row"]["sort"] == ["hidden 1",
                                                                              "hidden 2"]
    assert (encoding["y"]["field"], encoding["y2"]["field"]) == ("bin_start", "bin_end")
    assert encoding["color"]["field"] == "share"
    assert len(datasets(spec)[0]) == len(frame)
    assert spec["resolve"]["scale"]["y"] == "independent", \
        "a layer blown up to 5e7 must not leave the other rows blank"


def test_the_smoothed_loss_is_the_exponential_moving_average():
    """alpha = 2 / (span + 1) = 0.5 here: 1, then 0.5*3 + 0.5*1 = 2, a NaN keeps 2, then
    0.5*5 + 0.5*2 = 3.5."""
    np.testing.assert_allclose(prepare.ema(np.array([1.0, 3.0, np.nan, 5.0]), 3),
                               [1.0, 2.0, 2.0, 3.5])
    assert prepare.ema(np.array([]), 3).size == 0


def test_a_legend_of_many_layers_wraps_into_columns_that_fit_the_chart():
    """A seventh layer's legend entry was cut off below the chart."""
    for depth, columns in ((5, 1), (7, 2), (12, 2)):
        layers = pd.DataFrame({"step": 0, "layer": [f"hidden {k + 1}" for k in range(depth)],
                               "act_std": 1.0})
        spec = charts.over_steps_chart(layers, "act_std", "t", "std").to_dict()
        legend = spec["layer"][0]["encoding"]["color"]["legend"]
        assert legend["columns"] == columns and legend["title"] == "layer"
        assert depth <= columns * charts.LEGEND_ROWS


@pytest.mark.parametrize("sched", sorted(SCHEDULES))
def test_the_loss_caption_names_only_the_lr_cuts_the_run_has(sched):
    """Read off the run's own lr series: the step schedule's tenfold cut at 75% of the
    steps, nothing for a schedule that glides or stays."""
    run = train(Config(steps=400, sched=sched, depth=1, width=8))
    cuts = run.lr_cuts()
    if sched == "step":
        ((step, factor),) = cuts
        assert step == 301 and factor == pytest.approx(10)
        lr = run.history.set_index("step")["lr"]
        assert lr[step - 1] == pytest.approx(10 * lr[step])
    else:
        assert cuts == []


def test_a_validation_loss_far_above_the_start_opens_the_loss_on_a_log_scale():
    """ReLU with BatchNorm at init_scale 3: the running statistics start at 0 and 1, so
    the step-0 validation loss is ~170 against a training loss of 3.3, and a linear axis
    flattened both curves. At init_scale 1 the same net stays linear."""
    far = train(Config.from_query("act=relu&depth=5&width=32&init_scale=3&norm=batch"
                                  "&steps=300")[0])
    assert float(far.evals["val_loss"].iloc[0]) > 10 * float(far.history["loss"].iloc[0])
    assert prepare.loss_explodes(far)
    assert prepare.loss_explodes(type(far).from_json(far.to_json())), "so does its file"
    near = train(Config.from_query("act=relu&depth=5&width=32&norm=batch&steps=300")[0])
    assert not prepare.loss_explodes(near)


def test_a_histogram_step_line_draws_its_last_bin_to_the_end(run):
    """A step line draws a bin from its start to the next point: each series ends with a
    point at its last bin's end, so the last bin (tanh's spike at +1) has its width."""
    step = run.snapshot_steps[-1]
    for quantity in ("activation", "preactivation", "gradient", "weight", "weight_grad"):
        frame = prepare.histograms_at(run, step, quantity)
        for name, rows in frame.groupby("name", sort=False):
            *_, last_bin, end = rows.itertuples()
            assert end.bin_start == end.bin_end == last_bin.bin_end, (quantity, name)
            assert end.density == last_bin.density
            assert rows["bin_start"].is_monotonic_increasing

"""Charts a user can read: whole-step axes, compact loss labels, binned and numerically
sorted heatmap axes, text that contrasts with its cell, human parameter names, an absolute
report link."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurondash import Config, charts, train
from neurondash.charts import prepare
from neurondash.charts.labels import parameter_label
from neurondash.charts.search_data import HEATMAP_BINS
from neurondash.report import PUBLIC_URL, dashboard_link


@pytest.fixture(scope="module")
def run():
    return train(Config(depth=2, width="8", steps=20, norm="batch"))


def _x(spec: dict) -> dict:
    return spec["layer"][0]["encoding"]["x"] if "layer" in spec else spec["encoding"]["x"]


def test_every_step_axis_ticks_whole_steps_only(run):
    built = [charts.loss_chart(prepare.loss_curves(run), prepare.loss_references(run)),
             charts.over_steps_chart(run.layers, "act_std", "t", "std"),
             charts.over_steps_chart(prepare.update_data_frame(run), "update_data", "u",
                                     "log10", color="param"),
             charts.compare_loss_chart(prepare.compare_curves({"a": run}))]
    for chart in built:
        axis = _x(chart.to_dict())["axis"]
        assert axis["format"] == "d" and axis["tickMinStep"] == 1


def test_the_loss_axis_is_compact_and_says_when_it_is_logarithmic(run):
    for log in (False, True):
        y = charts.loss_chart(prepare.loss_curves(run), prepare.loss_references(run),
                              log).to_dict()["layer"][0]["encoding"]["y"]
        assert y["axis"]["format"] == ".3~g"
        assert ("log scale" in y["title"]) == log


def test_the_logits_comparison_scales_each_step_to_its_own_peak(run):
    frame = prepare.compare_snapshots(run, run.snapshot_steps[-1], "logits", "logits")
    assert set(frame.groupby("series")["share"].max()) == {1.0}
    once = prepare.compare_snapshots(run, 0, "logits", "logits")
    assert list(once["series"].unique()) == ["step 0"], "step 0 is drawn once"


def test_parameters_have_human_names(run):
    names = run.matrix_names
    assert [parameter_label(n, names, True) for n in names] == [
        "embedding table", "hidden 1 weights", "hidden 2 weights", "output weights"]
    norm = next(n for n in run.model().parameters() if n not in names and n.endswith("bias")
                and int(n.split(".")[1]) < int(names[2].split(".")[1]))
    assert parameter_label(norm, names, True) == "hidden 1 norm shift"
    assert set(prepare.weight_table(run, 0)["param"]) == {
        "embedding table", "hidden 1 weights", "hidden 2 weights", "output weights"}
    assert "hidden 1 weights" in set(prepare.update_data_frame(run)["param"])
    assert parameter_label("layers.0.weight", ["layers.0.weight"], False) == "output weights"


BOARD = pd.DataFrame({
    "trial": range(30), "lr": np.geomspace(1e-3, 1.0, 30),
    "width": [str(w) for w in np.resize([8, 16, 64, 128, 256], 30)],
    "val_loss": np.linspace(2.0, 3.0, 30), "link": "?"})


def test_a_continuous_setting_is_binned_on_its_scale_and_sorted_numerically():
    cells = prepare.heatmap_cells(BOARD, "lr", "width", "val_loss")
    bins = cells.sort_values("x_rank")["lr"].unique()
    assert len(bins) == HEATMAP_BINS
    assert bins[0].startswith("0.001–") and bins[-1].endswith("–1")
    assert bins[1] == "0.0032–0.01", "equal bins on a log scale"
    widths = cells.sort_values("y_rank")["width"].unique()
    assert list(widths) == ["8", "16", "64", "128", "256"], "numeric, not text, order"
    spec = charts.search_heatmap_chart(cells, "lr", "width", "val_loss").to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert x["sort"] == list(bins)


def test_heatmap_text_contrasts_with_its_cell():
    cells = prepare.heatmap_cells(BOARD, "lr", "width", "val_loss")
    worst, best = cells["colour"].idxmax(), cells["colour"].idxmin()
    assert cells.loc[worst, "dark"] and not cells.loc[best, "dark"]
    text = charts.search_heatmap_chart(cells, "lr", "width", "val_loss").to_dict()["layer"][1]
    colour = text["encoding"]["color"]
    assert colour["condition"]["test"] == "datum.dark"
    assert colour["condition"]["value"] == "white" and colour["value"] == "black"


def test_integer_settings_get_integer_ticks_and_empty_settings_no_axis():
    frame = BOARD.assign(width=BOARD["width"].astype(float), seed=0, status="finished")
    x = charts.slice_chart(frame, "width", "val_loss", True, True).to_dict()["encoding"]["x"]
    assert x["axis"]["format"] == "d" and x["axis"]["values"] == [8, 16, 64, 128, 256]
    lr = charts.slice_chart(frame, "lr", "val_loss", True, True).to_dict()["encoding"]["x"]
    assert lr["axis"]["format"] == "~g"
    lines, ticks = prepare.parallel_frame(BOARD.assign(depth=np.nan), ["lr", "width", "depth"],
                                          "val_loss")
    assert "depth" not in set(lines["axis"]) and "depth" not in set(ticks["axis"])
    spec = charts.parallel_coordinates_chart(lines, ticks, ["lr", "width", "depth"],
                                             "val_loss").to_dict()
    assert spec["layer"][0]["encoding"]["x"]["sort"] == ["lr", "width"]


def test_the_report_link_is_absolute(monkeypatch):
    config = Config(depth=2)
    monkeypatch.delenv(PUBLIC_URL, raising=False)
    assert dashboard_link(config, "http://10.0.0.5:8501/") == "http://10.0.0.5:8501/?depth=2"
    assert dashboard_link(config).startswith("http://localhost:8501?depth=2")
    monkeypatch.setenv(PUBLIC_URL, "https://dash.example.org/nd")
    assert dashboard_link(config, "http://10.0.0.5:8501/") == \
        "https://dash.example.org/nd?depth=2"

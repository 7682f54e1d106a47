"""The search charts' data: parallel coordinates scaled per axis, heatmap cells (best per
cell, labelled, clipped), short labels that name what differs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from neurondash import Config
from neurondash.charts import prepare

BOARD = pd.DataFrame({
    "trial": [3, 0, 1, 2], "lr": [0.01, 0.001, 0.1, 1.0], "opt": ["adamw", "sgd", "sgd", "adamw"],
    "width": ["64", "256", "128", "128"], "val_loss": [2.1, 2.2, 2.5, math.nan],
    "link": ["?a", "?b", "?c", "?d"]})


def test_parallel_axes_are_scaled_to_0_1_log_for_decades_and_in_order_for_choices():
    lines, ticks = prepare.parallel_frame(BOARD, ["lr", "opt", "width"], "val_loss",
                                          ceiling=math.log(27))
    lr = lines[lines["axis"] == "lr"].set_index("trial")["position"]
    assert np.allclose(lr.loc[[0, 3, 1, 2]], [0, 1 / 3, 2 / 3, 1])  # 4 decades, log scale
    opt = lines[lines["axis"] == "opt"].set_index("trial")["position"]
    assert opt.loc[0] == 1.0 and opt.loc[3] == 0.0  # adamw, sgd in alphabetical order
    width = lines[lines["axis"] == "width"].set_index("trial")["position"]
    assert np.allclose(width.loc[[3, 1, 0]], [0, 0.5, 1]), "64, 128, 256: a log scale"
    assert prepare.wants_log(pd.Series([64.0, 256.0])) and not prepare.wants_log(
        pd.Series([1.0, 3.0]))
    assert lines.loc[lines["trial"] == 2, "val_loss"].iloc[0] == math.log(27), "diverged"
    assert set(ticks.loc[ticks["axis"] == "lr", "value"]) == {"0.001", "0.01", "0.1", "1"}
    many = pd.DataFrame({"trial": range(20), "lr": np.geomspace(1e-4, 1, 20),
                         "val_loss": 2.0, "link": "?"})
    _, ends = prepare.parallel_frame(many, ["lr"], "val_loss")
    assert list(ends["value"]) == ["0.0001", "1"], "a continuous setting: its ends only"
    assert len(lines) == 12 and set(lines["link"]) == set(BOARD["link"])


def test_parallel_axis_labels_are_whole_numbers_as_such_and_never_overlap():
    """'1.02e+03' for batch 1024, and '0.000212' written over '0.000173'."""
    board = pd.DataFrame({"trial": range(5), "batch": [32, 64, 128, 512, 1024],
                          "wd": [1e-4, 1.73e-4, 2.12e-4, 0.01, 0.3], "val_loss": 2.0,
                          "link": "?"})
    _, ticks = prepare.parallel_frame(board, ["batch", "wd"], "val_loss")
    assert list(ticks.loc[ticks["axis"] == "batch", "value"]) == ["32", "64", "128", "512",
                                                                 "1024"]
    wd = ticks[ticks["axis"] == "wd"].sort_values("position")
    assert wd["value"].iloc[0] == "0.0001" and wd["value"].iloc[-1] == "0.3"
    assert (np.diff(wd["position"]) >= 0.06).all() and "0.000212" not in set(wd["value"])


def test_heatmap_cells_hold_the_best_trial_per_pair_and_mark_the_best():
    cells = prepare.heatmap_cells(BOARD, "opt", "width", "val_loss", ceiling=3.0)
    assert len(cells) == 4
    best = cells[cells["best"]]
    assert list(best["trial"]) == [3] and best["label"].iloc[0] == "2.100"
    diverged = cells[cells["trial"] == 2]
    assert diverged["label"].iloc[0] == "diverged" and diverged["colour"].iloc[0] == 3.0
    doubled = pd.concat([BOARD, BOARD.assign(trial=9, val_loss=[2.0, 9, 9, 9])])
    cell = prepare.heatmap_cells(doubled, "opt", "width", "val_loss")
    assert cell.loc[(cell["opt"] == "adamw") & (cell["width"] == "64"), "trial"].iloc[0] == 9


def test_metrics_that_do_not_vary_are_not_offered():
    frame = pd.DataFrame({"val_loss": [2.0, 2.1], "val_acc": [0.3, 0.3], "train_loss": [1, 2]})
    assert prepare.varying_metrics(frame, ["val_loss", "val_acc", "train_loss"]) == [
        "val_loss", "train_loss"]


def test_short_labels_name_only_the_settings_that_differ():
    configs = {"lr=0.1&depth=2&width=16": Config(lr=0.1, depth=2, width="16"),
               "lr=0.3&depth=2&width=16": Config(lr=0.3, depth=2, width="16")}
    assert list(prepare.short_labels(configs).values()) == ["lr=0.1", "lr=0.3"]


def test_short_labels_spell_values_as_the_link_does():
    """A compare legend read 'init_scale=3.0' beside a run chip 'init_scale=3&...'."""
    configs = {"init_scale=3": Config(init_scale=3.0), "defaults": Config()}
    assert list(prepare.short_labels(configs).values()) == ["init_scale=3", "init_scale=1"]


def test_every_mark_of_a_heatmap_cell_opens_its_trial():
    """The label sits on the cell's middle: a click there must open the trial too."""
    from neurondash.charts.search import search_heatmap_chart

    cells = prepare.heatmap_cells(BOARD, "opt", "width", "val_loss", ceiling=3.0)
    layers = search_heatmap_chart(cells, "opt", "width", "val_loss").to_dict()["layer"]
    assert len(layers) == 2
    for layer in layers:
        assert layer["encoding"]["href"]["field"] == "link", layer["mark"]
        assert {"field": "trial", "type": "nominal"} in layer["encoding"]["tooltip"]


def test_settings_that_differ_are_spelt_as_the_link_spells_them():
    """Compare showed a search trial's lr 0.01366 and wd 0.0007727 as 0.0137 and 0.0008."""
    table = prepare.differing_settings({"a": Config(lr=0.01366, wd=0.0007727, opt="adamw"),
                                        "b": Config(lr=0.1, opt="adamw")})
    assert list(table.columns) == ["lr", "wd"]
    assert table.loc["a"].tolist() == ["0.01366", "0.0007727"]
    assert table.loc["b"].tolist() == ["0.1", "0"]

"""The edge of chaos drawn over an init scale × depth map of validation losses: the
lesson's grid and a search or sweep over those two settings share it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ...charts.edge import (
    best_cell_sentence,
    boundary_sentence,
    curve_frame,
    edge_cells,
    edge_chart,
    edge_frame,
    measured_boundary,
)
from ...config import Config
from ...data import load_dataset
from ...theory import edge_depth, predict
from .. import render

CURVE_POINTS = 40


def input_blind_baseline(config: Config) -> tuple[str, float]:
    """The loss of a net that ignores its input, named: the unigram baseline of a
    character task, the uniform guess of a 2-D task (its two classes equally likely)."""
    baselines = load_dataset(config).baselines
    if "unigram" in baselines:
        return "unigram baseline", baselines["unigram"]
    return "uniform guess", baselines["uniform"]


def _off_the_top(scales: list[float], depths: list[float | None], critical: float | None,
                 max_depth: int) -> str:
    """Say so when theory's curve never enters the map on the chaotic side."""
    chaotic = [d for s, d in zip(scales, depths, strict=True)
               if critical is not None and s > critical and d is not None]
    if not chaotic or min(chaotic) <= max_depth:
        return ""
    return (f" Right of the rule 6 ξ_c never falls below {min(chaotic):.3g} layers: the "
            "curve stays above the top of this map.")


@st.cache_data(show_spinner=False)
def _theory(base: Config, low: float, high: float, grid: tuple[float, ...]
            ) -> tuple[list, list, dict, dict, float | None]:
    """6 ξ_c over init scales from ``low`` to ``high`` and at the grid's own scales, the
    grid's phases and the critical init scale (a few seconds: cached per server)."""
    scales = np.geomspace(low, high, CURVE_POINTS).tolist()
    at_grid = dict(zip(grid, edge_depth(base, list(grid)), strict=True))
    phases = {s: predict(base.replace(init_scale=s)).phase for s in grid}
    return (scales, edge_depth(base, scales), at_grid, phases,
            predict(base).critical_init_scale)


def draw_edge_map(frame: pd.DataFrame, base: Config, key: tuple) -> None:
    """``frame`` (init_scale, depth, val_loss; one row per cell) as a heatmap with 6 ξ_c,
    the critical init scale and the measured boundary, a caption saying how to read it and
    a sentence saying how well the boundary follows theory. ``base`` is any of the map's
    Configs: its activation, init, bias, task and steps are the map's."""
    theory_base = base.replace(depth=2)  # ξ_c is the hidden-to-hidden map's
    cells = edge_cells(frame)
    grid = tuple(sorted(frame["init_scale"].unique()))
    depth_range = (int(frame["depth"].min()), int(frame["depth"].max()))
    scales, depths, at_grid, phases, critical = _theory(
        theory_base, float(cells["scale_low"].min()), float(cells["scale_high"].max()), grid)
    floor_name, floor = input_blind_baseline(theory_base)
    best = float(frame["val_loss"].min())
    threshold = (best + floor) / 2
    boundary = measured_boundary(cells, threshold)
    render.chart((*key, "edge_of_chaos", tuple(frame["val_loss"])), lambda: edge_chart(
        cells, curve_frame(scales, depths, critical), critical, depth_range[1], boundary))
    st.caption(
        f"Colour: validation loss after {base.steps:,} steps. Dashed white: 6 ξ_c, "
        "the depth beyond which theory says nets train slowly or not at all; red rule: "
        f"the critical init scale ({critical or float('nan'):.3g}, where ξ_c is infinite); "
        "orange diamonds: the measured boundary. A cell counts as trained when its "
        "validation loss gets at least halfway "
        f"from the {floor_name} ({floor:.3f}, what a net that ignores its input "
        f"reaches) down to the best cell ({best:.3f})." + _off_the_top(scales, depths, critical,
                                                                      depth_range[1]))
    st.markdown(boundary_sentence(boundary, at_grid, phases, depth_range) + " "
                + best_cell_sentence(frame, critical))


THEORY_SETTINGS = {"act", "init", "bias_init", "norm", "task", "context", "embed_dim"}
"""Settings the mean-field prediction depends on: searched, they leave no single curve."""


def edge_of_search(board: pd.DataFrame, base: Config, ceiling: float, key: tuple) -> None:
    """Theory's edge of chaos over the trials, when one curve describes them all."""
    searched = set(board.columns) & THEORY_SETTINGS
    varying = [name for name in searched if board[name].astype(str).nunique() > 1]
    if "whole" in board:  # a trial stopped at a lower rung trained fewer steps
        board = board[board["whole"].astype(bool)]
    frame = edge_frame(board, ceiling)
    if varying or not predict(base).applies or frame["init_scale"].nunique() < 2 or \
            frame["depth"].nunique() < 2:
        return
    st.markdown("**The same trials with theory's edge of chaos** (Schoenholz et al. 2017: "
                "nets deeper than about 6 ξ_c train slowly or not at all; the lesson *12. The "
                "edge of chaos* explains the map)")
    draw_edge_map(frame, base, key)

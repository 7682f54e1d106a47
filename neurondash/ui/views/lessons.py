"""The Lessons view: every lesson as a link and a button, and the edge-of-chaos map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ...charts.edge import (
    boundary_sentence,
    curve_frame,
    edge_cells,
    edge_chart,
    measured_boundary,
)
from ...config import Config
from ...cost import describe_seconds, estimate_seconds
from ...data import load_dataset
from ...presets import EDGE_OF_CHAOS, PRESETS, Grid
from ...store import shared_store
from ...sweep import run_configs
from ...theory import edge_depth, predict
from .. import render
from ..sidebar import apply_config
from ..text import notice

CURVE_POINTS = 40


def lessons_tab() -> None:
    st.caption("Each lesson is a link (it opens in a new tab with its settings) and a button "
               "that loads it here. The Overview's diagnosis names the effect.")
    for preset in PRESETS:
        with st.container(border=True):
            left, right = st.columns([5, 1])
            left.markdown(f"**{preset.title}** — {preset.look_at}  \n"
                          f"[link](?{preset.query})  `{preset.query}`")
            right.button("Open", key=f"preset_{preset.slug}", on_click=apply_config,
                         args=(preset.config,))
    with st.container(border=True):
        edge_lesson(EDGE_OF_CHAOS)


def _store():
    try:
        return shared_store()
    except OSError:
        return None


def edge_lesson(grid: Grid) -> None:
    """The trainability map: read from the server's run store, trained only on a click (it
    is many runs), then drawn with theory's edge of chaos over it."""
    st.markdown(f"**{grid.title}** — {grid.look_at}  \n[link](?view=Lessons)")
    configs = grid.configs()
    store = _store()
    results = run_configs(configs, store=store, train=False) if store is not None else {}
    missing = len(configs) - len(results)
    if missing:
        seconds = sum(estimate_seconds(c) for i, c in enumerate(configs) if i not in results)
        if not st.button(f"Train the map ({missing} of {len(configs)} runs; "
                         f"{describe_seconds(seconds)} of training, shared by the worker "
                         "processes)", key="edge_train"):
            st.caption("Each run is kept in this server's run store: once trained, the map "
                       "opens at once for everyone.")
            return
        bar = st.progress(0.0, text="Training the map...")
        try:
            run_configs(configs, store=store, results=results, on_result=lambda done, total:
                        bar.progress(done / total, text=f"{done} of {total} runs"))
        except Exception as err:  # noqa: BLE001 - a worker failure must not lose the page
            notice("error", f"The map stopped: a run failed ({type(err).__name__}: {err}).")
            return
        bar.empty()
    draw_edge(grid, configs, results)


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


def draw_edge(grid: Grid, configs: list[Config], results: dict[int, dict]) -> None:
    frame = pd.DataFrame([{"init_scale": c.init_scale, "depth": c.depth,
                           "val_loss": float(results[i]["val_loss"])}
                          for i, c in enumerate(configs) if i in results])
    base = configs[0].replace(depth=2)  # ξ_c is the hidden-to-hidden map's
    cells = edge_cells(frame)
    scales, depths, at_grid, phases, critical = _theory(
        base, float(cells["scale_low"].min()), float(cells["scale_high"].max()), grid.scales)
    unigram = load_dataset(base).baselines["unigram"]
    best = float(frame["val_loss"].min())
    threshold = (best + unigram) / 2
    boundary = measured_boundary(cells, threshold)
    max_depth = max(grid.depths)
    render.chart(("edge_of_chaos", tuple(frame["val_loss"])), lambda: edge_chart(
        cells, curve_frame(scales, depths, critical), critical, max_depth, boundary))
    st.caption(
        f"Colour: validation loss after {configs[0].steps:,} steps. Dashed white: 6 ξ_c, "
        "the depth beyond which theory says nets do not train; red rule: the critical init "
        f"scale ({critical or float('nan'):.3g}, where ξ_c is infinite); orange diamonds: "
        "the measured "
        f"boundary. A cell counts as trained when its validation loss gets at least halfway "
        f"from the unigram baseline ({unigram:.3f}, what a net that ignores its input "
        f"reaches) down to the best cell ({best:.3f})." + _off_the_top(scales, depths, critical,
                                                                      max_depth))
    st.markdown(boundary_sentence(boundary, at_grid, phases, (min(grid.depths), max_depth)))

"""The Lessons view: every lesson as a link and a button, and the edge-of-chaos map."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from ...config import Config
from ...cost import describe_seconds, expected_wall_seconds
from ...presets import EDGE_OF_CHAOS, PRESETS, Grid
from ...store import shared_store
from ...sweep import run_configs
from ..sidebar import apply_config
from ..text import notice
from .edge_map import draw_edge_map


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
        workers = os.cpu_count() or 1
        seconds = expected_wall_seconds(
            [c for i, c in enumerate(configs) if i not in results], workers)
        if not st.button(f"Train the map ({missing} of {len(configs)} runs on {workers} "
                         f"worker processes: {describe_seconds(seconds)})",
                         key="edge_train"):
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
        if store is not None:
            st.rerun()  # drawn from the store, without the button that trained it
    draw_edge(configs, results)


def draw_edge(configs: list[Config], results: dict[int, dict]) -> None:
    frame = pd.DataFrame([{"init_scale": c.init_scale, "depth": c.depth,
                           "val_loss": float(results[i]["val_loss"])}
                          for i, c in enumerate(configs) if i in results])
    draw_edge_map(frame, configs[0], ("edge_lesson",))

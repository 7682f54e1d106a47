"""The Compare view: overlay runs of this session and of the store."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ... import charts
from ...charts import prepare
from ...config import Config
from ...run import Run
from ...sweep import summarize as summarize_run
from .. import render
from ..session import Session
from ..shelf import KEPT_RUNS
from ..text import notice

LONG_NAME = 24
"""Run names longer than this are lettered (A, B, ...) in Compare's tables."""


def compare_tab(configs: dict[str, Config], load: Callable[[str], Run | None]) -> None:
    """Overlay runs picked by their settings; ``configs`` lists them by key and only the
    chosen ones are read (``load``), from the session or the store."""
    dropped = Session().runs.dropped
    if dropped:
        st.caption(f"{dropped} older run(s) left this session (it lists the latest "
                   f"{KEPT_RUNS}; the Runs view has every stored one).")
    if len(configs) < 2:
        st.info("Train a second configuration to compare runs (every run of this session "
                "is kept here), or pick stored runs in the Runs view.")
        return
    labels = {(config.to_query() or "defaults"): key for key, config in configs.items()}
    chosen = st.multiselect("runs to compare", list(labels), default=list(labels)[-2:],
                            key="compare_runs")
    loaded = {label: load(labels[label]) for label in chosen}
    picked = {label: run for label, run in loaded.items() if run is not None}
    gone = [label for label, run in loaded.items() if run is None]
    if gone:
        notice("warning", f"No longer stored (evicted or deleted): {', '.join(gone)}")
    if not picked:
        return
    short = prepare.short_labels({label: run.config for label, run in picked.items()})
    # Long names (runs differing in many settings) become letters in the tables, so that
    # a column per run fits; the legend and the settings table spell each letter out.
    lettered = max(len(name) for name in short.values()) > LONG_NAME
    letters = {name: chr(ord("A") + i) if lettered else name
               for i, name in enumerate(short.values())}
    named = {(f"{letters[short[label]]}: {short[label]}" if lettered else short[label]): run
             for label, run in picked.items()}
    exploded = any(prepare.loss_explodes(run) for run in named.values())
    render.chart(("compare", exploded, tuple((k, run.steps_done) for k, run in named.items())),
                 lambda: charts.compare_loss_chart(prepare.compare_curves(named), exploded))
    st.caption("Smoothed train loss (solid) and validation loss (dashed) of each run, "
               "named by the settings in which they differ"
               + (" (on a log scale: a run's loss exploded)." if exploded else "."))
    columns = {letters[short[label]]: run for label, run in picked.items()}
    numbers = prepare.compare_table({name: summarize_run(run) for name, run in columns.items()})
    st.dataframe(numbers, height=35 * (len(numbers) + 1) + 3)  # every row, no inner scroll
    st.markdown("**Settings that differ**")
    st.dataframe(prepare.differing_settings({name: run.config for name, run in columns.items()}))

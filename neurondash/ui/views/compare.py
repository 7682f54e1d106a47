"""The Compare view: overlay runs of this session and of the store."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import charts
from ...charts import prepare
from ...run import Run
from ...sweep import summarize as summarize_run
from .. import render
from ..session import Session


def _label(run: Run) -> str:
    return run.config.to_query() or "defaults"


def compare_tab(runs: dict[str, Run]) -> None:
    if Session().dropped_runs:
        st.caption(f"{Session().dropped_runs} older run(s) were dropped: the session "
                   "keeps the latest 12.")
    if len(runs) < 2:
        st.info("Train a second configuration to compare runs (every run of this session "
                "is kept here), or pick stored runs in the Runs view.")
        return
    labels = {_label(r): k for k, r in runs.items()}
    chosen = st.multiselect("runs to compare", list(labels), default=list(labels)[-2:],
                            key="compare_runs")
    if not chosen:
        return
    picked = {label: runs[labels[label]] for label in chosen}
    render.chart(("compare", tuple((labels[c], picked[c].steps_done) for c in chosen)),
                 lambda: charts.compare_loss_chart(prepare.compare_curves(picked)))
    st.caption("Smoothed train loss (solid) and validation loss (dashed) of each run.")
    summary = pd.DataFrame({label: summarize_run(run) for label, run in picked.items()}).T
    st.dataframe(summary.drop(columns=["query", "expected_initial_loss"]))
    st.markdown("**Settings that differ**")
    st.dataframe(prepare.differing_settings({k: r.config for k, r in picked.items()}))

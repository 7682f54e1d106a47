"""The Loss view."""

from __future__ import annotations

import streamlit as st

from ... import charts
from ...charts import prepare
from ...run import Run
from .. import render
from ..cache import chart_key


def loss_tab(run: Run) -> None:
    log_scale = st.toggle("log scale", key="loss_log")
    render.chart(chart_key(run, "loss", log_scale), lambda: charts.loss_chart(
        prepare.loss_curves(run), prepare.loss_references(run), log_scale))
    st.caption("Healthy: starts near the uniform guess, falls fast, then slowly; validation "
               "tracks train. A drop at 75% of the steps is the step schedule's lr decay.")

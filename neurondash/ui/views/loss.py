"""The Loss view."""

from __future__ import annotations

import streamlit as st

from ... import charts
from ...charts import prepare
from ...run import Run
from .. import render
from ..cache import chart_key
from .common import x_end


def loss_tab(run: Run) -> None:
    if run.status == "running":  # the live page draws the growing loss chart above
        st.caption("While the run trains, its loss is the chart above, growing to the "
                   "right; the log-scale switch comes when training ends.")
    else:
        _loss_chart(run)
    said = "".join(f" The {run.config.sched} schedule cuts the learning rate {factor:.3g}x "
                   f"at step {step:,}." for step, factor in run.lr_cuts())
    st.caption("What to look for: a healthy curve starts near the uniform guess, falls fast, "
               "then slowly, with validation tracking train; validation turning up while "
               "train falls is overfitting." + said)


def _loss_chart(run: Run) -> None:
    # An exploding loss opens on a log scale (its own toggle, so a choice made for one
    # kind of run is not carried over to the other).
    exploded = prepare.loss_explodes(run)
    log_scale = st.toggle("log scale", value=exploded,
                          key="loss_log_exploded" if exploded else "loss_log")
    render.chart(chart_key(run, "loss", log_scale), lambda: charts.loss_chart(
        prepare.loss_curves(run), prepare.loss_references(run), log_scale, steps=x_end(run)))
    if exploded:
        st.caption("A loss reached past ten times where training started (or, in a diverged "
                   "run, the uniform guess), so it is drawn on a log scale: on a linear one "
                   "that peak flattens everything else. The smoothed curve averages the "
                   "log of the loss, as that scale reads it.")

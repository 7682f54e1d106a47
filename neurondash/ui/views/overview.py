"""The Overview: findings (each with advice has a Try it), loss, every layer over training,
the decision boundary."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import charts
from ...charts import prepare
from ...diagnosis import diagnose
from ...engine import queries
from ...parts.activations import ACTIVATIONS
from ...run import Run
from .. import render
from ..cache import (
    chart_key,
    dataset_of,
    derived,
    kept_step,
    model_of,
    offer_rebuild,
    template_key,
)
from ..session import Session
from ..text import escape
from . import try_it
from .common import PLANE, watch, x_end


def overview(run: Run, step: int) -> None:
    """What a first look needs: the findings, the loss, and how every layer evolved."""
    tested = Session().lr_result
    finder = tested[1] if tested and tested[0].replace(lr=run.config.lr) == run.config \
        else None
    name = f"findings, lr finder {finder.suggestion:.6g}" if finder else "findings"
    for index, finding in enumerate(derived(run, name, lambda: diagnose(run, finder))):
        # A finding quotes the run (its message, an imported run's values): escaped.
        getattr(st, finding.level)(f"**{escape(finding.lesson)}.** {escape(finding.text)}")
        if finding.change and finding.metric:
            try_it.button(run, finding, index)
    left, right = st.columns(2)
    exploded = prepare.loss_explodes(run)
    if run.status == "running":  # the live page draws the growing loss chart above
        left.caption("While the run trains, its loss is the chart above.")
    else:
        render.chart(chart_key(run, "overview_loss"), lambda: charts.loss_chart(
            prepare.loss_curves(run), prepare.loss_references(run), log_scale=exploded,
            height=240, steps=x_end(run)), container=left)
    if len(run.layers):
        render.chart(chart_key(run, "overview_act_std"), lambda: charts.over_steps_chart(
            run.layers, "act_std", "activation std per hidden layer", "std", height=240,
            steps=x_end(run)), container=right, template=template_key(run, "overview_act_std"),
            data=lambda: run.layers)
    scale = (" (on a log scale: a loss reached past ten times where training started)"
             if exploded else "")
    bounded = ACTIVATIONS[run.config.act].output_range is not None
    drift = ("toward the activation's limit is saturating" if bounded else
             f"one growing layer after layer is exploding ({run.config.act} has no limit)")
    loss = ("" if run.status == "running" else f"Loss{scale}: train (raw and smoothed) and "
            "validation, with the uniform-guess and data baselines. ")
    spread = (f"Activation std: healthy layers keep a similar, steady spread; a layer "
              f"drifting toward 0 is collapsing, {drift}. " if len(run.layers) else
              "No hidden layer (depth 0), so no activation std to draw. ")
    st.caption(f"{loss}{spread}The other tabs show each quantity in detail.")
    if not run.config.is_char_task and run.status != "diverged":
        decision_boundary(run, step)


def decision_boundary(run: Run, step: int) -> None:
    """Class probabilities of the 2-D model over the plane at the selected snapshot (its
    weights are always kept at this size), with the data on top."""
    offer_rebuild(run, step)
    kept = kept_step(run, step)
    resolution = 50
    per_split = (charts.MAX_ROWS - resolution**2) // 2  # grid + points fit in one chart

    def frame() -> pd.DataFrame:
        data = dataset_of(run)
        xs, ys, probs = queries.grid_probs(model_of(run, kept), PLANE, resolution)
        points = pd.concat([pd.DataFrame({"x": data.x[s][:per_split, 0],
                                          "y": data.x[s][:per_split, 1],
                                          "label": data.y[s][:per_split].astype(str),
                                          "split": s})
                            for s in ("train", "val")], ignore_index=True)
        return prepare.decision_frame(xs, ys, probs, points)

    render.chart(chart_key(run, "boundary", kept), lambda: charts.decision_chart(frame()),
                 stretch=False, template=chart_key(run, "boundary"), data=frame)
    when = f"at step {kept:,}" if kept is not None else "after training"
    st.caption(f"The model {when}: {watch(run, 'the boundary form')}; "
               "click train or val in the legend to show only that split. Healthy: it "
               "follows the classes without wrapping single points.")

"""What several views share: the plane 2-D views draw, and per-layer histograms."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import streamlit as st

from ... import charts
from ...charts import prepare
from ...charts.labels import COLUMN_LABELS
from ...run import Run
from .. import render
from ..cache import chart_key, kept_step, model_of, template_key

PLANE = (-1.5, 1.5, -1.5, 1.5)
"""The part of the input plane that 2-D views draw (every point generator stays inside)."""


UNIT_MAPS = 16
"""Units drawn over the plane in the Neuron tab (16 maps of 16 x 16 cells: 4,096 rows)."""


def x_end(run: Run) -> int | None:
    """The step axis's end while the run trains (its whole length, so charts grow to the
    right instead of rescaling); None after, where the data end it."""
    return run.config.total_steps if run.status == "running" else None


def watch(run: Run, what: str) -> str:
    """How to watch ``what`` change: the snapshot slider, or, while the run trains (the
    slider is hidden then), the redraw at each new snapshot."""
    if run.status == "running":
        return f"it redraws at each new snapshot while training, to watch {what}"
    return f"move the snapshot slider to watch {what}"


def table(frame: pd.DataFrame, container=st, formats: dict[str, str] | None = None,
          **kwargs):
    """``st.dataframe`` with readable headers (``COLUMN_LABELS``; the frame keeps its short
    column names) and a number format per column (``formats``, else 4 significant digits
    for floats)."""
    config: dict = {}
    for column in frame.columns:
        label = COLUMN_LABELS.get(column, column)
        fmt = (formats or {}).get(column)
        if fmt is None and pd.api.types.is_float_dtype(frame[column]):
            fmt = "%.4g"  # 4 significant digits: 0.000269 and 5.907e+09 both fit
        config[column] = st.column_config.NumberColumn(label, format=fmt) if fmt else label
    config |= kwargs.pop("column_config", {})
    return container.dataframe(frame, column_config=config, placeholder="—", **kwargs)


def histogram_view(run: Run, step: int, quantity: str, what: str, x_title: str) -> None:
    """Per-layer histograms of one quantity (``what``: 'activations'); every step after the
    first reuses the spec. A snapshot without them (a run that diverged there) says so
    instead of an empty chart. While the run trains there is no step to select: the title
    says the latest snapshot."""
    title = f"{what} at the {'latest snapshot' if run.status == 'running' else 'selected step'}"
    frame = functools.cache(lambda: prepare.histograms_at(run, step, quantity))
    if frame().empty:
        st.info(f"No {title} to draw: nothing was recorded at step {step:,}"
                + (" (the run diverged there)." if run.status == "diverged" else "."))
        return
    render.chart(chart_key(run, quantity, step), lambda: charts.histogram_chart(
        frame(), title, x_title), template=template_key(run, quantity), data=frame)


def over_training_view(run: Run, quantity: str, title: str, y_title: str,
                       caption: str) -> None:
    """Every layer's histograms of one quantity across all snapshots (independent of the
    slider, so built once per run), and ``caption`` under it; a run with a single snapshot
    says so instead."""
    if len(run.snapshot_steps) < 2:
        st.info(f"No {title} to draw: this run recorded a single snapshot"
                + (f" before it diverged at step {run.diverged_step:,}"
                   if run.diverged_step is not None else "")
                + "; the histogram at the selected step above is all there is.")
        return
    frame = functools.cache(lambda: prepare.distribution_over_steps(run, quantity))
    render.chart(chart_key(run, quantity, "over_training"),
                 lambda: charts.distribution_over_steps_chart(
                     frame(), title, y_title, steps=prepare.over_steps_columns(run, quantity)),
                 stretch=False, template=template_key(run, quantity, "over_training"),
                 data=frame)
    st.caption(caption)


def diverged_past(run: Run, step: int, purpose: str) -> bool:
    """Whether a view that queries the model must stop: a diverged run's weights after the
    blow-up are not finite, but at an earlier snapshot they are (and are shown, said)."""
    if run.status != "diverged":
        return False
    kept = kept_step(run, step)
    if kept is not None and np.isfinite(model_of(run, step).flat).all():
        st.caption(f"The run diverged later: these are the weights at step {kept:,} (the "
                   "snapshot slider), before the blow-up.")
        return False
    where = f" at step {kept:,}" if kept is not None else " after the blow-up"
    st.info(f"The diverged model's parameters are not finite{where}: pick an earlier "
            f"snapshot step to {purpose}.")
    return True

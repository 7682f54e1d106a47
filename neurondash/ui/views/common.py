"""What several views share: the plane 2-D views draw, and per-layer histograms."""

from __future__ import annotations

from ... import charts
from ...charts import prepare
from ...run import Run
from .. import render
from ..cache import chart_key

PLANE = (-1.5, 1.5, -1.5, 1.5)
"""The part of the input plane that 2-D views draw (every point generator stays inside)."""


UNIT_MAPS = 16
"""Units drawn over the plane in the Neuron tab (16 maps of 16 x 16 cells: 4,096 rows)."""


def histogram_view(run: Run, step: int, quantity: str, title: str, x_title: str) -> None:
    """Per-layer histograms of one quantity; every step after the first reuses the spec."""
    frame = lambda: prepare.histograms_at(run, step, quantity)  # noqa: E731
    render.chart(chart_key(run, quantity, step), lambda: charts.histogram_chart(
        frame(), title, x_title), template=chart_key(run, quantity), data=frame)


def over_training_view(run: Run, quantity: str, title: str, y_title: str) -> None:
    """Every layer's histograms of one quantity across all snapshots (independent of the
    slider, so built once per run)."""
    render.chart(chart_key(run, quantity, "over_training"),
                 lambda: charts.distribution_over_steps_chart(
                     prepare.distribution_over_steps(run, quantity), title, y_title),
                 stretch=False)

"""The search view's charts: parallel coordinates, one-setting slices and the two-setting
heatmap. Their data comes from ``neurondash.charts.search_data``."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from .base import check_rows, integer_axis, is_integer


def parallel_coordinates_chart(lines: pd.DataFrame, ticks: pd.DataFrame, dims: list[str],
                               metric: str) -> alt.LayerChart:
    """One line per trial across the searched settings (``prepare.parallel_frame``),
    coloured by ``metric`` (lower is brighter); click a line to open its run. Settings that
    ``parallel_frame`` left out (no trial has a value) get no axis."""
    drawn_dims = [d for d in dims if d in set(lines["axis"])]
    x = alt.X("axis:N", sort=drawn_dims, title=None, axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("position:Q", axis=None, scale=alt.Scale(domain=[-0.05, 1.05]))
    drawn = alt.Chart(check_rows(lines)).mark_line(strokeWidth=2, opacity=0.8).encode(
        x=x, y=y, detail="trial:N", href="link:N",
        color=alt.Color(f"{metric}:Q", title=metric,
                        scale=alt.Scale(scheme="viridis", reverse=True)),
        tooltip=["trial:N", "axis:N", "value:N", alt.Tooltip(f"{metric}:Q", format=".4f")])
    rules = alt.Chart(pd.DataFrame({"axis": drawn_dims})).mark_rule(color="#888").encode(x=x)
    labels = alt.Chart(check_rows(ticks)).mark_text(align="left", dx=4, fontSize=11).encode(
        x=x, y=y, text="value:N")
    return alt.layer(rules, drawn, labels).properties(height=320)


def tick_format(values: pd.Series) -> str:
    """Enough decimals to tell about five ticks over the values apart (a slice of losses
    from 2.29 to 2.31 read '2.3 2.3 2.3' at three significant digits)."""
    finite = values[np.isfinite(values.astype(float))] if len(values) else values
    span = float(finite.max() - finite.min()) if len(finite) else 0.0
    if not span > 0:
        return ".3~g"
    return f".{int(min(6, max(0, math.ceil(-math.log10(span / 5)))))}f"


def slice_chart(frame: pd.DataFrame, x: str, metric: str, numeric: bool,
                log_x: bool) -> alt.Chart:
    """``metric`` of every run (repeats included) against one searched setting; click a
    point to open its run. A whole-number setting (width, depth, batch) gets whole-number
    ticks."""
    if numeric:
        values = sorted(frame[x].dropna().unique())
        if is_integer(frame[x]):
            # A few widths or depths: tick exactly those (a log scale's nice ends ran to 1000).
            axis = integer_axis(values=values) if len(values) <= 8 else integer_axis()
        else:
            axis = alt.Axis(format="~g")
        x_enc = alt.X(f"{x}:Q", title=x, axis=axis,
                      scale=alt.Scale(type="log" if log_x else "linear", zero=False,
                                      nice=False, padding=12))
    else:
        x_enc = alt.X(f"{x}:N", title=x, axis=alt.Axis(labelAngle=0))
    return alt.Chart(check_rows(frame)).mark_circle(size=45, opacity=0.7).encode(
        x=x_enc, y=alt.Y(f"{metric}:Q", title=metric, scale=alt.Scale(zero=False),
                         axis=alt.Axis(format=tick_format(frame[metric]))),
        href="link:N",
        tooltip=["trial:N", "seed:N", f"{x}:N", alt.Tooltip(f"{metric}:Q", format=".4f"),
                 "status:N"]).properties(height=200)


def search_heatmap_chart(cells: pd.DataFrame, x: str, y: str, metric: str) -> alt.LayerChart:
    """Two searched settings as a grid of the best trial per cell (``prepare.heatmap_cells``:
    continuous settings binned on their scale, values in numeric order), coloured by
    ``metric`` clipped at the uniform guess, every cell labelled in a colour that contrasts
    with it, the best outlined; click a cell to open its run."""
    def order(column: str, rank: str) -> list[str]:
        return list(dict.fromkeys(cells.sort_values(rank, kind="stable")[column]))

    base = alt.Chart(check_rows(cells)).encode(
        x=alt.X(f"{x}:O", title=x, sort=order(x, "x_rank"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:O", title=y, sort=order(y, "y_rank")))
    tooltip = [f"{x}:O", f"{y}:O", "label:N", "trial:N"]
    rect = base.mark_rect().encode(
        color=alt.Color("colour:Q", title=f"{metric} (clipped)",
                        scale=alt.Scale(scheme="viridis", reverse=True)),
        stroke=alt.condition("datum.best", alt.value("#d62728"), alt.value(None)),
        strokeWidth=alt.condition("datum.best", alt.value(3), alt.value(0)),
        href="link:N", tooltip=tooltip)
    # The label covers the cell's middle: it opens the trial too.
    text = base.mark_text(fontSize=11).encode(
        text="label:N", href="link:N", tooltip=tooltip,
        color=alt.condition("datum.dark", alt.value("white"), alt.value("black")))
    return alt.layer(rect, text).properties(height=300)


VERDICT_COLOURS = {"above seed noise": "#4c78a8", "within seed noise": "#bbbbbb",
                   "no repeats to judge noise": "#4c78a8"}


def importance_chart(table: pd.DataFrame) -> alt.LayerChart:
    """What mattered: each searched setting's share of the variance of the trials'
    validation loss (``search.importance_frame``), largest first; a bar below the seed
    noise's share is grey, with the noise drawn as a dashed rule."""
    order = list(table["setting"])
    verdicts = {verdict: colour for verdict, colour in VERDICT_COLOURS.items()
                if verdict in set(table["verdict"])}
    base = alt.Chart(check_rows(table)).encode(
        y=alt.Y("setting:N", sort=order, title=None))
    bars = base.mark_bar().encode(
        x=alt.X("importance:Q", title="share of the variance (fANOVA)",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("verdict:N", title=None, scale=alt.Scale(
            domain=list(verdicts), range=list(verdicts.values()))),
        tooltip=["setting:N", alt.Tooltip("importance:Q", format=".1%"), "verdict:N"])
    layers = [bars]
    if table["noise"].notna().any():
        noise = pd.DataFrame({"noise": [float(table["noise"].iloc[0])]})
        layers.append(alt.Chart(noise).mark_rule(strokeDash=[4, 3], color="#d62728").encode(
            x="noise:Q", tooltip=[alt.Tooltip("noise:Q", title="seed noise", format=".1%")]))
    # A step, not pixels: Streamlit squeezes a discrete axis into a fixed pixel height.
    return alt.layer(*layers).properties(height=alt.Step(26))

"""Chart builders: tidy DataFrame in, ``alt.Chart`` out. No Streamlit here.

Every builder receives pre-aggregated data (NumPy binning / downsampling happens in
``neurondash.charts.prepare``) and keeps its data under ``MAX_ROWS`` rows, because
Streamlit ships every row to the browser on every rerun.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from . import altair_speed
from .base import MAX_ROWS as MAX_ROWS
from .base import check_rows as _check_rows
from .base import step_x
from .search import importance_chart as importance_chart
from .search import parallel_coordinates_chart as parallel_coordinates_chart
from .search import search_heatmap_chart as search_heatmap_chart
from .search import slice_chart as slice_chart

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39"]

altair_speed.install()


def layer_scale(names: list[str]) -> alt.Scale:
    """One fixed colour per layer (hidden 1 is always the same blue), across every chart."""
    def index(name: str) -> int:
        digits = "".join(c for c in name if c.isdigit())
        return int(digits) - 1 if name.startswith("hidden") and digits else len(PALETTE) - 1
    ordered = sorted(set(names), key=lambda n: (index(n), n))
    return alt.Scale(domain=ordered, range=[PALETTE[index(n) % len(PALETTE)] for n in ordered])


def matrix_scale(names: list[str]) -> alt.Scale:
    ordered = list(dict.fromkeys(names))
    return alt.Scale(domain=ordered, range=[PALETTE[i % len(PALETTE)]
                                            for i in range(len(ordered))])


LEGEND_ROWS = 6
"""Legend entries a chart's height shows in one column: a seventh layer's was cut off."""


def series_scale(names: list[str]) -> tuple[alt.Scale, alt.Legend]:
    """The colour scale and legend for per-layer or per-matrix series: in as many columns
    as keep every entry within the chart's height."""
    distinct = len(dict.fromkeys(names))
    columns = -(-distinct // LEGEND_ROWS)
    if all(name.startswith("hidden") for name in names):
        return layer_scale(names), alt.Legend(title="layer", columns=columns)
    return matrix_scale(names), alt.Legend(title="parameter", columns=columns)


def loss_frames(curves: pd.DataFrame, references: pd.DataFrame, log_scale: bool = False
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frames ``loss_chart`` draws, in its layers' order (a redraw swaps them into the
    spec of the same chart instead of building it again)."""
    frame = _check_rows(curves)
    return (frame[frame["loss"] > 0] if log_scale else frame), references


def loss_chart(curves: pd.DataFrame, references: pd.DataFrame, log_scale: bool = False,
               height: int = 320, steps: int | None = None) -> alt.LayerChart:
    """Train loss (raw and smoothed) and validation loss, with baseline reference lines.

    ``curves``: step, loss, series. ``references``: label, value. The loss is labelled in
    three significant digits ('5e+11', not '500,000,000,000' cut off), the log scale says so
    in its title, and the baselines are dashed rules named in a legend (labels beside the
    rules overlapped where baselines lie close together). ``steps``: the x axis's end (the
    whole run's, while it trains).
    """
    frame, references = loss_frames(curves, references, log_scale)
    y_scale = alt.Scale(type="log") if log_scale else alt.Scale(zero=False)
    # Dots where there are few steps: a one-step run's single loss still shows.
    lines = alt.Chart(frame).mark_line(point=bool(frame["step"].nunique() <= 30)).encode(
        x=step_x(steps=steps),
        y=alt.Y("loss:Q", title="loss (log scale)" if log_scale else "loss", scale=y_scale,
                axis=alt.Axis(format=".3~g")),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=["train", "train (smoothed)", "validation"],
                                        range=["#c7d7ea", "#1f77b4", "#d62728"])),
        tooltip=["series:N", "step:Q", alt.Tooltip("loss:Q", format=".4~g")],
    )
    rules = alt.Chart(references).mark_rule(color="gray").encode(
        y="value:Q",
        strokeDash=alt.StrokeDash("label:N", title="baselines",
                                  scale=alt.Scale(range=[[6, 3], [2, 2], [10, 3, 2, 3]])),
        tooltip=["label:N", alt.Tooltip("value:Q", format=".4f")])
    return alt.layer(lines, rules, title="loss").properties(height=height)


def histogram_chart(hist: pd.DataFrame, title: str, x_title: str) -> alt.Chart:
    """Per-layer (or per-matrix) densities over pre-binned bins; click the legend to isolate
    one.

    ``hist``: name, bin_start, bin_end, density (one row per bin).
    """
    frame = _check_rows(hist)
    pick = alt.selection_point(fields=["name"], bind="legend")
    scale, legend = series_scale(list(frame["name"]))
    return alt.Chart(frame, title=title).mark_line(interpolate="step-after").encode(
        x=alt.X("bin_start:Q", title=x_title, axis=alt.Axis(format=".3~g")),
        y=alt.Y("density:Q", title="density"),
        color=alt.Color("name:N", legend=legend, scale=scale),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.12)),
        tooltip=["name:N", alt.Tooltip("bin_start:Q", format=".4g"),
                 alt.Tooltip("bin_end:Q", format=".4g"), alt.Tooltip("density:Q", format=".4g")],
    ).add_params(pick).properties(height=280)


def compare_histograms_chart(hist: pd.DataFrame, title: str, x_title: str) -> alt.Chart:
    """Two snapshots of one quantity (``series`` = 'step 0' / 'step N') as binned areas,
    each scaled to its own peak (``share``): a narrow spike at step 0 would otherwise
    flatten the wider distribution of every later step to nothing."""
    return alt.Chart(_check_rows(hist), title=title).mark_bar(opacity=0.55).encode(
        x=alt.X("bin_start:Q", bin="binned", title=x_title, axis=alt.Axis(format=".3~g")),
        x2="bin_end:Q",
        y=alt.Y("share:Q", title="share of its peak", stack=None,
                axis=alt.Axis(format="~%")),
        # Step 0 grey, the selected step in colour: two blues were hard to tell apart.
        color=alt.Color("series:N", title=None, sort=None,
                        scale=alt.Scale(range=["#8c8c8c", "#ff7f0e"])),
        tooltip=["series:N", alt.Tooltip("bin_start:Q", format=".4g"),
                 alt.Tooltip("bin_end:Q", format=".4g"), alt.Tooltip("density:Q", format=".4g")],
    ).properties(height=240)


def over_steps_chart(frame: pd.DataFrame, value: str, title: str, y_title: str,
                     color: str = "layer", guide: float | None = None,
                     height: int = 260, steps: int | None = None) -> alt.LayerChart:
    """A per-layer (or per-matrix) quantity over training steps, optional guide line; whole
    steps on the axis, fixed at 0..``steps`` when given."""
    scale, legend = series_scale(list(frame[color]))
    pick = alt.selection_point(fields=[color], bind="legend")
    # Dots where there are few steps: a run that stopped after one snapshot still shows it.
    dots = bool(frame["step"].nunique() <= 30)
    line = alt.Chart(_check_rows(frame), title=title).mark_line(point=dots).encode(
        x=step_x(steps=steps),
        y=alt.Y(f"{value}:Q", title=y_title, axis=alt.Axis(format=".3~g")),
        color=alt.Color(f"{color}:N", scale=scale, legend=legend),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.12)),
        tooltip=[f"{color}:N", "step:Q", alt.Tooltip(f"{value}:Q", format=".4g")],
    ).add_params(pick)
    layers = [line]
    if guide is not None:
        layers.append(alt.Chart(pd.DataFrame({"y": [guide]})).mark_rule(
            strokeDash=[4, 4], color="gray").encode(y="y:Q"))
    return alt.layer(*layers).properties(height=height)


def dead_map_chart(frame: pd.DataFrame, layer: str, units: int,
                   label: str = "saturated") -> alt.Chart:
    """Examples x units; white where the unit is ``label`` (the activation's word:
    saturated, inactive) for that example.

    A fully white column is a dead unit: no example gives it a gradient.
    ``frame``: example, unit, saturated (see prepare.dead_map_frame).
    """
    cells = alt.Chart().mark_rect().encode(
        x=alt.X("unit:O", title="unit", axis=alt.Axis(labels=units <= 40)),
        y=alt.Y("example:O", title="example", axis=alt.Axis(labels=False)),
        color=alt.Color("saturated:N", scale=alt.Scale(domain=[False, True],
                                                       range=["#222222", "#ffffff"]),
                        # A grey outline: the white swatch is seen on a white page.
                        legend=alt.Legend(title=label, symbolStrokeColor="#888888",
                                          symbolStrokeWidth=1, symbolType="square")),
        tooltip=["unit:O", "example:O", "saturated:N"])
    # A frame around the plot: an all-white map (every output saturated) looked like no
    # chart at all, and Streamlit's theme drops the view's own stroke.
    edge = alt.Chart(alt.Data(values=[{}])).mark_rect(
        fill=None, stroke="#888888", strokeWidth=1).encode(
        x=alt.value(0), x2=alt.value("width"), y=alt.value(0), y2=alt.value("height"))
    return alt.layer(cells, edge, data=_check_rows(frame),
                     title=f"{layer}: {label} (white)").properties(height=220)


def distribution_over_steps_chart(frame: pd.DataFrame, title: str, y_title: str,
                                  width: int = 620, steps: list[int] | None = None
                                  ) -> alt.Chart:
    """One heatmap row per layer: snapshot steps across, the quantity's value up, darker
    where more of the layer's values fall (each step scaled to its own peak).

    ``frame``: ``prepare.distribution_over_steps``'s rows. Saturation shows as dark bands at
    the activation's limits, collapse as a band narrowing to 0. ``steps``: every snapshot
    step of the run, so that columns still to come keep their place while it trains.
    """
    layers = list(dict.fromkeys(frame["name"]))
    scale = alt.Scale(domain=steps) if steps else alt.Undefined
    return alt.Chart(_check_rows(frame), title=title).mark_rect().encode(
        x=alt.X("step:O", title="step", scale=scale,
                axis=alt.Axis(labelOverlap=True, labelAngle=0)),
        y=alt.Y("bin_start:Q", title=y_title, axis=alt.Axis(format=".3~g")),
        y2="bin_end:Q",
        # sqrt: tall end bins (saturation) must not wash out the rest of the shape.
        color=alt.Color("share:Q", title="share of peak",
                        scale=alt.Scale(type="sqrt", domain=[0, 1],
                                        range=["#ffffff", "#08306b"])),
        row=alt.Row("name:N", title=None, sort=layers),
        tooltip=["name:N", "step:O", alt.Tooltip("bin_start:Q", format=".4g"),
                 alt.Tooltip("bin_end:Q", format=".4g"),
                 alt.Tooltip("density:Q", format=".4g")],
        # Each layer its own value axis: on a shared one a layer blown up to 5e7 left the
        # other rows blank, and the captions ask to compare the ranges on the axes.
    ).properties(width=width, height=110).resolve_scale(y="independent")


def bars_chart(frame: pd.DataFrame, x: str, y: str, title: str) -> alt.Chart:
    """Simple sorted bars (next-character probabilities, per-layer tables)."""
    return alt.Chart(_check_rows(frame), title=title).mark_bar().encode(
        x=alt.X(f"{x}:N", sort="-y", title=None),
        y=alt.Y(f"{y}:Q"),
        tooltip=[f"{x}:N", alt.Tooltip(f"{y}:Q", format=".4f")],
    ).properties(height=240)


def heatmap_chart(frame: pd.DataFrame, title: str, value: str = "p") -> alt.Chart:
    """V x V table (row = previous character, column = next)."""
    return alt.Chart(_check_rows(frame), title=title).mark_rect().encode(
        x=alt.X("next:O", title="next"), y=alt.Y("previous:O", title="previous"),
        color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues")),
        tooltip=["previous:O", "next:O", alt.Tooltip(f"{value}:Q", format=".4f")],
    ).properties(height=360, width=360)


def decision_chart(plane: pd.DataFrame) -> alt.LayerChart:
    """P(class 1) over the plane, with train and validation points on top.

    ``plane``: ``prepare.decision_frame``'s rows (one frame, so another snapshot only swaps
    the data): part "grid" (cells x..x2, y..y2 with p) and part "point" (x, y, label, split).
    Regions and points share colours (class 1 blue, class 0 red, as the probability runs
    from 0 to 1); white outlines keep the points visible on a region of their own class.
    The axes span exactly the grid: points beyond it are clipped, not the view stretched.
    """
    cells = plane[plane["part"] == "grid"]
    x_scale = alt.Scale(domain=[float(cells["x"].min()), float(cells["x2"].max())], nice=False)
    y_scale = alt.Scale(domain=[float(cells["y"].min()), float(cells["y2"].max())], nice=False)
    base = alt.Chart(_check_rows(plane))
    background = base.transform_filter(alt.datum.part == "grid").mark_rect().encode(
        x=alt.X("x:Q", bin="binned", title="x1", scale=x_scale), x2="x2:Q",
        y=alt.Y("y:Q", bin="binned", title="x2", scale=y_scale), y2="y2:Q",
        color=alt.Color("p:Q", title="P(class 1)",
                        scale=alt.Scale(scheme="redblue", domain=[0, 1])),
        tooltip=[alt.Tooltip("p:Q", format=".3f")],
    )
    # Click a split in the legend to show only its points (Playground's "show test data").
    split = alt.selection_point(fields=["split"], bind="legend")
    dots = base.transform_filter(alt.datum.part == "point").mark_point(
        filled=True, size=26, stroke="white", strokeWidth=0.7, clip=True).encode(
        x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale),
        color=alt.Color("label:N", scale=alt.Scale(domain=["0", "1"],
                                                   range=["#b2182b", "#2166ac"]), title="class"),
        shape=alt.Shape("split:N", title="split"),
        opacity=alt.condition(split, alt.value(1.0), alt.value(0.0)),
        tooltip=["split:N", "label:N", alt.Tooltip("x:Q", format=".3f"),
                 alt.Tooltip("y:Q", format=".3f")],
    ).add_params(split)
    return alt.layer(background, dots, title="the model's P(class 1) over the plane"
                     ).resolve_scale(color="independent").properties(height=380, width=380)


def unit_maps_chart(cells: pd.DataFrame, value_range: tuple[float, float],
                    columns: int = 8) -> alt.FacetChart:
    """One small map per hidden unit: its activation over the input plane (x1 across, x2
    up), on a diverging scale centred on 0."""
    return alt.Chart(_check_rows(cells)).mark_rect().encode(
        x=alt.X("column:O", axis=None),
        y=alt.Y("row:O", axis=None, sort="descending"),
        color=alt.Color("value:Q", title="activation",
                        scale=alt.Scale(scheme="redblue", domain=list(value_range))),
        tooltip=["unit:N", alt.Tooltip("value:Q", format=".3f")],
    ).properties(width=72, height=72).facet(
        facet=alt.Facet("unit:O", title="unit"),
        columns=columns)


def embedding_chart(points: pd.DataFrame, x_title: str, y_title: str) -> alt.LayerChart:
    """Each character of the vocabulary at its embedding (or its projection), labelled."""
    # Padding (pixels) keeps a character at the edge of the range inside the plot: 'u' and
    # 'd' were cut in half by its border.
    base = alt.Chart(_check_rows(points)).encode(
        x=alt.X("x:Q", title=x_title, scale=alt.Scale(zero=False, padding=16)),
        y=alt.Y("y:Q", title=y_title, scale=alt.Scale(zero=False, padding=16)),
        tooltip=["char:N", alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")])
    dots = base.mark_circle(size=260, opacity=0.25, color="#1f77b4")
    labels = base.mark_text(fontSize=13, fontWeight="bold").encode(text="char:N")
    return alt.layer(dots, labels).properties(height=380, width=420)


def network_chart(network: pd.DataFrame) -> alt.LayerChart:
    """Units as dots and every weight between them as a line: blue positive, red negative,
    thicker and darker when larger (``size``, relative to the largest drawn weight); the
    inputs are named on the left.

    ``network``: ``prepare.network_frame``'s rows, part "weight" or "unit".
    """
    base = alt.Chart(_check_rows(network))
    x = alt.X("column:Q", axis=None, scale=alt.Scale(padding=20))
    # Reversed: unit 0 (the first input feature) on top, in the order of the tables.
    y = alt.Y("row:Q", axis=None, scale=alt.Scale(padding=12, reverse=True))
    lines = base.transform_filter(alt.datum.part == "weight").mark_rule().encode(
        x=x, y=y, x2="column2:Q", y2="row2:Q",
        color=alt.Color("weight:Q", scale=alt.Scale(scheme="redblue", domainMid=0),
                        title="weight"),
        strokeWidth=alt.StrokeWidth("size:Q", scale=alt.Scale(domain=[0, 1], range=[0.2, 4]),
                                    legend=None),
        opacity=alt.Opacity("size:Q", scale=alt.Scale(domain=[0, 1], range=[0.15, 1]),
                            legend=None),
        tooltip=[alt.Tooltip("weight:Q", format=".3f")])
    dots = base.transform_filter(alt.datum.part == "unit").mark_circle(
        size=110, color="#444", opacity=1).encode(x=x, y=y,
                                                  tooltip=["layer:N", "unit:Q", "label:N"])
    names = base.transform_filter((alt.datum.part == "unit") & (alt.datum.column == 0)
                                  ).mark_text(align="right", dx=-10).encode(x=x, y=y,
                                                                          text="label:N")
    return alt.layer(lines, dots, names).properties(height=360, width=560)


def neuron_chart(parts: pd.DataFrame) -> alt.LayerChart:
    """The unit's activation curve over its layer's pre-activation distribution, with
    this example's (pre-activation, output) marked.

    ``parts``: one frame (so a new snapshot only swaps the data) with a ``part`` column:
    "hist" rows (x = bin start, bin_end, density), "curve" rows (x, y) and one "point" row.
    """
    base = alt.Chart(_check_rows(parts))
    bars = base.transform_filter(alt.datum.part == "hist").mark_bar(
        opacity=0.3, color="gray").encode(
        x=alt.X("x:Q", bin="binned", title="pre-activation"), x2="bin_end:Q",
        y=alt.Y("density:Q", title="density of pre-activations"),
        tooltip=[alt.Tooltip("x:Q", format=".3g", title="bin start"),
                 alt.Tooltip("density:Q", format=".3g")])
    line = base.transform_filter(alt.datum.part == "curve").mark_line(
        color="#1f77b4").encode(x="x:Q", y=alt.Y("y:Q", title="activation output"))
    dot = base.transform_filter(alt.datum.part == "point").mark_point(
        size=140, filled=True, color="#d62728").encode(
        x="x:Q", y="y:Q", tooltip=[alt.Tooltip("x:Q", format=".4f", title="pre-activation"),
                                   alt.Tooltip("y:Q", format=".4f", title="output")])
    return alt.layer(bars, alt.layer(line, dot)).resolve_scale(y="independent").properties(
        height=300)


def lr_finder_chart(frame: pd.DataFrame, suggestion: float, spread: tuple[float, float],
                    start_loss: float) -> alt.LayerChart:
    """Smoothed loss against learning rate, one line per seed, both axes logarithmic and the
    loss clipped a little above where it started (what comes after is the blow-up); the
    suggested rate is marked, the seeds' spread shaded."""
    ceiling = 1.25 * start_loss
    floor = 0.95 * float(frame["smoothed"].min())
    lines = alt.Chart(_check_rows(frame)).mark_line(clip=True).encode(
        x=alt.X("lr:Q", scale=alt.Scale(type="log"), title="learning rate"),
        y=alt.Y("smoothed:Q", title="smoothed loss (log scale)",
                scale=alt.Scale(type="log", domain=[floor, ceiling])),
        # Seeds in the palette's first colours, none the red that marks the suggestion
        # (the theme's third colour was that red).
        color=alt.Color("seed:N", title="seed",
                        scale=alt.Scale(range=[c for c in PALETTE if c != "#d62728"])),
        tooltip=["seed:N", alt.Tooltip("lr:Q", format=".3g"),
                 alt.Tooltip("smoothed:Q", format=".4f")])
    band = alt.Chart(pd.DataFrame({"low": [spread[0]], "high": [spread[1]]})).mark_rect(
        opacity=0.15, color="#d62728").encode(x="low:Q", x2="high:Q")
    marked = alt.Chart(pd.DataFrame({"lr": [suggestion],
                                     "label": [f"suggested {suggestion:.3g}"]}))
    rule = marked.mark_rule(color="#d62728", strokeWidth=2).encode(x="lr:Q",
                                                                   tooltip=["label:N"])
    said = marked.mark_text(color="#d62728", align="left", dx=4, dy=8, baseline="top",
                            y=0).encode(x="lr:Q", text="label:N")
    return alt.layer(band, lines, rule, said).properties(height=300)


def compare_loss_chart(curves: pd.DataFrame, log_scale: bool = False) -> alt.Chart:
    """Smoothed train and validation loss of several runs (``run``, ``split``); the legend
    sits below the chart so long run names show whole."""
    pick = alt.selection_point(fields=["run"], bind="legend")
    frame = _check_rows(curves)
    if log_scale:
        frame = frame[frame["loss"] > 0]
    return alt.Chart(frame).mark_line(point=bool(frame["step"].nunique() <= 30)).encode(
        x=step_x(),
        y=alt.Y("loss:Q", title="loss (log scale)" if log_scale else "loss",
                scale=alt.Scale(type="log") if log_scale else alt.Scale(zero=False),
                axis=alt.Axis(format=".3~g")),
        # The chart palette, not the theme's: Streamlit's starts with two blues.
        color=alt.Color("run:N", title="run", scale=alt.Scale(range=PALETTE),
                        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0)),
        strokeDash=alt.StrokeDash("split:N", title=None),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.12)),
        tooltip=["run:N", "split:N", "step:Q", alt.Tooltip("loss:Q", format=".4f")],
    # The legend below takes its own lines out of the chart's height.
    ).add_params(pick).properties(height=320 + 24 * frame["run"].nunique())

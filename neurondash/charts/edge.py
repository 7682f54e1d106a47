"""The edge of chaos on the init scale × depth map: validation loss per cell, the critical
init scale and the 6 ξ_c depth beyond which mean-field theory says a net does not train
(Schoenholz et al. 2017, Fig. 5), and how far the measured boundary is from that curve."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from .base import check_rows


def _edges(values: list[float], log: bool) -> tuple[list[float], list[float]]:
    """Cell borders halfway between neighbouring grid values (geometric on a log axis)."""
    v = np.log(values) if log else np.asarray(values, float)
    mids = (v[1:] + v[:-1]) / 2
    low = np.concatenate([[v[0] - (v[1] - v[0]) / 2], mids])
    high = np.concatenate([mids, [v[-1] + (v[-1] - v[-2]) / 2]])
    return (np.exp(low).tolist(), np.exp(high).tolist()) if log else (low.tolist(),
                                                                      high.tolist())


def edge_cells(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` (init_scale, depth, val_loss) with each cell's borders: scale_low,
    scale_high (log axis), depth_low, depth_high."""
    scales = sorted(results["init_scale"].unique())
    depths = sorted(results["depth"].unique())
    if len(scales) < 2 or len(depths) < 2:
        raise ValueError("the map needs at least two init scales and two depths")
    s_low, s_high = _edges(scales, log=True)
    d_low, d_high = _edges(depths, log=False)
    cells = results.copy()
    cells["scale_low"] = cells["init_scale"].map(dict(zip(scales, s_low, strict=True)))
    cells["scale_high"] = cells["init_scale"].map(dict(zip(scales, s_high, strict=True)))
    cells["depth_low"] = cells["depth"].map(dict(zip(depths, d_low, strict=True)))
    cells["depth_high"] = cells["depth"].map(dict(zip(depths, d_high, strict=True)))
    return cells


def measured_boundary(cells: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per init scale, the depth where training stops working: halfway between the deepest
    cell that reached ``threshold`` (every shallower one did too) and the next, deeper one.
    ``side`` says "inside" (a boundary within the grid), "above" (every depth trained) or
    "below" (not even the shallowest did)."""
    rows = []
    for scale, column in cells.sort_values("depth").groupby("init_scale"):
        depths = column["depth"].to_numpy()
        trained = np.nan_to_num(column["val_loss"].to_numpy(), nan=np.inf) < threshold
        failed = np.flatnonzero(~trained)
        if not failed.size:
            rows.append({"init_scale": scale, "boundary": math.inf, "side": "above"})
        elif failed[0] == 0:
            rows.append({"init_scale": scale, "boundary": 0.0, "side": "below"})
        else:
            rows.append({"init_scale": scale, "side": "inside",
                         "boundary": (depths[failed[0] - 1] + depths[failed[0]]) / 2})
    return pd.DataFrame(rows, columns=["init_scale", "boundary", "side"])


FOLLOWS = (2 / 3, 3 / 2)
"""A median ratio measured / 6 ξ_c inside this range 'follows' theory."""


def boundary_sentence(boundary: pd.DataFrame, theory: dict[float, float | None],
                      phases: dict[float, str], depths: tuple[int, int]) -> str:
    """How well the measured boundary follows 6 ξ_c, phase by phase (``theory``: init scale
    -> 6 ξ_c, None where infinite; ``phases``: init scale -> phase; ``depths``: the grid's
    shallowest and deepest): the ratio measured / 6 ξ_c where the grid shows a boundary,
    and whether the others fall on the side of the grid that theory puts them."""
    parts = []
    for phase in ("ordered", "critical", "chaotic"):
        ratios, agree, against = [], 0, []
        for scale, measured, where in boundary.itertuples(index=False):
            if phases.get(scale) != phase:
                continue
            predicted = theory.get(scale)
            predicted = math.inf if predicted is None else predicted
            if where == "inside" and math.isfinite(predicted):
                ratios.append(measured / predicted)
            elif (where == "above" and predicted > depths[1]) or (
                    where == "below" and predicted < depths[0]):
                agree += 1
            else:
                against.append(f"{scale:.3g}")
        text = []
        if ratios:
            median = float(np.median(ratios))
            verdict = ("follows it" if FOLLOWS[0] <= median <= FOLLOWS[1] else
                       "nets stop training well before it" if median < FOLLOWS[0] else
                       "nets train well past it")
            low, high = f"{min(ratios):.2g}", f"{max(ratios):.2g}"
            span = low if low == high else f"{low}–{high}"
            over = (f"median {median:.2g} over {len(ratios)} init scales" if len(ratios) > 1
                    else "at 1 init scale")
            text.append(f"the measured boundary lies at {span} × 6 ξ_c ({over}: {verdict})")
        if agree:
            text.append(f"{agree} init scale{'s' * (agree != 1)} with no boundary inside "
                        f"depths {depths[0]}–{depths[1]}, as theory says")
        if against:
            text.append(f"at init_scale {', '.join(against)} the boundary is on the other "
                        "side of the grid than theory says")
        if text:
            parts.append(f"{phase.capitalize()} phase: " + "; ".join(text) + ".")
    return " ".join(parts)


def best_cell_sentence(frame: pd.DataFrame, critical: float | None) -> str:
    """Where the lowest validation loss is, against the critical init scale: theory's edge
    of chaos says how deep each scale can train, not which scale trains a shallow net best
    (tanh's best cells here sit right of its edge, at Kaiming's gain)."""
    best = frame.loc[frame["val_loss"].idxmin()]
    scale, depth = float(best["init_scale"]), int(best["depth"])
    where = ""
    if critical is not None and not math.isclose(scale, critical, rel_tol=0.05):
        side = "chaotic" if scale > critical else "ordered"
        where = (f", on the {side} side of the critical init scale: the edge of chaos says "
                 "how deep a net can be and still train at each scale, not which scale "
                 "trains a shallower net best")
    return (f"The lowest validation loss ({best['val_loss']:.3f}) is at init_scale "
            f"{scale:.3g} with {depth} hidden layer{'s' * (depth != 1)}{where}.")


MAX_TICKS = 12
"""A map with at most this many init scales gets one axis tick per column."""


def edge_chart(cells: pd.DataFrame, curve: pd.DataFrame, critical: float | None,
               max_depth: int, boundary: pd.DataFrame | None = None) -> alt.LayerChart:
    """Heatmap of validation loss over init scale (log) × depth, the 6 ξ_c curve
    (``curve``: init_scale, depth; clipped to the grid), the critical init scale as a
    vertical rule and, where given, the measured boundary as points."""
    x_domain = [float(cells["scale_low"].min()), float(cells["scale_high"].max())]
    y_domain = [0, max_depth + 0.5]
    grid = sorted(cells["init_scale"].unique())
    axis = (alt.Axis(values=[float(v) for v in grid], format=".2g", labelAngle=0)
            if len(grid) <= MAX_TICKS else alt.Axis())
    x = alt.X("scale_low:Q", title="init_scale (log)", axis=axis, scale=alt.Scale(
        type="log", domain=x_domain, nice=False))
    y = alt.Y("depth_low:Q", title="hidden layers", scale=alt.Scale(domain=y_domain,
                                                                     nice=False))
    heat = alt.Chart(check_rows(cells)).mark_rect().encode(
        x=x, x2="scale_high:Q", y=y, y2="depth_high:Q",
        color=alt.Color("val_loss:Q", title="val loss",
                        scale=alt.Scale(scheme="viridis", reverse=True)),
        tooltip=[alt.Tooltip("init_scale:Q", format=".3g"), "depth:Q",
                 alt.Tooltip("val_loss:Q", format=".4f")])
    # Points far above the grid stay, clipped at its top, so the curve leaves through it.
    shown = curve[curve["init_scale"].between(*x_domain)]
    line = alt.Chart(check_rows(shown.assign(label="6 ξ_c (theory)"))).mark_line(
        color="white", strokeWidth=3, strokeDash=[6, 3], clip=True).encode(
        x=alt.X("init_scale:Q", scale=alt.Scale(type="log", domain=x_domain, nice=False)),
        y=alt.Y("depth:Q", scale=alt.Scale(domain=y_domain, nice=False)),
        detail="branch:N", tooltip=["label:N", alt.Tooltip("init_scale:Q", format=".3g"),
                                    alt.Tooltip("depth:Q", format=".3g")])
    layers = [heat, line]
    if critical is not None:
        layers.append(alt.Chart(pd.DataFrame({"init_scale": [critical],
                                              "label": ["critical init_scale"]}))
                      .mark_rule(color="#d62728", strokeWidth=2).encode(
            x="init_scale:Q", tooltip=["label:N", alt.Tooltip("init_scale:Q", format=".3g")]))
    if boundary is not None and (boundary["side"] == "inside").any():
        inside = boundary[boundary["side"] == "inside"].assign(label="measured boundary")
        layers.append(alt.Chart(inside).mark_point(
            shape="diamond", size=90, filled=True, color="#ff7f0e").encode(
            x="init_scale:Q", y="boundary:Q",
            tooltip=["label:N", alt.Tooltip("init_scale:Q", format=".3g"), "boundary:Q"]))
    return alt.layer(*layers, title="validation loss over init scale × depth, with the edge "
                                    "of chaos").properties(height=340)


def curve_frame(scales: list[float], depths: list[float | None],
                critical: float | None) -> pd.DataFrame:
    """init_scale, depth (6 ξ_c), branch: one line per side of the critical scale, so the
    curve is not drawn across the infinite depth at the edge itself."""
    rows = [{"init_scale": s, "depth": d,
             "branch": "ordered" if critical is None or s < critical else "chaotic"}
            for s, d in zip(scales, depths, strict=True) if d is not None]
    return pd.DataFrame(rows, columns=["init_scale", "depth", "branch"])


MAX_SCALES = 12
"""A search that draws init scales off any grid has its scales binned to at most this many
geometric bins, so each column of the map holds several depths."""


def edge_frame(board: pd.DataFrame, ceiling: float) -> pd.DataFrame:
    """A search's or sweep's trials (init_scale, depth, val_loss) as the map's cells: the
    best validation loss per (init scale, depth), init scales binned geometrically (each
    bin named by its geometric centre) when there are more than ``MAX_SCALES`` of them.
    Losses are clipped at ``ceiling`` (the uniform guess), where a diverged trial lands, so
    it counts as not trained and one blow-up does not flatten the colours."""
    frame = board[["init_scale", "depth", "val_loss"]].apply(pd.to_numeric, errors="coerce")
    frame = frame.dropna(subset=["init_scale", "depth"])
    frame = frame[frame["init_scale"] > 0]
    frame["val_loss"] = frame["val_loss"].fillna(math.inf).clip(upper=ceiling)
    scales = np.log(frame["init_scale"].to_numpy(float))
    if frame["init_scale"].nunique() > MAX_SCALES:
        borders = np.linspace(scales.min(), scales.max(), MAX_SCALES + 1)
        bins = np.clip(np.searchsorted(borders, scales, side="right") - 1, 0, MAX_SCALES - 1)
        centres = np.exp((borders[:-1] + borders[1:]) / 2)
        frame["init_scale"] = centres[bins]
    frame["depth"] = frame["depth"].astype(int)
    return (frame.groupby(["init_scale", "depth"], as_index=False)["val_loss"].min()
            .astype({"init_scale": float, "val_loss": float}))

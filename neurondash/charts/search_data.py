"""The search charts' data: a leaderboard (``search.leaderboard``) turned into parallel
coordinates and heatmap cells. Re-exported by ``neurondash.charts.prepare``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import is_integer

HEATMAP_BINS = 6
"""Bins of a heatmap axis whose setting takes more values than this (a continuous range):
one column per drawn value would leave a diagonal of single cells."""

DARK_CELL = 0.45
"""Where on the heatmap's colour scale (0 = the lowest value, light yellow; 1 = the highest,
dark purple) a cell turns dark enough to need white text."""


def as_numbers(values: pd.Series) -> pd.Series | None:
    """A setting's column as numbers (widths are text in a Config), or None if it is not
    numeric (an optimizer, an activation)."""
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.astype(float) if numbers.notna().all() else None


def wants_log(numbers: pd.Series) -> bool:
    """Draw on a log axis: positive values that span a factor of 4 or more (learning
    rates, batch sizes and widths, which are searched in multiples)."""
    return bool((numbers > 0).all() and numbers.max() >= 4 * numbers.min())


def clipped(values: pd.Series, ceiling: float | None) -> pd.Series:
    """Values for a colour or y scale: a diverged run (NaN, inf) and anything worse than
    ``ceiling`` (the uniform guess's loss) sit at the ceiling, so that they do not stretch
    the scale over the runs that matter."""
    values = pd.to_numeric(values, errors="coerce").astype(float)
    if ceiling is None:
        return values
    return values.where(values.notna() & (values < ceiling), ceiling)


def _present(values: pd.Series) -> pd.Series:
    """Rows where a setting has a value (a setting searched only under a condition, or a
    column the board lacks a value for, is missing elsewhere)."""
    return values.notna() & (values.astype(str).str.strip() != "")


def parallel_frame(board: pd.DataFrame, dims: list[str], metric: str,
                   ceiling: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parallel coordinates of a leaderboard: one line per trial over the searched settings,
    each axis scaled to 0-1 (log for settings spanning a factor of 4, in order for choices).
    A setting no trial has a value for gets no axis.

    Returns the lines (trial, axis, position, value, metric, link) and the axis labels
    (axis, position, value) to write beside each axis: every value of a setting with a
    few, the ends of a continuous one."""
    lines, ticks = [], []
    colour = clipped(board[metric], ceiling)
    for axis in dims:
        present = _present(board[axis])
        if not present.any():
            continue
        rows = board[present]
        numbers = as_numbers(rows[axis])
        labels = rows[axis].astype(str)
        if numbers is not None:
            scaled = np.log10(numbers) if wants_log(numbers) else numbers
            low, high = float(scaled.min()), float(scaled.max())
            position = (scaled - low) / (high - low) if high > low else scaled * 0 + 0.5
            shown = (numbers.drop_duplicates() if numbers.nunique() <= HEATMAP_BINS
                     else numbers.loc[[numbers.idxmin(), numbers.idxmax()]])
            ticks += [{"axis": axis, "position": float(position[i]), "value": _tick(v)}
                      for i, v in _apart(shown, position).items()]
        else:
            order = list(dict.fromkeys(sorted(labels)))
            step = 1 / (len(order) - 1) if len(order) > 1 else 0
            where = {name: (i * step if len(order) > 1 else 0.5) for i, name in
                     enumerate(order)}
            position = labels.map(where)
            ticks += [{"axis": axis, "position": p, "value": name} for name, p in where.items()]
        lines.append(pd.DataFrame({"trial": rows["trial"], "axis": axis,
                                   "position": position.astype(float), "value": labels,
                                   metric: colour[present], "link": rows["link"]}))
    columns = ["trial", "axis", "position", "value", metric, "link"]
    return (pd.concat(lines, ignore_index=True) if lines else pd.DataFrame(columns=columns),
            pd.DataFrame(ticks, columns=["axis", "position", "value"]))


TICK_GAP = 0.06
"""The least distance (share of an axis) between two labels of a parallel axis: closer,
'0.000212' was written over '0.000173'."""


def _tick(value: float) -> str:
    """An axis label: a whole number as itself (1024, not 1.02e+03), else 3 digits."""
    return f"{int(value)}" if float(value).is_integer() and abs(value) < 1e6 else f"{value:.3g}"


def _apart(shown: pd.Series, position: pd.Series) -> pd.Series:
    """The values to label, ends first, leaving out any closer than ``TICK_GAP`` to one
    already labelled."""
    order = sorted(shown.index, key=lambda i: position[i])
    first_last = [order[0], order[-1]] if len(order) > 1 else order
    kept: list = []
    for i in [*first_last, *order[1:-1]]:
        if all(abs(position[i] - position[k]) >= TICK_GAP for k in kept):
            kept.append(i)
    return shown.loc[sorted(kept, key=lambda i: position[i])]


def _spell(value: float, integer: bool) -> str:
    return f"{round(value):d}" if integer else f"{value:.2g}"


def heatmap_axis(values: pd.Series, bins: int = HEATMAP_BINS) -> tuple[pd.Series, pd.Series]:
    """A setting's values as a heatmap axis: (label, rank) per row, the rank giving the
    numeric order. A numeric setting with more than ``bins`` values is cut into ``bins``
    equal bins on its scale (log for one spanning a factor of 4), each labelled by its range
    ('0.001–0.0032'); a choice keeps its values in alphabetical order."""
    numbers = as_numbers(values)
    if numbers is None:
        labels = values.astype(str)
        order = {name: i for i, name in enumerate(sorted(labels.unique()))}
        return labels, labels.map(order).astype(float)
    if numbers.nunique() <= bins:
        return values.astype(str), numbers
    log = wants_log(numbers)
    scaled = np.log10(numbers.to_numpy()) if log else numbers.to_numpy()
    edges = np.linspace(scaled.min(), scaled.max(), bins + 1)
    index = np.clip(np.searchsorted(edges, scaled, side="right") - 1, 0, bins - 1)
    bounds = 10 ** edges if log else edges
    integer = is_integer(numbers)
    names = [f"{_spell(bounds[i], integer)}–{_spell(bounds[i + 1], integer)}"
             for i in range(bins)]
    return (pd.Series([names[i] for i in index], index=values.index),
            pd.Series(index.astype(float), index=values.index))


def heatmap_cells(board: pd.DataFrame, x: str, y: str, metric: str,
                  ceiling: float | None = None, ascending: bool = True) -> pd.DataFrame:
    """Two searched settings as cells: each cell the best trial with those two values (or
    values in one bin of a continuous setting; its mean over repeats), labelled, the overall
    best marked. ``x_rank`` and ``y_rank`` order the axes numerically; ``dark`` says the
    cell's colour needs white text. Trials without a value for either setting are left
    out."""
    board = board[_present(board[x]) & _present(board[y])]
    x_label, x_rank = heatmap_axis(board[x])
    y_label, y_rank = heatmap_axis(board[y])
    keyed = board.assign(**{x: x_label, y: y_label, "x_rank": x_rank, "y_rank": y_rank})
    ranked = keyed.sort_values(metric, ascending=ascending, na_position="last", kind="stable")
    cells = ranked.groupby([x, y], sort=False).head(1).reset_index(drop=True)
    value = pd.to_numeric(cells[metric], errors="coerce").astype(float)
    cells["colour"] = clipped(value, ceiling)
    cells["label"] = [f"{v:.3f}" if np.isfinite(v) else "diverged" for v in value]
    low, high = cells["colour"].min(), cells["colour"].max()
    share = (cells["colour"] - low) / (high - low) if high > low else cells["colour"] * 0
    cells["dark"] = (share > DARK_CELL).fillna(False)
    cells["best"] = False
    if len(cells):
        cells.loc[0, "best"] = bool(np.isfinite(value.iloc[0]))
    return cells[[x, y, "x_rank", "y_rank", metric, "colour", "label", "dark", "best",
                  "trial", "link"]]


def varying_metrics(frame: pd.DataFrame, metrics: list[str]) -> list[str]:
    """The metrics whose values differ between runs (a constant one says nothing)."""
    return [m for m in metrics if m in frame and
            pd.to_numeric(frame[m], errors="coerce").round(9).nunique(dropna=True) > 1]

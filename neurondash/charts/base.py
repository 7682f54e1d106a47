"""What every chart module shares: the row cap and the axes of counted quantities."""

from __future__ import annotations

import altair as alt
import pandas as pd

MAX_ROWS = 5000
"""Rows a chart may ship: Streamlit sends every row to the browser on every rerun."""


def check_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) > MAX_ROWS:
        raise ValueError(f"chart data has {len(frame)} rows; pre-aggregate to <= {MAX_ROWS}")
    return frame


def integer_axis(**kwargs) -> alt.Axis:
    """An axis of a counted quantity (steps, widths, batch sizes): whole-number ticks only,
    so a short run shows 0, 1, 2 and not 0.5 or '0.000000'."""
    return alt.Axis(format="d", tickMinStep=1, **kwargs)


def step_x(title: str = "step", steps: int | None = None) -> alt.X:
    """The training-step axis of every over-steps chart; ``steps`` fixes it at 0..steps, so
    that a run drawn while it trains grows to the right instead of rescaling."""
    scale = alt.Scale(domain=[0, steps], nice=False) if steps else alt.Undefined
    return alt.X("step:Q", title=title, axis=integer_axis(), scale=scale)


def is_integer(values: pd.Series) -> bool:
    """Whether a numeric column holds whole numbers only (then its axis gets integer ticks)."""
    numbers = pd.to_numeric(values, errors="coerce")
    return bool(numbers.notna().all() and (numbers == numbers.round()).all())

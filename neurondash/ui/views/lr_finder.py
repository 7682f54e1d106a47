"""The LR finder view."""

from __future__ import annotations

import math

import streamlit as st

from ... import charts
from ...config import Config, spell_value
from ...engine.lr_finder import MIN_FRACTION, SEEDS, find_lr, lr_range
from .. import render
from ..guard import callback
from ..session import Session


def lr_finder_tab(config: Config, words: list[str] | None) -> None:
    low, high = lr_range(config)
    st.caption(f"{SEEDS} runs (seeds {config.seed} to {config.seed + SEEDS - 1}, one data "
               f"split) whose learning rate rises exponentially from {low:g} to {high:g} "
               f"over 300 steps: the range for {config.opt}. The loss falls fastest "
               "around a good rate and blows up beyond it. The suggestion is "
               f"{MIN_FRACTION[config.opt]:g}x the rate at the lowest smoothed loss (for "
               f"{config.opt}; measured against full runs of five names models, where the "
               "best rate was within a factor of 2-3 of it), the median over the seeds; "
               "the shaded band around the red line spans the seeds' suggestions (as thin "
               "as the line when they agree).")
    if st.button("Run the learning-rate range test", key="lr_find"):
        Session().lr_result = (config, find_lr(config, words=words))
    stored = Session().lr_result
    if stored is None:
        return
    tested, result = stored
    if tested.replace(lr=config.lr) != config:  # the test sweeps lr itself: any lr is its own
        st.caption("(Result of the previous settings.)")
    render.chart(("lr_finder", tested), lambda: charts.lr_finder_chart(
        result.frame, result.suggestion, result.spread, result.start_loss))
    low, high = result.spread
    st.write(f"Suggested learning rate **{result.suggestion:.3g}** (the seeds suggest "
             f"{', '.join(f'{s:.3g}' for s in result.suggestions)}: from {low:.3g} to "
             f"{high:.3g}, a factor of {high / low:.2g}).")
    if result.minimum_at_top:
        st.warning(f"The smoothed loss was still at its lowest at the top of the range "
                   f"(lr {lr_range(tested)[1]:g}) for most seeds: the test found no minimum "
                   "inside it, so the suggestion says only that rates that high do not blow "
                   "up in 300 steps, not that they train well. When the init or the "
                   "architecture is the trouble (the Overview's findings), a rate test "
                   "cannot find the rate: fix those first. The diagnosis leaves this "
                   "suggestion out.")
    if math.isfinite(result.suggestion):
        st.button(f"Use lr = {spell_value(result.suggestion)}", key="lr_use",
                  on_click=_use_lr, args=(result.suggestion,))


@callback("Use lr")
def _use_lr(value: float) -> None:
    st.session_state["lr"] = value

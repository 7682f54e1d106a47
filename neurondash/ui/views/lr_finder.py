"""The LR finder view."""

from __future__ import annotations

import streamlit as st

from ... import charts
from ...config import Config
from ...engine.lr_finder import find_lr
from .. import render
from ..guard import callback
from ..session import Session
from ..sidebar import on_grid


def lr_finder_tab(config: Config, words: list[str] | None) -> None:
    st.caption("One run whose learning rate rises exponentially from 1e-4 to 10 over 300 "
               "steps. The loss falls fastest around a good learning rate and explodes "
               "beyond it.")
    if st.button("Run the learning-rate range test", key="lr_find"):
        Session().lr_result = (config, find_lr(config, words=words))
    stored = Session().lr_result
    if stored is None:
        return
    tested, result = stored
    if tested != config:
        st.caption("(Result of the previous settings.)")
    render.chart(("lr_finder", tested), lambda: charts.lr_finder_chart(result.frame,
                                                                       result.suggestion))
    st.button(f"Use lr = {result.suggestion:.3g}", key="lr_use", on_click=_use_lr,
              args=(result.suggestion,))


@callback("Use lr")
def _use_lr(value: float) -> None:
    st.session_state["lr"] = on_grid("lr", value)

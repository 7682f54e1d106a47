"""The Lessons view: every lesson as a link and a button."""

from __future__ import annotations

import streamlit as st

from ...presets import PRESETS
from ..sidebar import apply_config


def lessons_tab() -> None:
    st.caption("Each lesson is a link (it opens in a new tab with its settings) and a button "
               "that loads it here. The Overview's diagnosis names the effect.")
    for preset in PRESETS:
        with st.container(border=True):
            left, right = st.columns([5, 1])
            left.markdown(f"**{preset.title}** — {preset.look_at}  \n"
                          f"[link](?{preset.query})  `{preset.query}`")
            right.button("Open", key=f"preset_{preset.slug}", on_click=apply_config,
                         args=(preset.config,))

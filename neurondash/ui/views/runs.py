"""The Runs view: every run in the server's store (whoever trained it, before any restart),
to filter, sort, open, compare and delete."""

from __future__ import annotations

import sqlite3

import streamlit as st

from ...charts import prepare
from ...config import Config
from ...store import shared_store
from ..guard import callback
from ..session import Session
from ..sidebar import apply_config
from ..text import notice
from .common import table as readable_table

SHOWN_ROWS = 500
"""Rows the table shows at most (newest first by default); the filter finds older ones."""


@callback("Deleting runs")
def _delete(keys: list[str]) -> None:
    for key in keys:
        shared_store().delete(key)
    st.session_state.pop("runs_table", None)


@callback("Comparing runs")
def _compare(keys: list[str], labels: list[str]) -> None:
    """Open Compare on the selected runs (read from the store there)."""
    Session().compare_keys = list(keys)
    st.session_state["compare_runs"] = list(dict.fromkeys(labels))
    st.session_state["view"] = "Compare"


def runs_tab() -> None:
    try:
        store = shared_store()
        rows = store.list()
    except (OSError, sqlite3.Error) as err:
        notice("warning", f"The run store cannot be read ({type(err).__name__}: {err}).")
        return
    st.caption(f"Every run kept on this server: {len(rows):,} runs, "
               f"{store.total_bytes() / 1e6:.1f} MB of {store.max_bytes / 1e6:.0f} MB (the "
               "least recently used go first). Settings are those that differ from the "
               "defaults, as in a link. Select rows to open, compare or delete them.")
    if not rows:
        st.info("No stored runs yet: every run trained here (or by `python -m neurondash "
                "train`) is kept.")
        return
    left, right = st.columns([3, 1])
    text = left.text_input("filter", key="runs_filter",
                           placeholder="any part of the settings, status or findings, "
                                       "e.g. act=relu or Dead")
    sort = right.selectbox("sort by", list(prepare.RUN_SORTS), key="runs_sort")
    table = prepare.runs_frame(rows, text, sort).head(SHOWN_ROWS)
    event = readable_table(
        table.drop(columns=["key"]), hide_index=True, key="runs_table", on_select="rerun",
        selection_mode="multi-row", formats={"val_loss": "%.4f", "train_loss": "%.4f",
                                             "seconds": "%.1f", "examples": "localized"},
        column_config={"last_used": st.column_config.DatetimeColumn(
            "last used", format="YYYY-MM-DD HH:mm")})
    picked = [table["key"].iloc[i] for i in event.selection.rows if i < len(table)]
    one, two, three = st.columns(3)
    if len(picked) == 1:
        config = Config.from_dict(next(r.summary["config"] for r in rows
                                       if r.key == picked[0]))
        one.button("Open", on_click=apply_config, args=(config,), key="runs_open",
                   help="Load its settings in the sidebar (it opens from the store)")
    labels = [table["settings"].iloc[i].replace("(defaults)", "defaults")
              for i in event.selection.rows if i < len(table)]
    two.button("Compare", on_click=_compare, args=(picked, labels), key="runs_compare",
               disabled=len(picked) < 2, help="Overlay the selected runs in Compare")
    three.button("Delete", on_click=_delete, args=(picked,), key="runs_delete",
                 disabled=not picked, help="Remove the selected runs from the store")


def stored_configs(keys: list[str]) -> dict[str, Config]:
    """The Configs of the runs of ``keys`` still in the store, by key (for Compare), read
    from the index: the runs themselves are read only when Compare draws them."""
    wanted = set(keys)
    return {row.key: row.config for row in shared_store().list() if row.key in wanted}

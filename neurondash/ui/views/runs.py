"""The Runs view: the runs this session trained or opened, kept in the server's store, to
filter, sort, open and compare; for the operator (``ownership.ADMIN_ENV``) also every other
visitor's runs and, after a confirmation, deletion. There are no accounts: a run's link opens
it for anyone, but no visitor lists or deletes another's runs."""

from __future__ import annotations

import sqlite3

import streamlit as st

from ...charts import runs_table
from ...config import Config
from ...store import shared_store
from ...store_policy import PINNED_DAYS, SEARCH_TOP
from ..guard import callback
from ..ownership import Listing, admin_enabled, listing
from ..session import Session
from ..sidebar import apply_config
from ..text import escape, notice
from .common import table as readable_table

KEPT_HELP = (f"pinned: opened in the last {PINNED_DAYS:g} days, evicted last; search top: "
             f"among its search's best {SEARCH_TOP} runs, nobody opened it yet; goes first: "
             "a search's run beyond its best, evicted first; blank: by last use")
"""What the Runs table's ``kept`` column means (``store_policy``'s tiers)."""
SHOWN_ROWS = 500
"""Rows the table shows at most (newest first by default); the filter finds older ones."""


@callback("Deleting runs")
def _ask_delete(keys: list[str]) -> None:
    """The first click: nothing is deleted until the operator confirms these runs."""
    Session().delete_pending = list(keys)


@callback("Deleting runs")
def _delete(keys: list[str], names: str) -> None:
    """The confirmed second click (refused unless the operator enabled deletion)."""
    del Session().delete_pending
    if not admin_enabled():
        return
    gone = sum(bool(shared_store().delete(key)) for key in keys)
    Session().deleted = f"Deleted {_count(gone)} from the store: {names}."
    Session().runs_table_round += 1


@callback("Switching to the whole store")
def _keep_whole_store() -> None:
    Session().whole_store = bool(st.session_state["runs_whole_store"])


@callback("Deleting runs")
def _cancel_delete() -> None:
    del Session().delete_pending


@callback("Comparing runs")
def _compare(keys: list[str], labels: list[str]) -> None:
    """Open Compare on the selected runs (read from the store there)."""
    Session().compare_keys = list(keys)
    st.session_state["compare_runs"] = list(dict.fromkeys(labels))
    st.session_state["view"] = "Compare"


def _caption(store, shown: Listing, whole: bool, admin: bool) -> None:
    # A visitor sees what their own runs take, not the whole store's size: how much other
    # visitors stored is theirs.
    used = (f"{store.total_bytes() / 1e6:.1f} MB of {store.max_bytes / 1e6:.0f} MB used"
            if whole else f"they take {_size(sum(row.bytes for row in shown.rows))} of the "
                          f"server's {store.max_bytes / 1e6:.0f} MB cap")
    size = (f"{used}; beyond the cap a search's unopened runs past its best go first, runs "
            f"opened in the last {PINNED_DAYS:g} days (pinned) last")
    if whole:
        hidden = (f"; {_count(shown.private_hidden)} of other visitors' word lists "
                  f"{'is' if shown.private_hidden == 1 else 'are'} not listed"
                  if shown.private_hidden else "")
        st.caption(f"Every run kept on this server: {_count(len(shown.rows))}{hidden}; {size}."
                   " Settings are those that differ from the defaults, as in a link.")
        return
    gone_keys = Session().own_runs - {row.key for row in shown.rows}
    gone = len(gone_keys)
    named = [entry.config.to_query() or "defaults" for key, entry in Session().runs.entries()
             if key in gone_keys]
    which = f" ({escape(', '.join(named))})" if named else ""
    st.caption(f"The runs this browser tab trained or opened: {len(shown.rows):,}; "
               f"{size}. Settings are those that differ from the defaults, as in a link, "
               "which opens a run for anyone. Other visitors' runs are not listed here, and "
               "the list lives in this tab (there are no accounts): a reload, or a link "
               "opened in this tab, starts a new one, so open shared links in a new tab."
               + (f" {_count(gone)} of this tab{which} {'is' if gone == 1 else 'are'} no "
                  "longer in the store (evicted past its cap, or deleted by the operator): "
                  f"{'its link trains it' if gone == 1 else 'their links train them'} again."
                  if gone else "")
               + ("" if admin else " Deleting runs is the operator's: "
                                   "`python -m neurondash runs delete`."))


def _held_caption() -> None:
    """Runs of uploaded files, which the store never holds: said here, so that a run
    imported a moment ago is not taken for lost."""
    held = [entry.config.to_query() or "defaults" for _, entry in Session().runs.entries()
            if entry.uploaded]
    if held:
        st.caption(f"Held in this session only, never stored: {_count(len(held))} from "
                   f"uploaded files or continued from one ({escape(', '.join(held))}). "
                   "Compare lists them; Export keeps them as files.")


def _size(size: int) -> str:
    return f"{size / 1e3:,.0f} KB" if size < 1e6 else f"{size / 1e6:,.1f} MB"


def _count(runs: int) -> str:
    return f"{runs:,} run" + ("" if runs == 1 else "s")


def runs_tab() -> None:
    admin = admin_enabled()
    whole = admin and st.toggle(
        "Whole store (operator)", key="runs_whole_store", value=Session().whole_store,
        on_change=_keep_whole_store,
        help="Every visitor's stored runs, except those of their uploaded word lists")
    try:
        store = shared_store()
        shown = listing(store.list(), Session().own_runs, whole)
        _caption(store, shown, whole, admin)
        _held_caption()
    except (OSError, sqlite3.Error) as err:
        notice("warning", f"The run store cannot be read ({type(err).__name__}: {err}).")
        return
    deleted = Session().take("deleted")
    if deleted:
        notice("success", deleted)
    rows = shown.rows
    if not rows:
        st.info(("None of this tab's runs is in the store any more." if
                 Session().own_runs else "No stored runs of this tab yet.")
                + " Every run it trains or opens is kept and listed here." if not whole else
                "No stored runs yet: every run trained here (or by `python -m neurondash "
                "train`) is kept.")
        return
    left, right = st.columns([3, 1])
    text = left.text_input("filter", key="runs_filter",
                           placeholder="any part of the settings, status or findings, "
                                       "e.g. act=relu or Dead")
    sort = right.selectbox("sort by", list(runs_table.RUN_SORTS), key="runs_sort")
    table = runs_table.runs_frame(rows, text, sort).head(SHOWN_ROWS)
    event = readable_table(
        table.drop(columns=["key"]), hide_index=True, on_select="rerun",
        key="runs_table" + (f"_{Session().runs_table_round}" if Session().runs_table_round
                            else ""),
        selection_mode="multi-row", formats={"val_loss": "%.4f", "train_loss": "%.4f",
                                             "seconds": "%.1f", "examples": "localized"},
        column_config={"settings": st.column_config.TextColumn("settings", width="large"),
                       "last_used": st.column_config.DatetimeColumn(
                           "last used (UTC)", format="YYYY-MM-DD HH:mm"),
                       "kept": st.column_config.TextColumn("kept", help=KEPT_HELP)})
    picked = [table["key"].iloc[i] for i in event.selection.rows if i < len(table)]
    one, two, three, _ = st.columns([1, 1, 1, 4])  # side by side, at the left
    if len(picked) == 1:
        config = Config.from_dict(next(r.summary["config"] for r in rows
                                       if r.key == picked[0]))
        one.button("Open", on_click=apply_config, args=(config,), key="runs_open",
                   help="Load its settings in the sidebar (it opens from the store)")
    labels = [table["settings"].iloc[i].replace("(defaults)", "defaults")
              for i in event.selection.rows if i < len(table)]
    two.button("Compare", on_click=_compare, args=(picked, labels), key="runs_compare",
               disabled=len(picked) < 2, help="Overlay the selected runs in Compare")
    if admin:
        _deletion(three, picked, dict(zip(table["key"], table["settings"], strict=True)))


def _deletion(column, picked: list[str], settings: dict[str, str]) -> None:
    """The operator's Delete: a first click names what would go, a second one deletes it."""
    session = Session()
    pending = session.delete_pending
    if pending is not None and pending != picked:
        del session.delete_pending  # the selection changed: ask again
        pending = None
    column.button("Delete...", on_click=_ask_delete, args=(picked,), key="runs_delete",
                  disabled=not picked or pending is not None,
                  help="Remove the selected runs from the store, for everyone (asks first)")
    if pending is None:
        return
    names = ", ".join(settings.get(key, key) for key in pending[:5])
    more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
    st.warning(f"Delete {_count(len(pending))} from the store for every visitor? Their links "
               f"will train them again. {escape(names)}{escape(more)}")
    yes, no = st.columns([1, 5])
    yes.button("Yes, delete", on_click=_delete, args=(pending, names + more),
               key="runs_delete_confirm", type="primary")
    no.button("Cancel", on_click=_cancel_delete, key="runs_delete_cancel")


def stored_configs(keys: list[str]) -> dict[str, Config]:
    """The Configs of the runs of ``keys`` still in the store, by key (for Compare), read
    from the index: the runs themselves are read only when Compare draws them."""
    wanted = set(keys)
    return {row.key: row.config for row in shared_store().list() if row.key in wanted}

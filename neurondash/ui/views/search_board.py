"""The search's leaderboard: the best trial, every trial as a row that opens its run, and
the selection that Compare overlays."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from ...config import Config
from ...identity import run_key
from ..guard import callback
from ..session import Session
from ..sidebar import apply_config

METRICS = {"val_loss": "validation loss", "val_acc": "validation accuracy",
           "train_loss": "training loss"}
"""The numbers a search ranks its trials by."""


def best_line(board: pd.DataFrame, metric: str) -> None:
    """The best trial, with buttons to open it and to take its settings."""
    best = board.iloc[0]
    spread = (f" ± {best[metric + '_sd']:.4f} over {int(best['repeats'])} seeds"
              if best["repeats"] > 1 else "")
    partial = ("" if best["whole"] else f" No trial has run its whole length on every "
               f"seed yet: this one trained {best['trained']}.")
    # Two digits below a second: a 0.04-s moons run read "0.0 s of training".
    seconds = best["seconds"]
    took = f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.2g}"
    st.success(f"Best: {METRICS[metric]} {best[metric]:.4f}{spread} (trial "
               f"{int(best['trial'])}, {took} s of training).{partial}"
               + against_store(board, metric))
    config, _ = Config.from_query(str(best["query"]))
    one, two = st.columns(2)
    one.link_button("Open the best run in a new tab", str(best["link"]))
    two.button("Use its settings in the sidebar", key="search_use", on_click=_use_settings,
               args=(config, int(best["trial"])),
               help="The sidebar takes the best trial's settings and the page shows its run "
                    "above; this search stays as it is (its searched settings are drawn, "
                    "whatever the sidebar holds)")
    used = Session().take("search_used")
    if used is not None:
        seeds = (f" It is the run of the trial's first seed ({config.seed}): its "
                 f"{METRICS[metric]} is that seed's, where {best[metric]:.4f} is the mean over "
                 f"{int(best['repeats'])} seeds." if best["repeats"] > 1 and used ==
                 int(best["trial"]) else "")
        st.info(f"The sidebar now holds trial {used}'s settings: its run is the one shown "
                f"above.{seeds} This search is unchanged: it draws the searched settings "
                "itself.")


def against_store(board: pd.DataFrame, metric: str) -> str:
    """Whether this search beat the stored trials it started from (a warm start's
    question), for a board ranked best first; empty when it started from none."""
    stored = board["origin"] == "store"
    own = board[~stored & board["whole"]]
    if not stored.any():
        return ""
    if not stored.iloc[0]:
        ours, theirs = _apart(board[metric].iloc[0], board.loc[stored, metric].iloc[0])
        if ours == theirs:
            return f" It ties the best stored trial this search started from ({theirs})."
        return (f" It beats the best stored trial this search started from: {ours} "
                f"against {theirs}.")
    if own.empty:
        return " It is a stored trial; none of this search's trials has run whole yet."
    return (f" It is a stored trial; this search's own best is {own[metric].iloc[0]:.4f} "
            f"(trial {int(own['trial'].iloc[0])}).")


def _apart(one: float, other: float) -> tuple[str, str]:
    """Both values with 4 decimals, or the fewest more that tell them apart (up to 8)."""
    for digits in range(4, 9):
        pair = f"{one:.{digits}f}", f"{other:.{digits}f}"
        if pair[0] != pair[1]:
            break
    return pair


@callback("Use its settings")
def _use_settings(config: Config, trial: int) -> None:
    apply_config(config)
    Session().search_used = trial


def told_from(board: pd.DataFrame, trained_by: Mapping[str, str | None], this_search: str,
              words: list[str] | None) -> pd.Series:
    """The 'from' cell: 'search' for a trial this search drew; for a stored one told to
    the sampler first, what trained it (by the store's ``trained_by``: run key -> key of
    the search that first trained it, None for a page). A class's second search listed
    the first one's trials as 'store' alike, beside a run somebody opened."""
    def said(origin: str, query: str) -> str:
        if origin != "store":
            return origin
        trainer = trained_by.get(run_key(Config.from_query(query)[0], words))
        return ("store · a page" if trainer is None else "store · this search"
                if trainer == this_search else "store · other search")
    return pd.Series([said(origin, query) for origin, query
                      in zip(board["origin"], board["query"], strict=True)], index=board.index)


def leaderboard_table(board: pd.DataFrame, metric: str, searched: list[str],
                      words: list[str] | None, sources: pd.Series | None = None) -> None:
    """Every trial as a row with its link; selected rows open in Compare. ``sources``:
    ``told_from``'s cells for the 'from' column."""
    repeated = bool((board["repeats"] > 1).any())
    noted = bool(board["findings"].fillna("").astype(str).str.strip().any())
    partial = bool((~board["trained"].str.startswith("all")).any())  # diverged is said
    stored = bool((board["origin"] == "store").any())
    columns = ["link", "trial", *searched, metric,
               *([f"{metric}_sd", "repeats", "vs_best"] if repeated else []),
               *(["trained"] if partial else []), *(["origin"] if stored else []),
               "seconds", "examples", *(["findings"] if noted else [])]
    table = board[columns].copy()
    if stored and sources is not None:
        table["origin"] = sources
    # A drawn value in full (0.00862, not the grid's default 0.0086; 0.86800001, not "%.6g"'s
    # 0.868 beside a trial at 0.868): the value the trial's link and sidebar hold.
    drawn = {name: st.column_config.NumberColumn(name, format="plain") for name in searched
             if pd.api.types.is_float_dtype(table[name])}
    event = st.dataframe(
        table, hide_index=True, key="search_table", on_select="rerun",
        selection_mode="multi-row",
        column_config={
            **drawn,
            "link": st.column_config.LinkColumn("open", display_text="open ↗",
                                                help="the run's dashboard, in a new tab"),
            f"{metric}_sd": st.column_config.NumberColumn("sd", format="%.4f"),
            metric: st.column_config.NumberColumn(METRICS[metric], format="%.4f"),
            "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
            "vs_best": "vs best",
            "trained": st.column_config.TextColumn(
                "steps trained", help="a trial stopped at an early rung trained only these "
                                      "steps of its run (ranked after the whole trials)"),
            "trial": st.column_config.NumberColumn(
                "trial", help="this search's number for the trial, in the order it was "
                              "drawn ('store' rows first): the same run has another number "
                              "in another search, and the same link"),
            "findings": st.column_config.TextColumn("findings", width="large"),
            "origin": st.column_config.TextColumn(
                "from", help="'search': drawn by this search; 'store': a run of this "
                             "space already stored when it began, told to the sampler "
                             "before its first draw, trained by this search's earlier "
                             "press, by another search or on a page")})
    picked = [int(i) for i in event.selection.rows if i < len(table)]
    chosen = board.iloc[picked] if picked else board.iloc[:0]
    st.button("Compare the selected trials", key="search_compare", disabled=len(chosen) < 2,
              on_click=_compare, args=(list(chosen["query"]), words),
              help="Overlay the selected trials' runs (their first seed) in Compare")
    st.caption(_board_words(partial, int(board[metric].isna().sum()), metric))


def _board_words(partial: bool, diverged: int, metric: str) -> str:
    """The leaderboard's caption: its order, and what an empty number means."""
    order = (", the whole ones before those stopped at an early rung (by the pruner, or "
             "'cut short': promoted, but the search stopped or ran out of budget before "
             "running it on)" if partial else "")
    drawn = "; the charts draw them at the uniform guess's loss" if metric != "val_acc" else ""
    empty = (f" A {METRICS[metric]} of None is a trial that diverged ({diverged} here; "
             f"'steps trained' says at which step){drawn}." if diverged else "")
    return (f"Rows are trials, best first{order} ('open' opens one in a new tab); 'within "
            "seed spread' marks a gap to the best no larger than the seed-to-seed sd (an "
            "effect these repeats cannot tell from noise). Select rows to compare them."
            + empty)


@callback("Compare")
def _compare(queries: list[str], words: list[str] | None) -> None:
    configs = [Config.from_query(query)[0] for query in queries]
    Session().compare_keys = [run_key(config, words) for config in configs]
    st.session_state["compare_runs"] = [query or "defaults" for query in queries]
    st.session_state["view"] = "Compare"

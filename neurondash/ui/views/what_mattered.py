"""What mattered in a search: each setting's fANOVA importance over the whole trials, with
what it can and cannot say (too few trials, a value tried once, a setting left out)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from ... import charts
from ...search import IMPORTANCE_TRIALS, SearchSpec, importance_frame
from ...search.leaderboard import ended
from .. import render
from ..text import notice

FEW_TRIALS = 30
"""Whole trials under which importances are said to be rough (fANOVA fits a forest to
them: with 15 trials one sgd trial gave 'opt' 44%)."""
FEW_TRIES = 3
"""A choice tried in fewer whole trials than this is named: its share rests on them."""


def what_mattered(spec: SearchSpec, frame: pd.DataFrame, key: tuple) -> None:
    table = importance_frame(spec, frame)
    if table.empty:
        return
    whole = int(table["trials"].iloc[0])
    early = " (trials stopped at an early rung do not count)" if spec.rungs > 1 else ""
    if whole < IMPORTANCE_TRIALS:
        # A grid has no more trials to come: say which knob gives the chart.
        more = "search a larger grid" if spec.method == "grid" else "ask for more trials"
        st.caption(f"**What mattered** needs at least {IMPORTANCE_TRIALS} trials trained to "
                   f"their full length; this search has {whole}{early}: to see it, "
                   f"{more}{' or use fewer rungs' if spec.rungs > 1 else ''}.")
        return
    st.markdown("**What mattered**: each setting's share of the variance of the whole "
                "trials' validation loss (Optuna's fANOVA importance)")
    render.chart((*key, "importance"), lambda: charts.importance_chart(table))
    noise = float(table["noise"].iloc[0])
    st.caption(f"From {whole} whole trials{early}. " + (
        f"The dashed line is the share the seed spread alone explains ({noise:.0%}): a grey "
        "bar is below it, an effect these repeats cannot tell from chance."
        if math.isfinite(noise) else
        "With one seed per trial, seed noise cannot be told apart: raise 'seeds per trial' "
        "to judge it."))
    caveats = caveats_of(spec, frame, table)
    if caveats:
        notice("info", " ".join(caveats))


def caveats_of(spec: SearchSpec, frame: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """What the importances cannot say: too few trials, a choice tried in few of them, a
    searched setting left out and why."""
    whole = frame[ended(frame) & frame["status"].isin(("finished", "diverged"))]
    trials = whole.drop_duplicates("trial")
    said = []
    if len(trials) < FEW_TRIALS:
        said.append(f"{len(trials)} trials make these shares rough: fANOVA fits them to few "
                    "points, so a setting can take a large share by chance.")
    shown = set(table["setting"])
    for searched in spec.ranges:
        name = searched.name
        if name == "seed" or name not in trials:
            continue
        if name not in shown:
            said.append(f"{name} is left out: " + (
                f"it is drawn only if {searched.when[0]}="
                f"{','.join(map(str, searched.when[1]))}, and fANOVA compares settings "
                "every trial has." if searched.when is not None else
                "every whole trial has the same value of it."))
        elif searched.kind == "choice":
            counts = trials[name].astype(str).value_counts()
            rare = counts[counts < FEW_TRIES]
            if len(rare) and len(counts) > 1:
                tried = ", ".join(f"{name}={value} in {count}" for value, count in rare.items())
                said.append(f"Few whole trials tried {tried}: {name}'s share rests on "
                            f"{'it' if rare.sum() == 1 else 'them'}.")
    return said

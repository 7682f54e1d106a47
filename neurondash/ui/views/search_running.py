"""Searches under way on this server, as every page sees them: a colleague who opens the
link of a search while its sender's page runs it sees its progress instead of "No run of
this search is stored yet: press Run search" (which invited a second, duplicate search),
and the results once it ends."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import streamlit as st

from ...search import SearchLog, SearchSpec, search_frame
from ..live import waiter_id
from ..session import Session
from ..text import notice

WATCH_SECONDS = 2.0
"""How often a page that follows another page's search looks at its progress."""


WIND_DOWN_SECONDS = 10.0
"""How long a draw waits for this page's earlier search to stop (a run's result being
stored, the search's record written)."""


@dataclass(frozen=True)
class Running:
    """A search under way: the page running it, its spec and the log it fills; ``stop``
    asks it to stop, ``ended`` says it has (its record written)."""

    owner: str
    spec: SearchSpec
    log: SearchLog
    stop: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)


_RUNNING: dict[str, Running] = {}
_LOCK = threading.Lock()


@contextlib.contextmanager
def running(key: str, spec: SearchSpec, log: SearchLog) -> Iterator[Running]:
    """While the block runs, the search of ``key`` is under way on this page."""
    search = Running(waiter_id(), spec, log)
    with _LOCK:
        _RUNNING[key] = search
    try:
        yield search
    finally:
        search.ended.set()
        with _LOCK:
            if _RUNNING.get(key) is search:
                del _RUNNING[key]


def wind_down_mine() -> None:
    """Stop this page's searches that an earlier draw still runs, and wait for them.

    A click (Stop, a setting, another tab) starts a new draw while the earlier one still
    waits on its workers: that draw showed the search as it was, then it stored one more
    run and wrote a record with it, so a reload showed another result. Stopped here, the
    search drops the runs under way and writes its record before this draw reads it."""
    me = waiter_id()
    with _LOCK:
        mine = [search for search in _RUNNING.values() if search.owner == me]
    for search in mine:
        search.stop.set()
    for search in mine:
        search.ended.wait(WIND_DOWN_SECONDS)


def elsewhere(key: str) -> Running | None:
    """The search of ``key`` when another page runs it now."""
    with _LOCK:
        found = _RUNNING.get(key)
    return found if found is not None and found.owner != waiter_id() else None


def progress_words(spec: SearchSpec, log: SearchLog) -> tuple[float, str]:
    """(share of the trials drawn, what the progress bar says) of a search under way."""
    whole = [r["val_loss"] for i, r in log.results.items()
             if log.runs[i].config.until == 0 and isinstance(r.get("val_loss"), float)
             and math.isfinite(r["val_loss"])]
    best = f"; best validation loss {min(whole):.4f}" if whole else ""
    trials = len({p.trial for p in log.runs if p.origin == "search"})
    trained = sum(log.runs[i].origin == "search" for i in log.results)
    stored = len({p.trial for p in log.runs if p.origin != "search"})
    told = f"; {stored:,} stored trials told first" if stored else ""
    return (min(trials / spec.trial_count, 1.0),
            f"{trials} of {spec.trial_count} trials, {runs_done(trained)}{told}{best}")


def runs_done(runs: int) -> str:
    """'1 run done', '7 runs done (each seed of a trial, and each rung, is a run)'."""
    return ("1 run done" if runs == 1 else
            f"{runs:,} runs done (each seed of a trial and each rung it reached is a run)")


def follow(key: str, other: Running) -> None:
    """Another page runs this search: its progress, redrawn every few seconds, and this
    page's results read from the store once it ends."""

    @st.fragment(run_every=WATCH_SECONDS)
    def watch() -> None:
        if elsewhere(key) is None:
            del Session().sweep  # read its record anew
            st.rerun(scope="app")
        share, words = progress_words(other.spec, other.log)
        st.info("Another page is running this search now; its results show here when it "
                "ends (Run search is off meanwhile: it would train a second search).")
        st.progress(share, text=words)

    watch()


def cut_words(spec: SearchSpec, log: SearchLog) -> str:
    """How far a search cut short got, counted as its leaderboard counts (trials this
    search drew and finished; stored ones it started from are not its own), and where its
    runs are."""
    drawn = search_frame(spec, log)
    drawn = drawn[drawn["origin"] == "search"]
    whole = drawn.groupby("trial")["status"].agg(lambda s: bool((s != "not run").all()))
    done, cut = int(whole.sum()), int((~whole).sum())
    return (f"with {done} of its {spec.trial_count} trials finished"
            + (f" and {cut} cut short" if cut else "") + ": what it finished is kept, and "
            "Run search with those settings goes on from there")


def say_cut_here(spec: SearchSpec) -> None:
    """In the Sweep tab: this page's search cut short, unless it is the search shown and
    was ended by Stop (its leaderboard says so)."""
    cut, toasted = Session().take("search_cut"), Session().take("search_cut_toasted")
    if cut is not None and cut[0] != spec:
        notice("info", f"The settings changed, so the search of the previous ones stopped "
                       f"{cut_words(*cut)}.")
    elif cut is not None and toasted:
        notice("info", f"This search stopped when another tab opened: {cut_words(*cut)}.")


def say_cut_search() -> None:
    """A search this page ran, cut short by a draw that did not show the Sweep tab (the
    sidebar's settings or the open tab changed): said where the page is now, once, and
    again in the Sweep tab (a toast goes away)."""
    cut = Session().search_cut
    if cut is not None and not Session().search_cut_toasted:
        Session().search_cut_toasted = True
        st.toast(f"The search in the Sweep tab stopped {cut_words(*cut)}.",
                 icon=":material/stop_circle:")

"""The Sweep view: a search over the sidebar's settings (Optuna's TPE, random, grid or
CMA-ES, with seed repeats and rungs), its leaderboard, what mattered, and charts. The search
is part of the link, so a shared link shows the same search, read from its record in the
run store; it trains only on Run search. The leaderboard opens a trial in a new browser
tab; a chart's line, point or cell opens it in this tab, and Back returns to the search
(the link holds it, the store its runs)."""

from __future__ import annotations

import contextlib
import os

import pandas as pd
import streamlit as st

from ... import charts
from ...charts import prepare
from ...config import Config
from ...identity import run_key
from ...search import (
    MAX_REPEATS,
    MAX_RUNGS,
    MAX_TRIALS,
    METHODS,
    SearchError,
    SearchLog,
    SearchSpec,
    default_ranges,
    leaderboard,
    parse_range,
    replay_search,
    run_search,
    rung_words,
    search_frame,
    search_key,
    skipped_frame,
)
from ...search.leaderboard import ended
from ...search.spec import WARM_METHODS
from ...store import shared_store
from ...sweep import SCHEDULER_ENV, SchedulerError, make_executor, process_pool
from .. import render
from ..guard import callback
from ..session import Session
from ..text import notice
from . import search_running
from .edge_map import edge_of_search
from .search_board import METRICS, best_line, leaderboard_table, told_from
from .search_plan import describe_plan
from .what_mattered import what_mattered

DEFAULT_SEARCH = "\n".join(r.spell() for r in default_ranges(Config()))
LINK_DEFAULTS = {"search": DEFAULT_SEARCH, "method": "tpe", "trials": 20, "repeats": 1,
                 "budget": 0, "search_seed": 0, "rungs": 1}
"""The search's link parameters and their defaults (a default is left out of the link)."""
VERSION = "search_version"
"""The link parameter naming the version of the search's record it shows: a link shared
before the search ran on shows what its sender saw, not the latest."""


def check_link(raw: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """What is wrong with a link's search parameters, by name: the message and the value
    the link gets instead (a whole number beyond a bound: that bound, as for settings),
    or None to drop it (its control would drop the value, or fail on it: ``budget=inf``)."""
    found: dict[str, tuple[str, str | None]] = {}
    numbers = {"trials": (1, MAX_TRIALS), "repeats": (1, MAX_REPEATS), "budget": (0, 3600),
               "search_seed": (0, 2**31 - 1), "rungs": (1, MAX_RUNGS)}
    for name, (low, high) in numbers.items():
        if name not in raw:
            continue
        try:
            number = int(raw[name])
        except ValueError:
            number = None
        if number is not None and low <= number <= high:
            continue
        refused = f"{name}={raw[name]!r} is not allowed: a whole number from {low} to {high}"
        if number is None:
            found[name] = (f"{refused}; using {LINK_DEFAULTS[name]}.", None)
        else:
            nearest = min(max(number, low), high)
            found[name] = (f"{refused}; using the nearest allowed value {nearest}.",
                           str(nearest))
    if "method" in raw and raw["method"] not in METHODS:
        found["method"] = (f"method={raw['method']!r} is not a search method (one of "
                           f"{', '.join(METHODS)}); using {LINK_DEFAULTS['method']}.", None)
    return found


def sweep_tab(config: Config, words: list[str] | None) -> None:
    st.caption("Search the settings on top of the sidebar's (each trial is the sidebar's "
               "Config with the drawn values; a searched setting a trial does not draw, as "
               "wd in an sgd trial of 'wd=... if opt=adamw', takes its default and shows "
               "blank), in parallel worker processes. Every run is kept in the run store: "
               "the search's link, opened by anybody, shows its results without training. "
               "Run search trains: a TPE or CMA-ES search is told the stored runs of its "
               "space first (marked 'store' below) and draws new trials; a random or grid "
               "search draws the same trials for the same seed and reads those stored.")
    spec = _spec_from_controls(config)
    if spec is None:
        return
    search_running.say_cut_here(spec)
    plan = st.empty()  # said again after a search here: the store it counts has grown
    with plan:
        describe_plan(spec, words, _store())
    key = search_key(spec, tuple(words) if words else None)
    other = search_running.elsewhere(key)
    if other is not None:
        search_running.follow(key, other)
    if st.button("Run search", type="primary", key="search_run", disabled=other is not None):
        _run(spec, words)
        with plan:
            describe_plan(spec, words, _store())
    version = st.query_params.get(VERSION)
    held = Session().sweep
    if held is None or held[0] != spec or (version and held[1].version != version):
        held = _replay(spec, words, version, from_link=held is None)
    elif held[1].version and version != held[1].version:
        # A search that Stop ended: its script could not write the link any more.
        st.query_params[VERSION] = held[1].version
    if other is not None and not held[1].runs:
        return  # nothing stored yet: its progress above says what there is
    _results(*held, words)


def _spec_from_controls(config: Config) -> SearchSpec | None:
    left, right = st.columns([3, 2])
    text = left.text_area("ranges, one per line", LINK_DEFAULTS["search"], height=220,
                          key="search",
                          bind="query-params",
                          help="name=choice(a,b,c) or name=a,b,c; name=loguniform(low,high); "
                               "name=uniform(low,high); lr=auto (the optimizer's range); add "
                               "'if opt=adamw' to draw a setting only then. Widths and "
                               "feature sets are separated by ';'.")
    method = right.selectbox("method", tuple(METHODS),
                             index=tuple(METHODS).index(LINK_DEFAULTS["method"]), key="method",
                             bind="query-params",
                             help="; ".join(f"{k}: {v}" for k, v in METHODS.items()))
    trials = right.number_input("trials", 1, MAX_TRIALS, LINK_DEFAULTS["trials"],
                                key="trials", bind="query-params", disabled=method == "grid",
                                help=f"trials to run, 1 to {MAX_TRIALS} (a grid runs every "
                                     "combination: the plan below counts them); a value "
                                     "outside stays unapplied")
    repeats = right.number_input("seeds per trial", 1, MAX_REPEATS, LINK_DEFAULTS["repeats"],
                                 key="repeats", bind="query-params",
                                 help=f"each trial trained with 1 to {MAX_REPEATS} seeds on one "
                                      "data split: the spread is the noise an effect must beat")
    budget = right.number_input("budget (seconds, 0 = none)", 0, 3600,
                                LINK_DEFAULTS["budget"], key="budget", bind="query-params",
                                help="no run starts after this many seconds (0 to 3600)")
    seed = right.number_input("search seed", 0, 2**31 - 1, LINK_DEFAULTS["search_seed"],
                              key="search_seed", bind="query-params",
                              help="the same seed draws the same trials (one worker at a "
                                   "time; in parallel they depend on which finish first)")
    rungs = right.number_input("rungs", 1, MAX_RUNGS, LINK_DEFAULTS["rungs"], key="rungs",
                               bind="query-params",
                               help=f"1 to {MAX_RUNGS}. 1: every trial trains in full; "
                                    f"{rung_words(3)} (the same run, not retrained)")
    ranges, problems, first_line = [], [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        dropped: list[str] = []
        try:
            searched = parse_range(line, dropped)
        except SearchError as err:
            problems.append(f"line {number}: {err}")
            continue
        for said in dropped:
            notice("warning", f"Search line {number}: {said}")
        if not config.applies(searched.name):
            if text != DEFAULT_SEARCH:  # the default's char-task lines are ours to drop
                problems.append(f"line {number}: {searched.name} does not apply to task "
                                f"{config.task}")
            continue
        if searched.name in first_line:
            problems.append(f"line {number}: {searched.name} is already searched on line "
                            f"{first_line[searched.name]}")
            continue
        first_line[searched.name] = number
        ranges.append(searched)
    for problem in problems:
        notice("warning", f"Left out of the search: {problem}")
    if problems and not ranges:
        st.info("Nothing is left to search: every line above was left out.")
        return None
    try:
        return SearchSpec(config, tuple(ranges), trials=int(trials), repeats=int(repeats),
                          method=method, seed=int(seed), budget_seconds=float(budget) or None,
                          rungs=int(rungs))
    except SearchError as err:
        notice("warning", f"Search settings: {err}")
        return None


@st.cache_resource(show_spinner=False)
def _sweep_pool():
    """One worker pool per server, kept between searches: starting workers (imports, the
    names data) takes about a second, as long as a small search's runs. It starts with the
    first search, not with the page, so that its start-up never slows the dashboard."""
    return process_pool()


def _store():
    try:
        return shared_store()
    except OSError:
        return None


def _run(spec: SearchSpec, words: list[str] | None) -> None:
    log = SearchLog()
    Session().sweep = (spec, log)
    stop = st.empty()
    stop.button("Stop search", key="search_stop",
                help="Stops now: runs under way are dropped, finished ones are kept and "
                     "listed, and Run search starts from them")
    bar = st.progress(0.0, text="Searching...")
    local = not os.environ.get(SCHEDULER_ENV)
    executor = contextlib.nullcontext(_sweep_pool()) if local else make_executor("dask")

    def show(done: int, total: int) -> None:
        share, words_said = search_running.progress_words(spec, log)
        bar.progress(share, text=words_said)

    key = search_key(spec, tuple(words) if words else None)
    # A click (Stop, a setting, another tab) starts the next draw, which stops this search
    # (``wind_down_mine``) or ends this script with Streamlit's own exception (which
    # ``except Exception`` lets through): either way that draw says how far it got.
    Session().search_cut = (spec, log)
    try:
        with executor as pool, search_running.running(key, spec, log) as search:
            run_search(spec, pool, on_result=show, should_stop=search.stop.is_set,
                       words=tuple(words) if words else None, log=log, store=_store())
            if not search.stop.is_set():  # it ended on its own: nothing to say
                del Session().search_cut
    except SchedulerError as err:
        del Session().search_cut
        notice("error", f"The search did not start: {err}.")
    except Exception as err:  # noqa: BLE001 - a worker failure must not lose the page
        del Session().search_cut
        if local:  # a pool that lost a worker cannot take new runs: start afresh
            _sweep_pool().shutdown(wait=False, cancel_futures=True)
            _sweep_pool.clear()
        notice("error", f"The search stopped: a run failed ({type(err).__name__}: {err}). "
                        "Finished runs are kept below.")
    finally:  # also after Stop, which ends this script with Streamlit's own exception
        Session().own_runs.update(run_key(log.runs[i].config, words) for i in log.results
                                  if log.runs[i].origin == "search")  # listed in Runs
        if log.version:  # the link names what this search now holds
            st.query_params[VERSION] = log.version
    bar.empty()
    stop.empty()


def _replay(spec: SearchSpec, words: list[str] | None, version: str | None = None,
            from_link: bool = False) -> tuple:
    """The search as its record in the store says, the link's ``version`` of it when the
    store keeps that (nothing is trained). A version of another search (the controls
    changed) leaves the link; one the store lost is said, when it came with the link."""
    store, words_key = _store(), tuple(words) if words else None
    log = replay_search(spec, store, words_key, version)
    if version and not log.runs:
        st.query_params.pop(VERSION, None)
        log = replay_search(spec, store, words_key)
        if from_link and log.runs:
            notice("warning", f"{VERSION}={version!r} is not a version of this search the "
                              "run store keeps; showing its latest.")
    elif version and log.version != replay_search(spec, store, words_key).version:
        _offer_latest(log)
    if log.version:  # the address bar names this version: a link copied now shows it
        st.query_params[VERSION] = log.version
    held = (spec, log)
    Session().sweep = held
    return held


def _offer_latest(log: SearchLog) -> None:
    """Under an older version of a search: that it ran on since, and a way to its latest."""
    trials = len({p.trial for p in log.runs})
    st.info(f"This link shows the search as it was when the link was made ({trials} "
            "trials); it has run on since.")
    st.button("Show its latest", key="search_latest", on_click=_show_latest)


@callback("Show its latest")
def _show_latest() -> None:
    st.query_params.pop(VERSION, None)
    del Session().sweep  # read again: the latest


def _results(spec: SearchSpec, log: SearchLog, words: list[str] | None) -> None:
    skipped = skipped_frame(spec, log)
    if len(skipped):
        with st.expander(f"{len(skipped)} trial(s) skipped: invalid settings"):
            st.dataframe(skipped, hide_index=True)
    if not log.results:
        st.info("No run of this search is stored yet: press **Run search**.")
        return
    frame = search_frame(spec, log)
    drawn = frame[frame["origin"] == "search"]
    unfinished = drawn.loc[drawn["status"] == "not run", "trial"].nunique()
    if unfinished:
        st.warning(f"{unfinished} of the {drawn['trial'].nunique()} trials this search drew "
                   "did not finish (it was stopped or ran out of budget, or a run has left "
                   "the store). " + (
                       f"Run search draws up to {spec.trial_count} more trials, told the "
                       "whole stored ones first" if spec.method in WARM_METHODS else
                       f"Run search draws the same {spec.trial_count} trials again") +
                   "; a run already stored is read, not trained again.")
    searched = [n for n in spec.searched if n != "seed"]
    done = frame[frame["status"] != "not run"].assign(
        link="?" + frame["query"].astype(str))
    offered = prepare.varying_metrics(done, list(METRICS)) or list(METRICS)
    metric = st.selectbox("rank by", offered, key="search_metric", format_func=METRICS.get,
                          help="metrics with the same value in every run are not offered")
    ascending = metric != "val_acc"
    board = leaderboard(frame, searched, metric, ascending=ascending)
    if board.empty:
        return
    board["link"] = "?" + board["query"].astype(str)
    ceiling = (float(done["expected_initial_loss"].max())
               if metric != "val_acc" and "expected_initial_loss" in done else None)
    best_line(board, metric)
    store = _store() if (board["origin"] == "store").any() else None
    sources = None if store is None else told_from(
        board, {stored.key: stored.search for stored in store.list()},
        search_key(spec, tuple(words) if words else None), words)
    leaderboard_table(board, metric, searched, words, sources)
    key = ("search", spec, len(done), metric)
    what_mattered(spec, frame, key)
    # A trial stopped at an early rung has the loss of fewer steps: the charts across
    # settings compare whole trials (the leaderboard lists every trial).
    whole = board["whole"]
    whole_only = bool(whole.any() and not whole.all())
    if whole_only:
        kept, cut = int(whole.sum()), int((~whole).sum())
        st.caption(f"The charts below draw the {kept} whole trial{'s' * (kept != 1)}; the "
                   f"{cut} stopped short of {'their' if cut != 1 else 'its'} full length are "
                   "in the leaderboard.")
        board = board[whole]
        done = done[ended(done)]
    if len(searched) >= 2 and len(board) >= 2:
        st.markdown(f"**Every {'whole ' if whole_only else ''}trial across the searched "
                    "settings** (click a line to open its run; Back returns to this search)")
        lines, ticks = prepare.parallel_frame(board, searched, metric, ceiling)
        render.chart((*key, "parallel"), lambda: charts.parallel_coordinates_chart(
            lines, ticks, searched, metric))
    if metric in prepare.varying_metrics(done, list(METRICS)):
        st.markdown(f"**{METRICS[metric]} against each setting** (every run of "
                    f"{'the whole trials' if whole_only else 'the trials'}, repeats "
                    "included; clipped at the uniform guess, where diverged runs sit)")
        cols = st.columns(2)
        clipped = done.assign(**{metric: prepare.clipped(done[metric], ceiling)})
        for k, name in enumerate(searched):
            numbers = prepare.as_numbers(clipped[name])
            data = clipped.assign(**{name: numbers}) if numbers is not None else clipped.assign(
                **{name: clipped[name].astype(str)})
            log_x = numbers is not None and prepare.wants_log(numbers)
            render.chart((*key, "slice", name), lambda n=name, d=data, lx=log_x,
                         q=numbers is not None: charts.slice_chart(
                             d[["trial", "seed", n, metric, "status", "link"]], n, metric,
                             q, lx), cols[k % 2])
    if len(searched) >= 2:
        _heatmap(board, searched, metric, ceiling, ascending, key, spec.base)
    st.download_button("Download search results (CSV, one row per run)",
                       frame.to_csv(index=False), "search.csv", "text/csv", key="search_csv")


def _heatmap(board: pd.DataFrame, searched: list[str], metric: str,
             ceiling: float | None, ascending: bool, key: tuple, spec_base: Config) -> None:
    cols = st.columns(2)
    x = cols[0].selectbox("heatmap across", searched, index=0, key="search_hx")
    y = cols[1].selectbox("and", [n for n in searched if n != x], index=0, key="search_hy")
    cells = prepare.heatmap_cells(board, x, y, metric, ceiling, ascending)
    st.markdown(f"**Best {METRICS[metric]} per pair of values** (the best outlined in red; "
                "colours clipped at the uniform guess, so a diverged cell does not flatten "
                "the rest)")
    render.chart((*key, "heatmap", x, y), lambda: charts.search_heatmap_chart(
        cells, x, y, metric))
    if {x, y} == {"init_scale", "depth"} and metric == "val_loss" and ceiling is not None:
        edge_of_search(board, spec_base, ceiling, key)


"""The Streamlit page: sidebar -> Config -> the run (from where ``run_source.decide`` says)
-> the header and the open view.

The sidebar and the link are ``sidebar``; each view is a module of ``views`` (listed in
``views.VIEWS``); caches at the data boundary are ``cache``. Everything that is not layout,
widgets, caching or session state lives in the engine, data, charts and diagnosis modules.
Runs are kept per Config in the session's ``RunShelf`` (by key, read back from the store),
so a view control (tab, snapshot step, layer, unit) never retrains.
"""

from __future__ import annotations

import sqlite3
import time

import pandas as pd
import streamlit as st
from streamlit import config as streamlit_config
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..config import Config
from ..cost import describe_seconds, estimate_seconds
from ..identity import run_key
from ..jobs import Jobs
from ..run import Run
from ..run_source import Facts, decide
from ..store import STORED_STATUSES, shared_store
from ..training import continue_training, train
from .cache import chart_key
from .guard import draw_or_report, report_internal_error, show_callback_error
from .session import Session
from .shelf import RunShelf
from .sidebar import check_url_once, sidebar
from .text import notice
from .views import TABS, VIEWS, Page
from .views import header as header_view
from .views import sweep as sweep_view

AUTO_SECONDS = 4.0
"""Runs estimated to train within this many seconds here (``cost.estimate_seconds``) start
as soon as they are opened; a longer one waits for a click, whoever sent the link."""
PROGRESS_SECONDS, LIVE_CHART_SECONDS = 0.2, 1.0
"""Wall time between progress-bar and live-loss-chart updates: each one costs Streamlit
milliseconds (the chart tens of them), so updating on every report slowed training 3x."""


JOBS = Jobs()
"""The server's trainings: sessions that ask for the same run while it trains share one."""


def _live_trainer(config: Config, words: list[str] | None, base: Run | None = None) -> Run:
    """Train (or continue ``base`` to) ``config`` as a shared job and follow its progress;
    the finished run is in the store before anyone gets it."""
    bar = st.progress(0.0, text="Training...")
    slot = st.empty()
    shown = {"bar": 0.0, "chart": time.perf_counter()}
    store_errors: list[Exception] = []

    def work(on_progress, should_stop) -> Run:
        if base is not None:
            return continue_training(base, config.total_steps - base.config.total_steps,
                                     on_progress=on_progress, should_stop=should_stop)
        return train(config, on_progress=on_progress, should_stop=should_stop, words=words)

    def keep(run: Run) -> None:
        if run.status in STORED_STATUSES:
            try:
                shared_store().put(run)
            except (OSError, sqlite3.Error) as err:
                store_errors.append(err)

    def show(job) -> None:
        progress, now = job.progress, time.perf_counter()
        if progress is not None and now - shown["bar"] >= PROGRESS_SECONDS:
            shown["bar"] = now
            joined = "" if job.waiters.keys() == {waiter} else " (shared with another page)"
            bar.progress(min(progress.fraction, 1.0),
                         text=f"step {progress.step:,} / {progress.total:,}  loss "
                              f"{progress.loss:.4f}  ({progress.elapsed:.1f}s){joined}")
        if job.losses and now - shown["chart"] >= LIVE_CHART_SECONDS:
            shown["chart"] = now
            slot.line_chart(pd.DataFrame(list(job.losses), columns=["step", "loss"]),
                            x="step", y="loss", height=200)

    ctx = get_script_run_ctx()
    waiter = ctx.session_id if ctx is not None else "script"
    job = JOBS.start(run_key(config, words), waiter, work, on_done=keep)
    try:
        run = job.follow(waiter, on_update=show)
    finally:
        bar.empty()
        slot.empty()
    for err in store_errors:
        _store_trouble(err)
    return run


def _train_or_report(config: Config, words: list[str] | None,
                     base: Run | None = None) -> Run | None:
    """Train (or continue) with progress; None after an unexpected error, which is shown
    and logged instead of raised, so the page and the session's earlier runs stay usable.
    (Streamlit's own rerun and stop signals are BaseExceptions and pass through.)"""
    try:
        return _live_trainer(config, words, base)
    except Exception as err:
        report_internal_error("Training", err, "Earlier results are kept")
        return None


def get_run(config: Config, words: list[str] | None) -> Run | None:
    """The run for this Config, from where ``run_source.decide`` says; None while it waits
    for a click (the session's latest run is shown meanwhile, see ``_page``)."""
    session = Session()
    runs: RunShelf = session.runs
    key = run_key(config, words)
    refused = session.take("continue_refused")
    if refused:
        notice("warning", refused)
    action = session.take("action")
    needs_words = config.task == "words" and not words
    held = runs.get(key)
    stored = None if held is not None or needs_words else _from_store(config, words)
    known = held is not None or stored is not None
    base = None if known else _shorter_run(config, words, runs)
    seconds = 0.0 if known else estimate_seconds(config, words)
    decision = decide(Facts(
        action=action, needs_words=needs_words, in_session=held is not None,
        in_store=stored is not None, in_training=JOBS.is_running(run_key(config, words)),
        shorter=base is not None, seconds=seconds,
        continue_seconds=(seconds - estimate_seconds(base.config, words)
                          if base is not None else 0.0)), AUTO_SECONDS)
    source = decision.source
    if source == "need words":
        st.info("Upload a word list (one word per line) in the Data section to train on it.")
        return None
    if source == "wait":
        return _wait_for_click(config, words, runs, decision.seconds)
    if source == "store":
        runs[key] = held = stored
        numpy = f", NumPy {stored.numpy_version}" if stored.numpy_version else ""
        st.caption(f"Opened from the run store: trained earlier ({stored.elapsed:.1f} s of "
                   f"training{numpy}), not trained again.")
    elif source in ("follow", "train", "continue"):
        made = _train_or_report(config, words, base=base if source == "continue" else None)
        if made is None:
            return base or _latest(runs)
        runs[key] = held = made
    runs.move_to_end(key, held)
    return held


def _latest(runs: RunShelf) -> Run | None:
    """The session's newest run still to be had (shown while the current one waits)."""
    for key in reversed(list(runs)):
        run = runs.get(key)
        if run is not None:
            return run
    return None


def _from_store(config: Config, words: list[str] | None) -> Run | None:
    """The store's run of this Config, or None; a store that cannot be read is reported
    once and then trained around (the dashboard works without it)."""
    try:
        store = shared_store()
        known = len(store.problems)
        run = store.get(run_key(config, words))
    except (OSError, sqlite3.Error) as err:
        _store_trouble(err)
        return None
    for problem in store.problems[known:]:
        notice("warning", f"The run store skipped a damaged run, which is trained again: "
                          f"{problem}")
    return run


def _store_trouble(err: Exception) -> None:
    if not Session().store_warned:
        Session().store_warned = True
        notice("warning", f"The run store cannot be used ({type(err).__name__}: {err}); "
                          "runs are kept in this session only.")


def _wait_for_click(config: Config, words: list[str] | None, runs: RunShelf,
                    seconds: float) -> Run | None:
    """Say what pressing Train would cost; keep showing the session's latest run."""
    st.info(f"This run would take {describe_seconds(seconds)} to train here "
            f"({config.n_params():,} parameters, {config.total_steps:,} steps of "
            f"{config.batch:,} examples, {config.snapshot_count():,} snapshots): press "
            f"**Train** to start it. Opening a link trains only runs of up to "
            f"{AUTO_SECONDS:g} s by itself.")
    return _latest(runs)


def _shorter_run(config: Config, words: list[str] | None, runs: RunShelf) -> Run | None:
    """The session's longest run of ``config`` cut shorter (``until``, fewer ``more``):
    continuing it gives exactly ``config``'s run, without retraining what it trained."""
    key = run_key(config, words)
    shorter = [(entry.config.total_steps, shelf_key) for shelf_key, entry in runs.entries()
               if entry.config.total_steps < config.total_steps and entry.continues_exactly
               and entry.steps_done == entry.config.total_steps
               and run_key(entry.config.replace(more=config.more, until=config.until),
                           list(entry.words or [])) == key]
    return runs.get(max(shorter)[1]) if shorter else None


def main() -> None:
    # Controls take their setting's default and may also be set in code (see ``_widget``):
    # that is intended here, so Streamlit's warning about it would only alarm.
    if not streamlit_config.get_option("global.disableWidgetStateDuplicationWarning"):
        streamlit_config.set_option("global.disableWidgetStateDuplicationWarning", True)
    st.set_page_config(page_title="neurondash", layout="wide")
    show_callback_error()
    try:
        _page()
    except Exception as err:  # the last boundary: the views and callbacks have their own
        report_internal_error("The page", err, "Press Reset in the sidebar to start again")


def _page() -> None:
    check_url_once(TABS, sweep_view.check_link)
    config, messages, words = sidebar()
    # A bad value in the link is also what the widget still holds: say it once.
    for warning in dict.fromkeys((Session().url_warnings or []) + messages):
        notice("warning", warning)
    run = get_run(config, words)
    runs = Session().runs
    step = None
    if run is not None:
        if run.config != config:
            st.info("Showing the previous run; press Train for the current settings.")
        if run.status == "diverged":
            notice("error", run.message)
        elif run.status == "stopped":
            notice("warning", run.message)
        header = st.container()  # filled once the slider has said which step is shown
        steps = run.snapshot_steps
        if steps:
            if Session().snapshot_of != chart_key(run):
                # Another run (new settings, Continue, an import) opens on its last step.
                Session().snapshot_of = chart_key(run)
                st.session_state["snapshot"] = steps[-1]
            step = st.select_slider("snapshot step (drives every view)", steps,
                                    key="snapshot")
        else:
            st.info("No diagnostics were recorded for this run.")
        with header:
            draw_or_report("summary", lambda: header_view.metrics(run, step))
    # Lazy tabs: only the open one runs, so a rerun (a slider move, a click) draws one view
    # instead of all twelve; switching tabs reruns the script from the cached specs.
    # The open tab is part of the link ("view"), so a shared link opens on the same view.
    tabs = dict(zip(TABS, st.tabs(list(TABS), on_change="rerun", key="view",
                                  bind="query-params"), strict=True))
    page = Page(config, words, run, step, runs)
    shown = run is not None and step is not None
    for name, tab in tabs.items():
        view = VIEWS[name]
        if tab.open and (shown or not view.needs_run):
            with tab:
                draw_or_report(name, lambda view=view: view.draw(page))

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

import streamlit as st
from streamlit import config as streamlit_config

from .. import run_source
from ..charts.prepare import differing_settings
from ..config import Config
from ..cost import describe_seconds, estimate_seconds
from ..identity import run_key
from ..jobs import Job, Jobs
from ..run import Run
from ..run_source import Facts, decide
from ..store import shared_store, storable
from ..training import continue_training, continues_exactly, train
from . import live
from .guard import draw_or_report, report_internal_error, show_callback_error
from .history import keep_settings_in_history
from .link_check import check_url_once
from .session import Session
from .shelf import RunShelf
from .sidebar import apply_config, sidebar
from .snapshot_link import snapshot_slider
from .text import escape, notice
from .views import TABS, VIEWS, Page, search_running
from .views import header as header_view
from .views import sweep as sweep_view

JOBS = Jobs(page_open=live.page_open)
"""The server's trainings: sessions that ask for the same run while it trains share one."""


def _start(config: Config, words: list[str] | None, base: Run | None = None,
           uploaded: bool = False) -> Job:
    """Join the training of ``config`` under way, or start it (continuing ``base`` when
    given) as a shared job that this page follows; the finished run is in the store before
    anyone gets it. Continuing an ``uploaded`` file's run is this page's alone: a file can
    say anything, so its numbers never reach another page or the store."""

    def work(job: Job) -> Run:
        if base is not None:
            return continue_training(base, config.total_steps - base.config.total_steps,
                                     on_progress=job.report, should_stop=job.should_stop,
                                     on_snapshot=job.publish)
        return train(config, on_progress=job.report, should_stop=job.should_stop,
                     words=words, on_snapshot=job.publish)

    def keep(job: Job) -> None:
        if storable(job.result) and not uploaded:
            try:
                shared_store().put(job.result)
            except (OSError, sqlite3.Error) as err:
                job.problems.append(f"The run store cannot be used ({type(err).__name__}: "
                                    f"{err}); runs are kept in this session only.")

    job = JOBS.start(live.job_key(run_key(config, words), uploaded), live.waiter_id(), work,
                     on_done=keep)
    live.let_go(run_key(config, words))  # the training this page followed before
    Session().training = job
    return job


def _follow(config: Config, words: list[str] | None) -> Job | None:
    """Join the training of ``config`` that this page saw under way; None once it has
    ended (between the look and the join): starting it again would train the whole run
    from scratch, unasked."""
    job = JOBS.join(run_key(config, words), live.waiter_id())
    if job is None:
        return None
    live.let_go(run_key(config, words))
    Session().training = job
    return job


def _train_or_report(config: Config, words: list[str] | None, base: Run | None,
                     seconds: float, uploaded: bool, follow: bool = False) -> Run | None:
    """Start the training, or ``follow`` the one under way (``uploaded``: continuing an
    uploaded file's ``base``); wait for a short one in place, else leave it to the live
    view (None). None also after an unexpected error, which is shown and logged instead of
    raised, so the page and the session's earlier runs stay usable. (Streamlit's own rerun
    and stop signals are BaseExceptions and pass through.)"""
    try:
        job = _follow(config, words) if follow else _start(config, words, base, uploaded)
        if job is None:
            st.rerun()  # the page is drawn anew and takes the ended training's run
            return None
        if seconds > live.WAIT_SECONDS:
            return None
        live.wait_in_place(job)
        return live.take_finished()
    except Exception as err:
        report_internal_error("Training", err, "Earlier results are kept")
        return None


def get_run(config: Config, words: list[str] | None) -> Run | None:
    """The run for this Config, from where ``run_source.decide`` says; None while it waits
    for a click (the session's latest run is shown meanwhile, see ``_page``)."""
    session = Session()
    runs: RunShelf = session.runs
    key = run_key(config, words)
    if _took_finished(config, words, runs):
        st.rerun()  # a stopped run: the controls take its until first
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
                          if base is not None else 0.0)), run_source.AUTO_SECONDS)
    source = decision.source
    if source == "need words":
        rejected = session.take("word_list_rejected")
        if rejected:
            notice("error", f"The uploaded word list was rejected: {rejected}")
        st.info("Task 'words' trains on a word list of your own: upload one (a text file, "
                "one word per line) in the sidebar's Data section. A link to another "
                "visitor's word-list run does not bring their words (a word list stays with "
                "the visitor who uploaded it): with the same file, the link's settings give "
                "the same run.")
        return None
    if source == "wait":
        return _wait_for_click(config, words, runs, decision.seconds, base)
    if source == "store":
        runs[key] = held = stored
        numpy = f", NumPy {stored.numpy_version}" if stored.numpy_version else ""
        took = f"{stored.elapsed:.1f} s" if stored.elapsed >= 0.05 else "under 0.1 s"
        st.caption(f"Opened from the run store: trained earlier ({took} of training"
                   f"{numpy}), not trained again.")
    elif source in ("follow", "train", "continue"):
        if source == "follow" and action == "train":
            # Pressed while this run trains (here or for another page): said, not done twice.
            st.toast("This run is training already: the page follows it, and "
                     "Train starts nothing more.")
        # A followed training is drawn live like one started here: its whole length says.
        continued = base if source == "continue" else None
        uploaded = continued is not None and runs.uploaded(continued)
        made = _train_or_report(config, words, continued,
                                seconds if source == "follow" else decision.seconds, uploaded,
                                follow=source == "follow")
        if made is None:
            return base or _latest(runs)
        _shelve(runs, made, words, uploaded)
        held = made
        if made.config != config:
            Session().adopt = made.config  # stopped while this page waited
            st.rerun()
    runs.move_to_end(key, held)
    return held


def _took_finished(config: Config, words: list[str] | None, runs: RunShelf) -> bool:
    """Shelve the run of the training this page followed live, once it ended; whether the
    controls must take its Config first (a stopped run of these settings: ``until``)."""
    uploaded = live.private_training()
    try:
        made = live.take_finished()
    except Exception as err:
        report_internal_error("Training", err, "Earlier results are kept")
        return False
    if made is None:
        return False
    _shelve(runs, made, words, uploaded)
    mine = run_key(made.config.replace(until=config.until, more=config.more), words)
    if made.config != config and mine == run_key(config, words):
        Session().adopt = made.config
        return True
    return False


def _in_store(key: str) -> bool:
    """Whether the store holds ``key`` (False when it cannot be read: nothing is promised)."""
    try:
        return key in shared_store()
    except (OSError, sqlite3.Error):
        return False


def _shelve(runs: RunShelf, made: Run, words: list[str] | None, uploaded: bool) -> None:
    """Shelve a finished training's run: held in memory alone when it continued an uploaded
    file's run (never handed to the store, whose key it would claim)."""
    key = run_key(made.config, words)
    if uploaded:
        runs.hold(key, made)
    else:
        runs[key] = made


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
                    seconds: float, base: Run | None = None) -> Run | None:
    """Say what pressing Train would cost (continuing ``base``, a shorter run of it);
    keep showing the session's latest run (said here, so the page needs no second notice
    for it)."""
    latest = _latest(runs)
    Session().previous_said = latest is not None
    work = (f"Its first {base.steps_done:,} steps were kept earlier: training on from "
            f"there, to the numbers of one uninterrupted run, would take "
            f"{describe_seconds(seconds)} here" if base else
            f"This run would take {describe_seconds(seconds)} to train here")
    st.info(f"{work} ({config.n_params():,} parameters, {config.total_steps:,} steps of "
            f"{config.batch:,} examples, {config.snapshot_count():,} snapshots): press "
            f"**Train** to start it. Opening a link trains only runs of up to "
            f"{run_source.AUTO_SECONDS:g} s by itself."
            + (f" Until then the page shows the previous run{_differences(latest, config)}."
               if latest is not None else ""))
    return latest


def _differences(shown: Run, config: Config) -> str:
    """How the run shown differs from ``config`` (" (act=tanh, not relu)"): a walker read
    the previous run's numbers as those of the settings just chosen."""
    table = differing_settings({"shown": shown.config, "chosen": config}).drop(
        columns="until", errors="ignore")
    said = [f"{name}={table.at['shown', name]}, not {table.at['chosen', name]}"
            for name in table.columns[:3]]
    more = f" and {len(table.columns) - 3} more" if len(table.columns) > 3 else ""
    return f" ({escape('; '.join(said))}{more})" if said else ""


def _shorter_run(config: Config, words: list[str] | None, runs: RunShelf) -> Run | None:
    """The session's longest run of ``config`` cut shorter (``until``, fewer ``more``):
    continuing it gives exactly ``config``'s run, without retraining what it trained."""
    key = run_key(config, words)
    shorter = [(entry.config.total_steps, shelf_key) for shelf_key, entry in runs.entries()
               if entry.config.total_steps < config.total_steps and entry.continues_exactly
               and entry.steps_done == entry.config.total_steps
               and run_key(entry.config.replace(more=config.more, until=config.until),
                           list(entry.words or [])) == key]
    if shorter:
        return runs.get(max(shorter)[1])
    try:
        cut = shared_store().longest_cut(config, words)
        stored = shared_store().get(cut) if cut is not None else None
    except (OSError, sqlite3.Error):
        return None
    return stored if stored is not None and continues_exactly(stored) else None


def main() -> None:
    # Controls take their setting's default and may also be set in code (see ``_widget``):
    # that is intended here, so Streamlit's warning about it would only alarm.
    if not streamlit_config.get_option("global.disableWidgetStateDuplicationWarning"):
        streamlit_config.set_option("global.disableWidgetStateDuplicationWarning", True)
    st.set_page_config(page_title="neurondash", layout="wide")
    show_callback_error()
    keep_settings_in_history()
    try:
        _page()
        search_running.say_cut_search()
    except Exception as err:  # the last boundary: the views and callbacks have their own
        report_internal_error("The page", err, "Press Reset in the sidebar to start again")


def _page() -> None:
    check_url_once(TABS, sweep_view.check_link)
    search_running.wind_down_mine()
    adopt = Session().take("adopt")
    if adopt is not None:
        apply_config(adopt)
    config, messages, words = sidebar()
    # A bad value in the link is also what the widget still holds: say it once.
    typed = Session().take("typed_refused")
    for warning in dict.fromkeys((Session().url_warnings or []) + messages
                                 + ([typed] if typed else [])):
        notice("warning", warning)
    live.let_go(run_key(config, words))
    run = get_run(config, words)
    runs = Session().runs
    job = live.following(run_key(config, words))
    if job is not None:
        live.live_page(job, lambda shown, step: _views(
            Page(config, words, shown, step, runs), header=True, live=True))
        return
    step = None
    if run is not None:
        if run.config != config and live.just_ended(run_key(config, words)):
            st.rerun()  # its training ended while this page ran: take its run, not the last
        same = run_key(run.config.replace(until=0), run.words) == run_key(
            config.replace(until=0), words)
        if run.config != config and not same and not Session().take("previous_said"):
            st.info("Showing the previous run; press Train for the current settings.")
        if run.status == "diverged":
            notice("error", run.message)
        elif run.status == "stopped" or run.config.until:
            whole = run.config.replace(until=0)
            if run.status == "stopped":
                # A walker could not tell whether the stopped run was kept (said of this
                # page's settings' run only: Continue would train another one's).
                notice("warning", run.message + (
                    f" What it trained is kept: the views show its {run.steps_done:,} "
                    f"steps, the link (until={run.config.until}) reproduces them, and "
                    "Continue trains on to the numbers of one uninterrupted run."
                    if same else ""))
                if Session().take("stopped_elsewhere"):
                    notice("info", "The page that started this training stopped it; this "
                                   "page followed it, so it shows the same stopped run.")
            else:
                notice("info", f"This run trained {run.steps_done:,} of its "
                       f"{whole.total_steps:,} steps (until {run.config.until:,}, as a "
                       "search's shorter rung does): its numbers are the first steps of the "
                       "whole run's.")
            if same:
                live.resume_button(run, lambda: JOBS.is_running(run_key(whole, run.words)),
                                   lambda: _in_store(run_key(whole, run.words)))
        header = st.container()  # filled once the slider has said which step is shown
        steps = run.snapshot_steps
        if steps:
            step = snapshot_slider(run)
        else:
            st.info("No diagnostics were recorded for this run.")
        with header:
            draw_or_report("summary", lambda: header_view.metrics(run, step))
    _views(Page(config, words, run, step, runs))


def _views(page: Page, header: bool = False, live: bool = False) -> None:
    """The header (when asked) and the tabs, drawing the open one. While a run trains
    (``live``) the views that need no run wait for its end: the page redraws every second."""
    if header:
        draw_or_report("summary", lambda: header_view.metrics(page.run, page.step))
    # Lazy tabs: only the open one runs, so a rerun (a slider move, a click) draws one view
    # instead of all twelve; switching tabs reruns the script from the cached specs.
    # The open tab is part of the link ("view"), so a shared link opens on the same view.
    tabs = dict(zip(TABS, st.tabs(list(TABS), on_change="rerun", key="view",
                                  bind="query-params"), strict=True))
    shown = page.run is not None and page.step is not None
    for name, tab in tabs.items():
        view = VIEWS[name]
        if name == "Sweep" and not tab.open:  # its version means nothing to another view
            st.query_params.pop(sweep_view.VERSION, None)
        if tab.open and not shown and view.needs_run and page.run is None:
            # A long link's run waits for Train: an empty tab read as a broken page.
            free = ", ".join(other for other, v in VIEWS.items() if not v.needs_run)
            tab.caption(f"{name} draws the run of these settings, which has not been trained "
                        f"yet (see above). These tabs work without it: {free}.")
        if tab.open and (shown or not view.needs_run):
            with tab:
                if live and not view.needs_run:
                    st.info(f"{name} opens when the training ends (or is stopped).")
                elif view.trains and page.config.task == "words" and not page.words:
                    st.info(f"The {name} view trains on your word list: upload one in "
                            "the sidebar's Data section first.")
                else:
                    draw_or_report(name, lambda view=view: view.draw(page))

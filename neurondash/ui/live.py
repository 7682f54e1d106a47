"""Trainings as the page sees them (the server's shared jobs, started by ``app``): waited for
in place when short, and otherwise drawn live while they run.

A live page does not block: the script returns at once and a fragment redraws the progress,
the Stop button, the header and the open tab from the job's latest snapshot every second,
or less often where drawing costs more (``Cadence``; only the fragment reruns). Every page
that follows the job (a second tab, a shared link) draws the same snapshots. When the job
ends, the fragment reruns the whole page, which takes the job's run (``take_finished``).
Since no script waits on the training, Streamlit's own Stop or a closed tab leaves nothing
hanging: the next interaction draws the page anew, and a training nobody follows any more
stops and keeps its run (``jobs``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import charts
from ..charts import prepare
from ..cost import describe_seconds
from ..identity import run_key
from ..jobs import Job
from ..run import Run
from . import render
from .guard import callback
from .session import Session
from .text import notice

WAIT_SECONDS = 1.5
"""Trainings estimated to take at most this long are waited for in place (a progress bar,
then the run); longer ones are drawn live."""
LIVE_SECONDS = 1.0
"""How often a live page redraws, at most."""
DRAW_SHARE = 0.1
"""The share of the time a live page may spend drawing: the training runs
in the same process, and Python runs one thread at a time, so every second spent drawing
is taken from the training."""
FIRST_SNAPSHOT_SECONDS = LIVE_SECONDS
"""How long the page that starts (or joins) a training waits for its first snapshot before
drawing: the step-0 one comes within milliseconds of the start, and without the wait the
views appeared only at the fragment's next redraw, a second later."""
PROGRESS_SECONDS = 0.2
"""Wall time between progress-bar updates while waiting in place (each costs Streamlit
milliseconds; updating on every report slowed training 3x)."""


def waiter_id() -> str:
    """Who follows a job: this browser session."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "script"


def page_open(waiter: str) -> bool:
    """Whether ``waiter``'s browser session is still connected (a hidden tab is; a closed
    one is not): safe from the training's thread."""
    return Runtime.exists() and Runtime.instance().is_active_session(waiter)


LEAVE_SECONDS = 5.0
"""How long a page that moved on waits for the training it stopped to end (a step and the
final evaluation), so that it shows the stopped run rather than an empty page."""


def let_go(key: str) -> None:
    """This page shows run ``key`` now: a training it followed for other settings stops,
    said and kept as a stopped run, unless another page still follows it (then it goes on
    for that page)."""
    job: Job | None = Session().training
    me = waiter_id()
    if job is None or job.done.is_set() or _of(job, key) or not job.let_go(me):
        return
    progress = job.progress
    at = f" at step {progress.step:,} of {progress.total:,}" if progress else ""
    if job.followed_by_others(me):
        notice("info", f"The training of the previous settings{at} goes on for the other "
                       "page that follows it.")
        return
    job.stop_requested.set()
    if job.done.wait(LEAVE_SECONDS) and isinstance(job.result, Run):
        whole = job.result.config.replace(until=0).total_steps
        at = f" at step {job.result.steps_done:,} of {whole:,}"
    notice("info", f"The settings changed, so the training of the previous ones stopped{at}:"
                   " its run is kept (Runs tab), and going back to those settings offers "
                   "Continue, which trains on exactly.")


def wait_in_place(job: Job) -> Run | None:
    """Follow a short training with a progress bar; its run (None when the script was
    asked to stop waiting: the job is left to the live view)."""
    bar = st.progress(0.0, text="Training...")
    shown = {"bar": 0.0}

    def show(job: Job) -> None:
        now = time.perf_counter()
        if job.progress is not None and now - shown["bar"] >= PROGRESS_SECONDS:
            shown["bar"] = now
            bar.progress(min(job.progress.fraction, 1.0), text=progress_text(job))

    try:
        return job.follow(waiter_id(), on_update=show)
    finally:
        bar.empty()


def take_finished() -> Run | None:
    """The run of the training this page followed, once it has ended (told once): raises
    the training's own error."""
    job: Job | None = Session().training
    if job is None or not job.done.is_set():
        return None
    del Session().training
    del Session().live_cadence
    for problem in job.problems:
        if not Session().store_warned:
            Session().store_warned = True
            notice("warning", problem)
    if job.error is not None:
        raise job.error
    if job.stopped_by and job.stopped_by != waiter_id():
        Session().stopped_elsewhere = True  # said under the stopped run (after a rerun)
    return job.result


PRIVATE = "#upload:"
"""Marks the training of a run continued from an uploaded file: keyed apart from the run's
own key, so no other page joins it, and its run is never stored (``ui.app._start``)."""


def job_key(key: str, private: bool) -> str:
    """The training's key: the run's own, or a key of this page's alone."""
    return f"{key}{PRIVATE}{waiter_id()}" if private else key


def _of(job: Job, key: str) -> bool:
    return job.key.partition(PRIVATE)[0] == key


def private_training() -> bool:
    """Whether the training this page follows continues an uploaded file's run."""
    job: Job | None = Session().training
    return job is not None and PRIVATE in job.key


def just_ended(key: str) -> bool:
    """Whether the training of run ``key`` that this page follows has ended with a run
    not taken yet (it ended after this run of the page looked; a failed one was said)."""
    job: Job | None = Session().training
    return (job is not None and _of(job, key) and job.done.is_set() and job.error is None
            and job.result is not None)


def following(key: str) -> Job | None:
    """The training of run ``key`` that this page follows, while it runs."""
    job: Job | None = Session().training
    return job if job is not None and _of(job, key) and not job.done.is_set() else None


@callback("Continue")
def _resume() -> None:
    """Continue a stopped run to the end of its schedule: the controls drop ``until`` and
    the page continues the stopped run (``get_run``), which gives the uninterrupted run."""
    st.session_state["until"] = 0
    Session().action = "continue"


RESUME_POLL_SECONDS = 2.0
"""How often a stopped run's page looks whether another page is continuing it."""


def resume_button(run: Run, continuing: Callable[[], bool],
                  finished: Callable[[], bool]) -> None:
    """Under a stopped run's notice: continue it to the end of its schedule, or, once
    another page is ``continuing()`` it (looked at every few seconds), follow that
    training: the same key, so the click joins it instead of training again; once the
    whole run is ``finished()`` in the store, say that the click opens it."""
    total = run.config.replace(until=0).total_steps

    @st.fragment(run_every=RESUME_POLL_SECONDS)
    def offer() -> None:
        joined = continuing()
        if joined:
            st.info(f"Another page is continuing this run to step {total:,}.")
        elif finished():
            st.info(f"The whole run, to step {total:,}, is in the run store (another page "
                    "or an earlier visit trained it): Continue opens it, nothing is "
                    "trained again.")
        # The callback sets the controls before the rerun; the whole page then reruns.
        if st.button(f"{'Follow it' if joined else 'Continue'} to step {total:,}",
                     key="resume", on_click=_resume,
                     help="Train on from where it stopped: the numbers are those of one "
                          "uninterrupted run."):
            st.rerun(scope="app")

    offer()


def progress_text(job: Job) -> str:
    """Step, loss, speed and time left, and whether other pages share the training."""
    progress = job.progress
    if progress is None:
        return "Starting..."
    rate = job.rate()
    speed = (f"  {rate:,.0f} steps/s, {describe_seconds((progress.total - progress.step) / rate)}"
             " left" if rate else "")
    me = waiter_id()
    shared = any(waiter != me and page_open(waiter) for waiter in list(job.waiters))
    return (f"step {progress.step:,} / {progress.total:,}  batch loss {progress.loss:.4f}"
            f"{speed}"
            + ("  (shared with another page)" if shared else ""))


def live_run(job: Job) -> Run | None:
    """The run as it stood at the job's latest snapshot (None before the first)."""
    return job.live() if job.live is not None else None


@dataclass(frozen=True)
class Cadence:
    """How often a live page of ``job`` redraws, and what its last redraw cost (None
    before one was measured)."""

    job: Job
    seconds: float = LIVE_SECONDS
    cost: float | None = None


def cadence(job: Job) -> Cadence:
    """This page's cadence for ``job``: once a second until a redraw was measured."""
    held: Cadence | None = Session().live_cadence
    return held if held is not None and held.job is job else Cadence(job)


def next_period(current: float, cost: float, previous: float | None) -> float | None:
    """The redraw period that keeps drawing within ``DRAW_SHARE`` of the time, in half
    seconds and at least ``LIVE_SECONDS``, when it differs enough from ``current`` to be
    worth a change (None otherwise). Judged on the cheaper of the last two redraws, so a
    one-off cost (the first draw of a tab builds its chart templates) changes nothing."""
    if previous is None:
        return None
    wanted = max(LIVE_SECONDS, math.ceil(2 * min(cost, previous) / DRAW_SHARE) / 2)
    return wanted if wanted > 1.25 * current or wanted < current / 2 else None


STOP_WAIT_SECONDS = 3.0
"""How long a Stop click waits for the training to end (its next step where resuming is
exact, then the run built and stored: a fraction of a second), so that the rerun the click
makes draws the stopped run; the stop landed on screen a redraw later, 1.3-2.8 s after the
click."""


def _request_stop(job: Job) -> None:
    job.stopped_by = waiter_id()
    job.stop_requested.set()
    job.done.wait(STOP_WAIT_SECONDS)


def keep_watching(job: Job) -> None:
    """Every ``LIVE_SECONDS``, however seldom a costly page redraws (at ten times a
    redraw's cost, a 3-s redraw on a loaded server is a 30-s cadence): check in, so that
    a slow cadence is not taken for a closed page (after ``jobs.GRACE_SECONDS`` that
    stops the training), and show the end (or a Stop) within a second."""
    job.check_in(waiter_id())
    if job.done.is_set():
        st.rerun(scope="app")


def live_loss_chart(run: Run):
    """The loss so far, over the whole run's steps, on the log scale the finished run's
    chart would take (a ReLU net with BatchNorm at init_scale 3 has a step-0 validation
    loss of ~195, which flattened the live curves)."""
    return charts.loss_chart(prepare.loss_curves(run), prepare.loss_references(run),
                             height=220, steps=run.config.total_steps,
                             log_scale=prepare.loss_explodes(run))


def live_loss(run: Run) -> None:
    """``live_loss_chart``, built once and then redrawn with each second's data swapped
    in (building it took ~20 ms of every live redraw, time the training shares)."""
    key = run_key(run.config, list(run.words or []))
    log_scale = prepare.loss_explodes(run)
    curves = prepare.loss_curves(run)
    frames = charts.loss_frames(curves, prepare.loss_references(run), log_scale)
    dots = frames[0]["step"].nunique() <= 30  # the chart's own rule: part of its spec
    render.chart(("live loss", key, run.steps_done, len(run.history)),
                 lambda: live_loss_chart(run), template=("live loss", key, log_scale, dots),
                 data=lambda: frames)


def live_page(job: Job, draw: Callable[[Run, int], None]) -> None:
    """The page while ``job`` trains, redrawn without rerunning the script: progress,
    Stop, the loss and ``draw(run, step)`` of the latest snapshot, every second or, where
    drawing costs more than ``DRAW_SHARE`` of that, less often (``next_period``)."""
    period = cadence(job).seconds
    _first_snapshot(job)

    @st.fragment(run_every=LIVE_SECONDS)
    def ended() -> None:
        keep_watching(job)

    @st.fragment(run_every=period)
    def live() -> None:
        job.check_in(waiter_id())
        if job.done.is_set():
            st.rerun(scope="app")
        # Stop at the left: a chart's toolbar (shown at its top right while the pointer is
        # over it) covered a Stop button at the right.
        stop_column, bar_column = st.columns([1, 5], vertical_alignment="center")
        progress = job.progress
        bar_column.progress(min(progress.fraction, 1.0) if progress else 0.0,
                            text=progress_text(job))
        _stop_button(job, stop_column)
        start = time.perf_counter()  # building the snapshot's Run is drawing cost too
        run = live_run(job)
        if run is None:
            return
        live_loss(run)
        step = run.snapshot_steps[-1]
        st.caption(f"Live: the views below draw the snapshot at step {step:,} and move to "
                   f"the newest one every {period:g} s or so (drawing takes at most a "
                   "tenth of the time, so that training keeps its speed); the snapshot "
                   "slider returns when training ends.")
        draw(run, step)
        _measured(job, period, time.perf_counter() - start)

    ended()
    live()


def _first_snapshot(job: Job) -> None:
    """Wait (at most ``FIRST_SNAPSHOT_SECONDS``) until ``job`` has a snapshot to draw."""
    deadline = time.monotonic() + FIRST_SNAPSHOT_SECONDS
    while job.live is None and time.monotonic() < deadline:
        if job.done.wait(0.01):
            return


def _stop_button(job: Job, column) -> None:
    """Stop, for the page that started the training, or for a page that follows it once
    that page has closed (nobody could stop it otherwise)."""
    me = waiter_id()
    if job.owner != me and page_open(job.owner):
        column.caption("Started by another page: only that page can stop it.")
        return
    stopping = job.stop_requested.is_set()
    # Not "Stop": Streamlit's own Stop (of a script run) shows beside it while a fragment
    # draws.
    column.button("Stopping..." if stopping else "Stop training", key="stop_training",
                  disabled=stopping, on_click=_request_stop, args=(job,),
                  help="Stop at the next step where the run can be continued exactly; what "
                       "was trained is kept (the run of its first steps)." + (
                           "" if job.owner == me else " The page that started it has "
                                                      "closed."))


def _measured(job: Job, period: float, cost: float) -> None:
    """Keep what this redraw cost; when the cadence should change, rerun the page, which
    sets the fragment's new period."""
    held = cadence(job)
    Session().live_cadence = Cadence(job, period, cost)
    changed = next_period(period, cost, held.cost)
    if changed is not None:
        Session().live_cadence = Cadence(job, changed, cost)
        st.rerun(scope="app")

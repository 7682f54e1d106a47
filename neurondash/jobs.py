"""Trainings shared by every session of a server: one training per run key at a time.

Two sessions that ask for the same run while it trains share one training: the second
follows the first one's progress and gets the same Run. A training runs in a thread of its
own and lasts as long as somebody waits for it: each waiter checks in while it waits
(``Job.follow``, or a live view's every refresh), and when nobody has checked in for
``grace`` seconds (every page that waited was closed or moved on) the training is stopped;
so is one whose Stop was pressed. A page that reruns while waiting (a click on a tab)
checks in again within that time and keeps the same training going. A page that is still
open (``page_open``) keeps it going however seldom it checks in: a browser runs a tab
hidden for minutes about once a minute, yet its reader comes back to the training; a page
that moves on to other settings says so (``let_go``) and counts by its check-ins alone.
While it trains, the job holds its latest snapshot (``live``) for every page that follows
it to draw.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .engine.train import Progress

log = logging.getLogger(__name__)

GRACE_SECONDS = 3.0
"""How long a training goes on with nobody waiting for it (a rerun checks in again well
within this; a closed page never does)."""

Work = Callable[["Job"], object]
"""What a job runs: work(job) -> its result (a Run), reporting through ``job.report``,
``job.publish`` and asking ``job.should_stop``."""


@dataclass
class Job:
    """One training: its progress so far, its waiters, and in the end its result."""

    key: str
    grace: float = GRACE_SECONDS
    owner: str = ""
    """The waiter that started the training: the only page that may stop it (a follower
    is somebody else, and a shared server's visitors are strangers)."""
    progress: Progress | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    """(step, loss) at every progress report: the live loss chart."""
    first_report: tuple[int, float] | None = None
    """(step, time.monotonic()) of the first progress report: where the rate counts from."""
    problems: list[str] = field(default_factory=list)
    """What went wrong besides the training (the store could not keep the run): every page
    that follows the job is told."""
    live: Callable[[], object] | None = None
    """Builds the run as it stood at its latest snapshot (``training.Snapshots``)."""
    started: float = field(default_factory=time.monotonic)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    stopped_by: str = ""
    """The waiter whose Stop was pressed (told to the pages that only followed)."""
    result: object = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    waiters: dict[str, float] = field(default_factory=dict)
    """Waiter id -> when it last checked in (time.monotonic)."""
    page_open: Callable[[str], bool] = field(default=lambda waiter: False)
    """Whether a waiter's page is still open (its browser connected), however seldom it
    checks in."""
    released: set[str] = field(default_factory=set)
    """Waiters whose page moved on to other settings: an open page no longer keeps the
    training going, only check-ins do."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_in(self, waiter: str) -> None:
        with self._lock:
            self.waiters[waiter] = time.monotonic()
            self.released.discard(waiter)

    def let_go(self, waiter: str) -> bool:
        """``waiter``'s page shows other settings now: its being open keeps nothing going.
        Whether it followed the training until now (False when it had already let go)."""
        with self._lock:
            if waiter not in self.waiters or waiter in self.released:
                return False
            self.released.add(waiter)
            return True

    def followed_by_others(self, waiter: str) -> bool:
        """Whether a page besides ``waiter``'s still follows the training."""
        now = time.monotonic()
        with self._lock:
            others = {w: seen for w, seen in self.waiters.items()
                      if w != waiter and w not in self.released}
        return any(now - seen <= self.grace or self.page_open(w) for w, seen in others.items())

    def abandoned(self) -> bool:
        """True once nobody has checked in for ``grace`` seconds and no page that still
        follows the training is open."""
        now = time.monotonic()
        with self._lock:
            waiters, released = dict(self.waiters), set(self.released)
        if now - max(waiters.values(), default=now) <= self.grace:
            return False
        return not any(self.page_open(waiter) for waiter in waiters if waiter not in released)

    def report(self, progress: Progress) -> None:
        if self.first_report is None:
            self.first_report = (progress.step, time.monotonic())
        self.progress = progress
        self.losses.append((progress.step, progress.loss))

    def publish(self, live: Callable[[], object]) -> None:
        """Keep how to build the run at the latest snapshot: built once, at the first page
        that asks, for every page that follows."""
        self.live = functools.cache(live)

    def should_stop(self) -> bool:
        """Stop when asked to, or when nobody waits any more."""
        return self.stop_requested.is_set() or self.abandoned()

    def rate(self) -> float | None:
        """Steps per second since the first report (None until there are two)."""
        progress, first = self.progress, self.first_report
        if progress is None or first is None or progress.step <= first[0]:
            return None
        return (progress.step - first[0]) / max(time.monotonic() - first[1], 1e-9)

    def follow(self, waiter: str, on_update: Callable[[Job], None] | None = None,
               poll: float = 0.1):
        """Wait for the result, checking in every ``poll`` seconds and calling
        ``on_update`` (which may raise to stop waiting: the training then ends unless
        somebody else waits). Raises the training's own error, if it had one."""
        while True:
            self.check_in(waiter)
            if self.done.wait(poll):
                break
            if on_update is not None:
                on_update(self)
        if self.error is not None:
            raise self.error
        return self.result


class Jobs:
    """The server's running trainings by key (one object per process)."""

    def __init__(self, grace: float = GRACE_SECONDS,
                 page_open: Callable[[str], bool] = lambda waiter: False):
        self.grace = grace
        self.page_open = page_open
        self._running: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, key: str, waiter: str, work: Work,
              on_done: Callable[[Job], None] | None = None) -> Job:
        """The running job of ``key``, joined by ``waiter``, or a new one that runs ``work``
        in a thread. ``on_done(job)`` runs in that thread before anyone is handed the
        result (the store write: whoever asks next finds the run there)."""
        with self._lock:
            joined = self._joined(key, waiter)
            if joined is not None:
                return joined
            job = Job(key, self.grace, owner=waiter, page_open=self.page_open)
            job.check_in(waiter)
            self._running[key] = job
        log.info("training %s started", key)
        thread = threading.Thread(target=self._run, args=(job, work, on_done),
                                  name=f"training {key[:12]}", daemon=True)
        thread.start()
        return job

    def join(self, key: str, waiter: str) -> Job | None:
        """The running job of ``key``, joined by ``waiter``; None once it has ended (a page
        that saw it running and follows it must not start it again from scratch)."""
        with self._lock:
            return self._joined(key, waiter)

    def _joined(self, key: str, waiter: str) -> Job | None:
        job = self._running.get(key)
        if job is None or job.done.is_set():
            return None
        job.check_in(waiter)
        return job

    def is_running(self, key: str) -> bool:
        with self._lock:
            job = self._running.get(key)
            return job is not None and not job.done.is_set()

    def running(self) -> list[Job]:
        with self._lock:
            return [job for job in self._running.values() if not job.done.is_set()]

    def _run(self, job: Job, work: Work, on_done: Callable[[Job], None] | None) -> None:
        try:
            job.result = work(job)
            if on_done is not None:
                on_done(job)
        except BaseException as err:  # noqa: BLE001 - handed to every waiter
            job.error = err
        finally:
            job.done.set()
            with self._lock:
                if self._running.get(job.key) is job:
                    del self._running[job.key]

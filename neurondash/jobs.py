"""Trainings shared by every session of a server: one training per run key at a time.

Two sessions that ask for the same run while it trains share one training: the second
follows the first one's progress and gets the same Run. A training runs in a thread of its
own and lasts as long as somebody waits for it: each waiter checks in while it waits
(``Job.follow``), and when nobody has checked in for ``grace`` seconds (every page that
waited was closed or moved on) the training is stopped. A page that reruns while waiting
(a click on a tab) checks in again within that time and keeps the same training going.
"""

from __future__ import annotations

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

Work = Callable[[Callable[[Progress], None], Callable[[], bool]], object]
"""What a job runs: work(on_progress, should_stop) -> its result (a Run)."""


@dataclass
class Job:
    """One training: its progress so far, its waiters, and in the end its result."""

    key: str
    grace: float = GRACE_SECONDS
    progress: Progress | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    """(step, loss) at every progress report: the live loss chart."""
    result: object = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    waiters: dict[str, float] = field(default_factory=dict)
    """Waiter id -> when it last checked in (time.monotonic)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_in(self, waiter: str) -> None:
        with self._lock:
            self.waiters[waiter] = time.monotonic()

    def abandoned(self) -> bool:
        """True once nobody has checked in for ``grace`` seconds."""
        with self._lock:
            latest = max(self.waiters.values(), default=time.monotonic())
        return time.monotonic() - latest > self.grace

    def report(self, progress: Progress) -> None:
        self.progress = progress
        self.losses.append((progress.step, progress.loss))

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

    def __init__(self, grace: float = GRACE_SECONDS):
        self.grace = grace
        self._running: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, key: str, waiter: str, work: Work,
              on_done: Callable[[object], None] | None = None) -> Job:
        """The running job of ``key``, joined by ``waiter``, or a new one that runs ``work``
        in a thread. ``on_done(result)`` runs in that thread before anyone is handed the
        result (the store write: whoever asks next finds the run there)."""
        with self._lock:
            job = self._running.get(key)
            if job is not None and not job.done.is_set():
                job.check_in(waiter)
                return job
            job = Job(key, self.grace)
            job.check_in(waiter)
            self._running[key] = job
        log.info("training %s started", key)
        thread = threading.Thread(target=self._run, args=(job, work, on_done),
                                  name=f"training {key[:12]}", daemon=True)
        thread.start()
        return job

    def is_running(self, key: str) -> bool:
        with self._lock:
            job = self._running.get(key)
            return job is not None and not job.done.is_set()

    def running(self) -> list[Job]:
        with self._lock:
            return [job for job in self._running.values() if not job.done.is_set()]

    def _run(self, job: Job, work: Work, on_done: Callable[[object], None] | None) -> None:
        try:
            job.result = work(job.report, job.abandoned)
            if on_done is not None:
                on_done(job.result)
        except BaseException as err:  # noqa: BLE001 - handed to every waiter
            job.error = err
        finally:
            job.done.set()
            with self._lock:
                if self._running.get(job.key) is job:
                    del self._running[job.key]

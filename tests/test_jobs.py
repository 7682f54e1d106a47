"""Shared trainings: one training per key however many wait, progress for all of them, and
a training that stops once nobody waits."""

from __future__ import annotations

import threading
import time

import pytest

from neurondash import Config, train
from neurondash.jobs import Jobs

CONFIG = Config(depth=1, width="8", steps=3000)


def slow_work(calls: list, steps: int = 3000, pause: float = 0.0):
    """A real training that counts its calls (and may slow each progress report)."""
    def work(job):
        calls.append(1)

        def report(progress):
            job.report(progress)
            time.sleep(pause)
        return train(CONFIG.replace(steps=steps), on_progress=report,
                     should_stop=job.should_stop)
    return work


def test_two_waiters_of_one_key_share_one_training_and_its_run():
    jobs, calls, results = Jobs(), [], {}
    first = jobs.start("k", "a", slow_work(calls, pause=0.002))
    seen = []

    def wait(name: str) -> None:
        job = jobs.start("k", name, slow_work(calls))
        results[name] = job.follow(name, on_update=lambda j: seen.append(j.progress))

    threads = [threading.Thread(target=wait, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(calls) == 1 and first.done.is_set()
    assert first.owner == "a", "who joins does not become who may stop it"
    assert results["a"] is results["b"] and results["a"].status == "finished"
    assert results["a"].steps_done == 3000
    assert [p for p in seen if p is not None], "followers saw the progress"
    assert first.losses and first.losses[-1][0] == 3000


def test_a_training_nobody_waits_for_stops_and_the_next_request_trains_anew():
    jobs, calls = Jobs(grace=0.2), []
    job = jobs.start("k", "a", slow_work(calls, steps=200_000, pause=0.01))
    assert not job.done.wait(0.05)
    assert job.done.wait(30), "the abandoned training did not stop"
    assert job.result.status == "stopped" and job.result.steps_done < 200_000
    again = jobs.start("k", "b", slow_work(calls, steps=50))
    assert again is not job and again.follow("b").status == "finished"
    assert len(calls) == 2 and not jobs.running()


def test_an_open_page_keeps_its_training_however_seldom_it_checks_in_until_it_moves_on():
    """A hidden tab checks in about once a minute, yet its reader comes back: while the
    page is open the training goes on; once it shows other settings, or is closed, the
    grace counts again."""
    open_pages = {"a"}
    jobs, calls = Jobs(grace=0.2, page_open=open_pages.__contains__), []
    job = jobs.start("k", "a", slow_work(calls, steps=200_000, pause=0.005))
    assert not job.done.wait(1.0), "an open page's training was stopped as abandoned"
    job.check_in("b")  # a follower whose page is gone: it keeps nothing going
    job.let_go("a")
    assert job.done.wait(30), "a training nobody follows any more went on"
    assert job.result.status == "stopped"

    closing = jobs.start("k", "a", slow_work(calls, steps=200_000, pause=0.005))
    assert not closing.done.wait(0.6)
    open_pages.clear()  # the tab was closed
    assert closing.done.wait(30), "a closed page's training went on"
    assert not jobs.running()


def test_a_waiter_that_stops_waiting_leaves_the_training_to_the_others():
    jobs, calls = Jobs(grace=0.3), []
    job = jobs.start("k", "a", slow_work(calls, steps=2000, pause=0.003))

    class Closed(Exception):
        pass

    def closed_page(_job) -> None:
        raise Closed

    with pytest.raises(Closed):
        job.follow("a", on_update=closed_page)
    run = jobs.start("k", "b", slow_work(calls)).follow("b")
    assert len(calls) == 1 and run.status == "finished"


def test_an_error_in_training_reaches_every_waiter():
    jobs = Jobs()

    def broken(job):
        raise RuntimeError("worker lost")

    job = jobs.start("k", "a", broken)
    with pytest.raises(RuntimeError, match="worker lost"):
        job.follow("a")
    assert not jobs.running()

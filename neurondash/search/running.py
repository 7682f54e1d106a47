"""Running a search: Optuna asks for trials and is told their values as they finish, runs
go to the executor a few at a time, and a trial that survives a rung is continued (the same
run, not retrained) to the next; until done, stopped or past the budget.

Serially (one run at a time) the same spec, seed and store give the same trials. In
parallel the trials depend on which runs finish first (the sampler sees results as they
arrive, running trials as if bad: TPE's constant liar), so the search keeps its record in
the store and a link shows that record."""

from __future__ import annotations

import json
import math
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import optuna
import pandas as pd
from optuna.trial import TrialState

from .. import sweep
from ..config import Config
from ..identity import run_key
from ..store import search_version
from ..summary import summarize
from ..sweep import make_executor, window_size
from .leaderboard import search_frame
from .spec import STARTUP_TRIALS, WARM_METHODS, SearchSpec, Trial
from .study import ask, make_study, stored_rungs, stored_trials, tell_stored, trial_value

DRAWS_AGAIN = 50
"""Draws of done trials allowed beyond the trial count before a space counts as explored."""


class Planned(NamedTuple):
    """One run of a search: its trial, seed repeat, Config, rung, and where it came from
    ('search', or 'store' for a stored trial the search started from)."""

    trial: int
    repeat: int
    config: Config
    rung: int = 0
    origin: str = "search"


@dataclass
class SearchLog:
    """What a search did, filled as it goes (a caller that is interrupted keeps it)."""

    runs: list[Planned] = field(default_factory=list)
    results: dict[int, dict] = field(default_factory=dict)
    """Run index -> its summary."""
    skipped: list[Trial] = field(default_factory=list)
    version: str = ""
    """The stored record's version once stored or read (``store.search_version``): a link
    that names it keeps showing this record after the search runs on."""

    def record(self) -> dict:
        """The log as JSON-able data (the store keeps it under the search's key)."""
        return {"runs": [[p.trial, p.repeat, p.rung, p.origin, p.config.to_query()]
                         for p in self.runs],
                "skipped": [[t.index, t.values, t.skipped] for t in self.skipped]}

    @classmethod
    def from_record(cls, record: dict) -> SearchLog:
        runs = [Planned(trial, repeat, Config.from_query(query)[0], rung, origin)
                for trial, repeat, rung, origin, query in record["runs"]]
        skipped = [Trial(index, values, None, reason)
                   for index, values, reason in record["skipped"]]
        return cls(runs, {}, skipped)


def search_key(spec: SearchSpec, words) -> str:
    """The search's identity in the store: its base run's key and the rest of the spec."""
    ranges = ";".join(r.spell() for r in spec.ranges)
    return (f"search:{run_key(spec.base, list(words) if words else None)}|{ranges}|"
            f"{spec.method}|{spec.trials}|{spec.repeats}|{spec.seed}|"
            f"{spec.budget_seconds or 0:g}|{spec.rungs}")


@dataclass
class _Live:
    """A trial under way: its Optuna trial, rungs, and its runs at the current rung."""

    trial: optuna.trial.Trial
    index: int
    config: Config
    ladder: list[tuple[int, int]]
    rung: int = 0
    pending: set[int] = field(default_factory=set)
    done: dict[int, int] = field(default_factory=dict)
    """Repeat -> run index at the current rung."""
    made: dict[int, Any] = field(default_factory=dict)
    """Repeat -> the Run trained at the current rung (to continue it)."""


STOP_POLL_SECONDS = 0.25
"""How often a search waiting on its workers looks whether it was asked to stop."""


def replay_search(spec: SearchSpec, store, words=None, version: str | None = None
                  ) -> SearchLog:
    """The search as its record in the store says (the latest, or ``version``'s), with the
    stored runs' numbers (nothing is trained); an empty log when it never ran here."""
    key = search_key(spec, words)
    record = store.get_search(key, version) if store is not None else None
    if record is None:
        return SearchLog()
    log = SearchLog.from_record(record)
    log.version = search_version(json.dumps(record, sort_keys=True))
    word_list = list(words) if words else None
    keys = [run_key(p.config, word_list) for p in log.runs]
    found = store.metrics(keys)
    for i, key in enumerate(keys):
        if key in found:
            log.results[i] = found[key]
    return log


def run_search(spec: SearchSpec, executor: Executor | None = None, on_result=None,
               should_stop=None, words=None, log: SearchLog | None = None, store=None,
               started: float | None = None, warm: bool = True) -> pd.DataFrame:
    """Run the search until its trials are done, it is stopped or past the budget; one row
    per trial and seed (see ``search_frame``). ``warm``: first tell the study every stored
    run that is a trial of this search. ``log`` is filled as the search goes."""
    if executor is None:
        with make_executor("process") as pool:
            return run_search(spec, pool, on_result, should_stop, words, log, store,
                              started, warm)
    log = log if log is not None else SearchLog()
    try:
        _Driver(spec, executor, on_result, should_stop, words, log, store,
                time.monotonic() if started is None else started).run(warm)
    finally:
        # Also when interrupted (a page's Stop ends its script with an exception): the
        # runs already stored stay this search's, and its link shows them.
        if store is not None and log.results:
            log.version = store.put_search(search_key(spec, words), log.record())
    return search_frame(spec, log)


class _Driver:
    """One search's loop: asks, runs, rungs and tells."""

    def __init__(self, spec: SearchSpec, executor: Executor, on_result, should_stop, words,
                 log: SearchLog, store, started: float):
        self.spec, self.executor, self.log, self.store = spec, executor, log, store
        self.on_result, self.should_stop = on_result, should_stop
        self.words = tuple(words) if words else None
        self.key = search_key(spec, self.words)
        """Marks the runs it trains: until somebody opens one, its worst go first."""
        self.deadline = started + spec.budget_seconds if spec.budget_seconds else None
        self.study = make_study(spec)
        self.asked = 0
        self.repeated = 0
        """Draws of a trial already done (a small space explored, or a warm start's
        seeded start-up draws): told its value, not counted as a trial."""
        self.next_index = 0
        self.live: dict[int, _Live] = {}
        self.known: dict[Config, float] = {}
        """The value of every whole trial so far (stored ones included), by Config."""
        self.queue: deque[tuple[_Live, int, int]] = deque()
        """Runs waiting for a worker: (trial, repeat, run index)."""

    def stopped(self) -> bool:
        """Asked to stop: runs under way are dropped, not waited for."""
        return self.should_stop is not None and self.should_stop()

    def ended(self) -> bool:
        """No new run starts: stopped, or past the budget (runs under way finish)."""
        return self.stopped() or (self.deadline is not None
                                  and time.monotonic() > self.deadline)

    def run(self, warm: bool) -> None:
        if warm and self.store is not None and self.spec.method in WARM_METHODS:
            self._warm_start()
        window = window_size(self.executor)
        futures: dict[Future, tuple[_Live, int, int]] = {}
        try:
            while True:
                while len(futures) < window and not self.ended():
                    job = self._next_job()
                    if job is None:
                        break
                    live, repeat, index = job
                    planned = self.log.runs[index]
                    if self._from_store(live, repeat, index):
                        continue
                    earlier = live.made.get(repeat)
                    if earlier is not None:
                        future = self.executor.submit(
                            sweep.continue_one, earlier,
                            planned.config.total_steps - earlier.config.total_steps)
                    else:
                        future = self.executor.submit(sweep.run_one, planned.config.to_dict(),
                                                      self.words)
                    futures[future] = job
                if not futures or self.stopped():
                    break
                finished, _ = wait(futures, timeout=STOP_POLL_SECONDS,
                                   return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: futures[f][2]):
                    live, repeat, index = futures.pop(future)
                    run = future.result()
                    summary = summarize(run)
                    if self.store is not None:
                        self.store.put(run, summary, search=self.key)
                    self._finished(live, repeat, index, summary, run)
        finally:
            for pending in futures:  # a stop or an error: runs not started are dropped
                pending.cancel()

    def _warm_start(self) -> None:
        stored = stored_trials(self.spec, self.store, self.words)
        if len(stored) >= STARTUP_TRIALS:  # the store made the start-up: draw greedily
            self.study = make_study(self.spec, warm=True)
        tell_stored(self.spec, self.study, stored,
                    stored_rungs(self.spec, self.store, self.words)
                    if self.spec.rungs > 1 else None)
        for config, _, summaries in stored:
            self.known[config] = trial_value(summaries)
            for repeat, (run_config, summary) in enumerate(
                    zip(self.spec.repeat_configs(config), summaries, strict=True)):
                self.log.results[len(self.log.runs)] = summary
                self.log.runs.append(Planned(self.next_index, repeat, run_config,
                                             self.spec.rungs - 1, "store"))
            self.next_index += 1

    def _next_job(self) -> tuple[_Live, int, int] | None:
        """A promoted trial's next run first, else a new trial's first run."""
        while (not self.queue and self.asked < self.spec.trial_count
               and self.repeated < self.spec.trial_count + DRAWS_AGAIN):
            self._ask()
        return self.queue.popleft() if self.queue else None

    def _ask(self) -> None:
        trial, drawn = ask(self.spec, self.study, self.next_index)
        if drawn.config in self.known:  # a trial already done: its value, not a new trial
            self.study.tell(trial, self.known[drawn.config])
            self.repeated += 1
            return
        self.asked += 1
        self.next_index += 1
        if drawn.config is None:
            self.study.tell(trial, state=TrialState.FAIL)
            self.log.skipped.append(drawn)
            return
        live = _Live(trial, drawn.index, drawn.config, self.spec.ladder(drawn.config))
        self.live[drawn.index] = live
        self._plan_rung(live)

    def _plan_rung(self, live: _Live) -> None:
        steps = live.ladder[live.rung][1]
        config = self.spec.rung_config(live.config, steps)
        for repeat, run_config in enumerate(self.spec.repeat_configs(config)):
            index = len(self.log.runs)
            self.log.runs.append(Planned(live.index, repeat, run_config, live.rung))
            live.pending.add(repeat)
            self.queue.append((live, repeat, index))

    def _from_store(self, live: _Live, repeat: int, index: int) -> bool:
        if self.store is None:
            return False
        key = run_key(self.log.runs[index].config, list(self.words) if self.words else None)
        found = self.store.metrics([key]).get(key)
        if found is None:
            return False
        self._finished(live, repeat, index, found, None)
        return True

    def _finished(self, live: _Live, repeat: int, index: int, summary: dict, run) -> None:
        self.log.results[index] = summary
        live.pending.discard(repeat)
        live.done[repeat], live.made[repeat] = index, run
        if self.on_result is not None:
            self.on_result(len(self.log.results), len(self.log.runs))
        if not live.pending:
            self._rung_done(live)

    def _rung_done(self, live: _Live) -> None:
        summaries = [self.log.results[live.done[r]] for r in sorted(live.done)]
        value = trial_value(summaries)
        resource = live.ladder[live.rung][0]
        last = live.rung == len(live.ladder) - 1
        diverged = any(s.get("status") == "diverged" for s in summaries)
        if last or diverged:  # a diverged run would diverge at any length
            self.study.tell(live.trial, value)
            self.known[live.config] = value
            del self.live[live.index]
            return
        live.trial.report(value, resource)
        if live.trial.should_prune() or not math.isfinite(value):
            self.study.tell(live.trial, state=TrialState.PRUNED)
            del self.live[live.index]
            return
        live.rung += 1
        for repeat in sorted(live.done):
            if live.made.get(repeat) is None and self.store is not None:
                live.made[repeat] = self.store.get(run_key(
                    self.log.runs[live.done[repeat]].config,
                    list(self.words) if self.words else None), opened=False)
        live.done = {}
        self._plan_rung(live)
        # Promotions run before new trials: the queue's front.
        promoted = [self.queue.pop() for _ in range(self.spec.repeats)]
        self.queue.extendleft(promoted)

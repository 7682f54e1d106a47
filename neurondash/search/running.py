"""Running a search: its trials in order, repeats together, until done, stopped or past
the budget; an adaptive search's rounds are drawn from the results so far."""

from __future__ import annotations

import time

import pandas as pd

from ..sweep import run_configs
from .leaderboard import search_frame, trial_scores
from .spec import SearchSpec


def run_search(spec: SearchSpec, executor=None, on_result=None, should_stop=None,
               words=None, results: dict[int, dict] | None = None, store=None,
               started: float | None = None, runs: list | None = None,
               train: bool = True) -> pd.DataFrame:
    """Run the search's trials (repeats together, trials in order) until done, stopped or
    past the budget; one row per run (see ``search_frame``). An adaptive search then runs
    its rounds, each drawn from the results so far.

    ``results`` (run index -> summary) and ``runs`` ((trial, repeat, Config) per index) are
    filled as the search goes, for a caller that is interrupted. ``train=False`` trains
    nothing: it replays the search from the ``store`` as far as the store holds it."""
    results = results if results is not None else {}
    runs = runs if runs is not None else []
    start = time.monotonic() if started is None else started
    deadline = start + spec.budget_seconds if spec.budget_seconds else None
    tried = spec.trial_list()
    batch = spec.runs_of(tried)
    round_no = 0

    def report(done: int, total: int) -> None:  # counts over the whole search, not a round
        if on_result is not None:
            on_result(len(results), len(runs))

    while batch:
        first = len(runs)
        runs.extend(batch)
        run_configs([config for _, _, config in batch], executor, report, should_stop,
                    words, results, store, deadline, first_index=first, train=train)
        if spec.method != "adaptive" or len(results) < len(runs) or (
                deadline is not None and time.monotonic() > deadline) or (
                should_stop is not None and should_stop()):
            break
        round_no += 1
        new = spec.refine(round_no, tried, trial_scores(runs, results))
        tried += new
        batch = spec.runs_of(new)
    return search_frame(spec, runs, results)

"""Running a search: the same spec and seed run serially give the same trials; serial and
parallel searches both find the optimum of a small space; a promoted trial's run is the
run of its length trained from scratch; trials stopped at a rung are recorded with it; a
warm start tells the study exactly the stored runs of its space; a link replays the
search's record."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from neurondash import Config, train
from neurondash.search import (
    SearchLog,
    SearchSpec,
    leaderboard,
    parse_ranges,
    replay_search,
    run_search,
    search_frame,
)
from neurondash.search.spec import STARTUP_TRIALS
from neurondash.search.study import (
    ask,
    make_study,
    stored_rungs,
    stored_trials,
    tell_stored,
    trial_value,
)
from neurondash.store import RunStore
from neurondash.sweep import SerialExecutor, make_executor
from tests.test_contracts import assert_same_run

TINY = Config(task="spiral", depth=2, width="16", steps=60, batch=32)
RANGES = parse_ranges(["lr=loguniform(0.01,1)", "init_scale=uniform(0.3,2)",
                       "opt=choice(sgd,adam)"])


def spec(**changes) -> SearchSpec:
    return SearchSpec(**({"base": TINY, "ranges": RANGES, "trials": 14, "seed": 5}
                         | changes))


def trials_of(log: SearchLog) -> list[tuple]:
    return [(p.trial, p.repeat, p.rung, p.config) for p in log.runs]


def test_the_same_spec_and_seed_run_serially_give_the_same_trials(tmp_path):
    first, second = SearchLog(), SearchLog()
    run_search(spec(rungs=2), SerialExecutor(), log=first)
    run_search(spec(rungs=2), SerialExecutor(), log=second)
    assert trials_of(first) == trials_of(second)
    other = SearchLog()
    run_search(spec(rungs=2, seed=6), SerialExecutor(), log=other)
    assert trials_of(other) != trials_of(first)


def test_serial_and_parallel_searches_both_reach_the_optimum_of_a_small_space():
    """Six combinations, twelve TPE trials: the grid's best must be found either way."""
    small = parse_ranges(["lr=0.01,0.3,1.5", "opt=sgd,adam"])
    grid = run_search(SearchSpec(TINY, small, method="grid"), SerialExecutor())
    best = leaderboard(grid, ["lr", "opt"]).iloc[0]
    serial = run_search(SearchSpec(TINY, small, trials=12, seed=1), SerialExecutor())
    with make_executor("process", 2, wait=True) as pool:
        parallel = run_search(SearchSpec(TINY, small, trials=12, seed=1), pool)
    for frame in (serial, parallel):
        found = leaderboard(frame, ["lr", "opt"]).iloc[0]
        assert (found["lr"], found["opt"]) == (best["lr"], best["opt"])
        assert found["val_loss"] == best["val_loss"]


def test_a_promoted_trial_is_its_run_trained_from_scratch_and_stops_are_recorded(tmp_path):
    store = RunStore(tmp_path)
    search = spec(rungs=3, trials=12, repeats=2)
    log = SearchLog()
    frame = run_search(search, SerialExecutor(), log=log, store=store)
    ladder = search.ladder(TINY)
    assert [steps for _, steps in ladder] == [15, 30, 60]
    reached = frame.groupby("trial")["rung"].max()
    assert reached.min() == 0 and reached.max() == 2, "some trials stopped, some went on"
    for row in frame.itertuples():
        assert row.trained == ladder[row.rung][1] and row.of_steps == 60
        config = Config.from_query(row.query)[0]
        assert config.until == (0 if row.rung == 2 else ladder[row.rung][1])
    promoted = frame[frame["rung"] == 2].iloc[0]
    config = Config.from_query(promoted["query"])[0]
    assert_same_run(store.get(store_key(store, config)), train(config))
    stopped = frame[frame["rung"] == 0].iloc[0]
    short = Config.from_query(stopped["query"])[0]
    assert_same_run(store.get(store_key(store, short)), train(short))
    replayed = search_frame(search, replay_search(search, store))
    assert replayed.equals(frame), "a link shows the search's record"
    assert replay_search(search, RunStore(tmp_path / "other")).runs == []


def store_key(store: RunStore, config: Config) -> str:
    from neurondash.identity import run_key

    key = run_key(config, None)
    assert key in store
    return key


def test_a_warm_start_tells_exactly_the_stored_whole_trials_of_the_space(tmp_path):
    store = RunStore(tmp_path)
    search = spec(trials=3)
    inside = [TINY.replace(lr=0.05, init_scale=1.0, opt="adam"),
              TINY.replace(lr=0.5, init_scale=0.5)]
    outside = [TINY.replace(lr=5.0),  # lr outside its range
               TINY.replace(lr=0.05, width="17"),  # another base
               TINY.replace(lr=0.05, opt="adamw"),  # a choice not offered
               TINY.replace(lr=0.05, until=20),  # a trial stopped at a rung
               TINY.replace(lr=0.05, seed=7)]  # another seed: another search's trial
    for config in inside + outside:
        store.put(train(config))
    found = stored_trials(search, store, None)
    assert sorted(c.to_query() for c, _, _ in found) == sorted(c.to_query() for c in inside)
    study = make_study(search)
    tell_stored(search, study, found)
    told = sorted((t.params["lr"], t.params["opt"], t.value) for t in study.trials)
    stored = {c.to_query(): s[0]["val_loss"] for c, _, s in found}
    assert told == sorted((c.lr, c.opt, stored[c.to_query()]) for c in inside)
    log = SearchLog()
    frame = run_search(search, SerialExecutor(), log=log, store=store)
    assert (frame["origin"] == "store").sum() == 2
    assert set(frame.loc[frame["origin"] == "search", "trial"]) == {2, 3, 4}
    # The progress counts what this search trained, and says what the store told.
    from neurondash.ui.views.search_running import progress_words

    share, words = progress_words(search, log)
    assert share == 1.0 and words.startswith(
        "3 of 3 trials, 3 runs done (each seed of a trial and each rung it reached is a "
        "run); 2 stored trials told first; best validation loss")
    cold = run_search(search, SerialExecutor(), store=store, warm=False)
    assert (cold["origin"] == "store").sum() == 0


@pytest.mark.parametrize("repeats", [1, 2])
def test_a_second_search_continues_the_first(tmp_path, repeats):
    """The same search run again starts from the first's runs, and its draws of trials
    already done (the seeded start-up draws) are told their value, not listed again."""
    store = RunStore(tmp_path)
    first = run_search(spec(trials=6, repeats=repeats), SerialExecutor(), store=store)
    whole = int((first["trained"] == 60).sum())
    log = SearchLog()
    second = run_search(spec(trials=6, repeats=repeats), SerialExecutor(), store=store, log=log)
    assert (second["origin"] == "store").sum() == whole
    assert second.loc[second["origin"] == "search", "trial"].nunique() == 6
    assert not second.duplicated(["query", "repeat"]).any(), "a trial done is not redone"


def test_a_warm_start_tells_the_rungs_of_stored_trials_and_ranks_new_ones_against_them(
        tmp_path):
    """A second search with rungs learns what the first's shorter runs reached: its whole
    trials with their rung values, its stopped trials as pruned at their rung; a new
    trial's rung is then ranked against all of them."""
    store = RunStore(tmp_path)
    search = spec(rungs=3, trials=12)
    log = SearchLog()
    run_search(search, SerialExecutor(), log=log, store=store)
    reached: dict[Config, dict[int, float]] = {}
    ladder = {steps: resource for resource, steps in search.ladder(TINY)}
    for index, planned in enumerate(log.runs):
        whole = planned.config.replace(until=0)
        reached.setdefault(whole, {})[ladder[planned.config.total_steps
                                             if not planned.config.until
                                             else planned.config.until]] = \
            trial_value([log.results[index]])
    study = make_study(search)
    tell_stored(search, study, stored_trials(search, store, None),
                stored_rungs(search, store, None))
    assert len(study.trials) == len(reached)
    top = max(ladder.values())
    pruned = {c for c, values in reached.items() if top not in values}
    assert pruned and len(pruned) < len(reached), "some stopped at a rung, some went on"
    told = {(t.params["lr"], t.params["init_scale"]): t for t in study.trials}
    for config, values in reached.items():
        trial = told[config.lr, config.init_scale]
        assert trial.state == (TrialState.PRUNED if config in pruned else TrialState.COMPLETE)
        assert trial.intermediate_values == {r: v for r, v in values.items() if r < top}
    first_rung = sorted(values[1] for values in reached.values())
    for value, stops in ((first_rung[-1] + 1.0, True), (first_rung[0] - 1.0, False)):
        trial = study.ask()
        trial.report(value, 1)
        assert trial.should_prune() is stops
        study.tell(trial, state=TrialState.PRUNED)


class PageStopped(BaseException):
    """What a page's Stop raises inside a search's callback (Streamlit's own is one too)."""


def test_a_search_interrupted_midway_keeps_its_record_of_the_runs_done(tmp_path):
    store = RunStore(tmp_path)
    search = spec(trials=8)

    def stop_after_three(done: int, _total: int) -> None:
        if done == 3:
            raise PageStopped

    with pytest.raises(PageStopped):
        run_search(search, SerialExecutor(), on_result=stop_after_three, store=store,
                   warm=False)
    replayed = replay_search(search, store)
    assert len(replayed.results) == 3
    frame = search_frame(search, replayed)
    assert (frame["status"] != "not run").sum() == 3


def test_a_stop_drops_the_runs_under_way_and_records_what_was_kept(tmp_path, monkeypatch):
    """Stop used to wait for the runs under way: the page showed the search without the
    next result, which was then stored and written to the record, so a reload showed
    another search. Asked to stop, the search returns while a run is still under way, and
    its record holds exactly the results its log holds."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from neurondash import sweep

    release, stop = threading.Event(), threading.Event()
    quick = sweep.run_one

    def run_one(values, words=None):
        if stop.is_set():  # a run started after the first result: under way at the stop
            release.wait(30)
        return quick(values, words)

    monkeypatch.setattr(sweep, "run_one", run_one)
    store, log = RunStore(tmp_path), SearchLog()
    with ThreadPoolExecutor(1) as pool:
        run_search(spec(trials=4), pool, on_result=lambda *_: stop.set(),
                   should_stop=stop.is_set, log=log, store=store)
        under_way = not release.is_set()
        release.set()
    assert under_way and len(log.results) == 1
    replayed = replay_search(spec(trials=4), store)
    assert replayed.version == log.version and set(replayed.results) == set(log.results)


def test_a_cut_search_counts_the_trials_it_finished_not_the_ones_it_drew():
    """A toast said 'stopped after 8 of its 8 trials' of a search whose leaderboard then
    said 3 of them did not finish; stored trials it started from are not its own."""
    from neurondash.search.running import Planned
    from neurondash.ui.views.search_running import cut_words

    search, log = spec(trials=8), SearchLog()
    for trial, origin in ((0, "store"), (1, "search"), (2, "search")):
        log.runs.append(Planned(trial, 0, TINY, 0, origin))
    finished = {"status": "finished", "val_loss": 2.0, "query": TINY.to_query()}
    log.results = {0: finished, 1: finished}
    assert cut_words(search, log) == ("with 1 of its 8 trials finished and 1 cut short: what "
                                      "it finished is kept, and Run search with those "
                                      "settings goes on from there")


def _bowl(params: dict) -> float:
    """A smooth value over RANGES, least at lr = 0.1, init_scale = 1, opt = adam."""
    return ((math.log10(params["lr"]) + 1) ** 2 + (params["init_scale"] - 1) ** 2
            + (params["opt"] == "sgd") * 0.5)


def _draws_after_told(warm: bool, seed: int) -> float:
    """The median value of 20 draws of a study told 30 random trials of the bowl first."""
    search = spec(seed=seed)
    study = make_study(search, warm=warm)
    distributions = {r.name: r.distribution() for r in search.ranges}
    rng = np.random.default_rng(0)
    for _ in range(30):
        params = {"lr": 10 ** rng.uniform(-2, 0), "init_scale": rng.uniform(0.3, 2),
                  "opt": str(rng.choice(["sgd", "adam"]))}
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions=distributions, value=_bowl(params)))
    values = []
    for _ in range(20):
        trial, _ = ask(search, study, 0)
        values.append(_bowl(trial.params))
        study.tell(trial, values[-1])
    return float(np.median(values))


def test_a_study_started_from_the_store_draws_nearer_its_best():
    """Where the store already made the start-up, TPE refines instead of exploring: over
    six sampler seeds its draws are better on average than a cold sampler's."""
    warm = np.mean([_draws_after_told(True, seed) for seed in range(6)])
    cold = np.mean([_draws_after_told(False, seed) for seed in range(6)])
    assert warm < 0.8 * cold

def test_a_search_draws_greedily_only_when_the_store_made_its_start_up(tmp_path,
                                                                        monkeypatch):
    from neurondash.search import running

    made = []
    real = running.make_study
    monkeypatch.setattr(running, "make_study",
                        lambda spec, warm=False: made.append(warm) or real(spec, warm))
    store = RunStore(tmp_path)
    search = spec(trials=STARTUP_TRIALS - 1)
    run_search(search, SerialExecutor(), store=store)
    assert made == [False], "fewer stored trials than the start-up: a cold sampler"
    made.clear()
    run_search(spec(trials=1), SerialExecutor(), store=store)
    assert made == [False], "fewer stored trials than the start-up: a cold sampler"
    made.clear()
    run_search(spec(trials=2, seed=6), SerialExecutor(), store=store)
    assert made == [False, True]

"""Search: ranges parse and spell back, draws are deterministic and follow their
distributions, conditions and optimizer-aware lr ranges hold, repeats share one split,
over-cap trials are skipped naming the setting that broke the cap, budgets stop starting
runs, and the leaderboard ranks trials with their seed spread."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash import Config
from neurondash.cost import estimate_seconds
from neurondash.data import load_dataset
from neurondash.search import (
    LR_RANGES,
    Range,
    SearchError,
    SearchSpec,
    leaderboard,
    parse_range,
    parse_ranges,
    run_search,
)
from neurondash.sweep import SerialExecutor

TINY = Config(task="moons", depth=1, width="8", steps=30)


@pytest.mark.parametrize("text, expected", [
    ("lr=loguniform(1e-4,1e-1)", Range("lr", "loguniform", low=1e-4, high=0.1)),
    ("init_scale=uniform(0.5, 2)", Range("init_scale", "uniform", low=0.5, high=2.0)),
    ("width=choice(64;128;256)", Range("width", "choice", ("64", "128", "256"))),
    ("depth=1,2,3", Range("depth", "choice", (1, 2, 3))),
    ("opt=choice(sgd,adamw)", Range("opt", "choice", ("sgd", "adamw"))),
    ("lr=auto", Range("lr", "auto")),
    ("wd=loguniform(1e-4,0.1) if opt=adamw",
     Range("wd", "loguniform", low=1e-4, high=0.1, when=("opt", ("adamw",)))),
    ("steps=choice(500,2000)", Range("steps", "choice", (500, 2000))),
])
def test_ranges_parse_and_spell_back(text, expected):
    parsed = parse_range(text)
    assert parsed == expected
    assert parse_range(parsed.spell()) == parsed


@pytest.mark.parametrize("text, reason", [
    ("lr", "write name="),
    ("task=choice(names,moons)", "cannot be searched"),
    ("lr=loguniform(0,1)", "positive low bound"),
    ("lr=loguniform(1,0.1)", "low < high"),
    ("lr=loguniform(1e-4)", "two bounds"),
    ("lr=loguniform(1e-9,1)", "outside lr's range"),
    ("lr=normal(0,1)", "not a range"),
    ("act=uniform(0,1)", "not a number range"),
    ("depth=auto", "auto is for lr"),
    ("width=choice(64;huge)", "width="),
    ("wd=uniform(0,0.1) if colour=red", "not a setting"),
    ("lr=loguniform(nan,1)", "finite bounds"),
])
def test_bad_ranges_say_what_is_wrong(text, reason):
    with pytest.raises(SearchError, match=reason):
        parse_range(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet="lrwidthaucoe=(),;.0123456789-+ infauto_", max_size=40))
def test_any_text_is_a_range_or_a_search_error(text):
    try:
        parsed = parse_range(text)
    except SearchError:
        return
    assert parse_range(parsed.spell()) == parsed


def spec(**changes) -> SearchSpec:
    values = {"base": TINY, "ranges": parse_ranges(["lr=auto", "opt=choice(sgd,adamw)",
                                                    "wd=loguniform(1e-4,0.1) if opt=adamw"]),
              "trials": 40, "seed": 3} | changes
    return SearchSpec(**values)


def test_a_spec_and_its_seed_give_the_same_trials_and_more_trials_extend_them():
    first = [t.values for t in spec().trial_list()]
    assert first == [t.values for t in spec().trial_list()]
    assert [t.values for t in spec(trials=10).trial_list()] == first[:10]
    assert first != [t.values for t in spec(seed=4).trial_list()]


def test_log_uniform_draws_spread_evenly_over_the_decades():
    draws = np.array([t.values["lr"] for t in SearchSpec(
        TINY, parse_ranges(["lr=loguniform(1e-4,1e-1)"]), trials=400).trial_list()])
    assert draws.min() >= 1e-4 and draws.max() <= 0.1
    # A uniform draw would put 3% of them below the geometric middle; log-uniform puts half.
    below = (draws < math.sqrt(1e-4 * 0.1)).mean()
    assert 0.4 < below < 0.6
    per_decade = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1])[0]
    assert per_decade.min() > 100


def test_lr_follows_the_optimizer_and_wd_is_drawn_only_for_adamw():
    trials = spec(trials=60).trial_list()
    for trial in trials:
        low, high = LR_RANGES[trial.values["opt"]]
        assert low <= trial.values["lr"] <= high
        assert ("wd" in trial.values) == (trial.values["opt"] == "adamw")
        assert trial.config.wd == trial.values.get("wd", TINY.wd)
    assert {t.values["opt"] for t in trials} == {"sgd", "adamw"}


def test_integer_settings_are_rounded_and_widths_are_text():
    trials = SearchSpec(TINY, parse_ranges(["batch=loguniform(8,512)",
                                            "width=loguniform(4,64)"]), trials=20).trial_list()
    assert all(isinstance(t.config.batch, int) and 8 <= t.config.batch <= 512 for t in trials)
    assert all(t.config.width.isdigit() for t in trials)


def test_grid_search_takes_every_combination_once_conditions_included():
    grid = SearchSpec(TINY, parse_ranges(["opt=sgd,adamw", "wd=0.001,0.01 if opt=adamw"]),
                      method="grid")
    assert [t.values for t in grid.trial_list()] == [
        {"opt": "sgd"}, {"opt": "adamw", "wd": 0.001}, {"opt": "adamw", "wd": 0.01}]
    with pytest.raises(SearchError, match="needs choices"):
        SearchSpec(TINY, parse_ranges(["lr=auto"]), method="grid")


def test_an_over_cap_trial_is_skipped_naming_the_setting_and_the_rest_run():
    base = Config(opt="adamw", lr=0.003, wd=0.1, batch=512, context=8, embed_dim=24,
                  depth=3, steps=2000)
    grid = SearchSpec(base, parse_ranges(["fuse=0,2", "width=256;512"]), method="grid")
    skipped = [t for t in grid.trial_list() if t.config is None]
    assert [t.values for t in skipped] == [{"fuse": 2, "width": "512"}]
    assert skipped[0].skipped.startswith("fuse=2 or width=512 breaks a rule")
    assert "budget" in skipped[0].skipped and "steps=" not in skipped[0].skipped
    assert len(grid.runs()) == 3


def test_repeats_share_the_first_seeds_split_and_repeat_zero_is_the_trial_itself():
    words_spec = SearchSpec(Config(depth=1, width="8", steps=10),
                            parse_ranges(["lr=0.1,0.2"]), method="grid", repeats=3)
    runs = words_spec.runs()
    assert [(trial, repeat) for trial, repeat, _ in runs] == [
        (0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    trial = [config for index, _, config in runs if index == 0]
    assert trial[0] == words_spec.trial_list()[0].config and trial[0].data_seed == -1
    assert [c.seed for c in trial] == [42, 43, 44]
    splits = [load_dataset(c).words for c in trial]
    assert splits[0] == splits[1] == splits[2]


def test_search_runs_rank_trials_and_a_budget_leaves_runs_unstarted():
    search = spec(trials=4, repeats=2)
    frame = run_search(search, SerialExecutor())
    assert len(frame) == 8 and (frame["status"] == "finished").all()
    assert (frame["seconds"] > 0).all() and (frame["examples"] == 30 * TINY.batch).all()
    board = leaderboard(frame, search.searched)
    assert list(board["val_loss"]) == sorted(board["val_loss"])
    assert (board["repeats"] == 2).all() and board["vs_best"].iloc[0] == "best"
    short = run_search(spec(trials=4, repeats=2, budget_seconds=1e-3), SerialExecutor(),
                       started=time.monotonic())
    assert (short["status"] == "finished").sum() == 1
    assert (short["status"] == "not run").sum() == 7


def test_a_gap_smaller_than_the_seed_spread_is_labelled_as_such():
    frame = pd.DataFrame({
        "trial": [0, 0, 1, 1, 2, 2], "repeat": [0, 1] * 3, "lr": [0.1, 0.1, 0.2, 0.2, 1, 1],
        "val_loss": [2.00, 2.02, 2.015, 2.025, 2.30, 2.31], "status": ["finished"] * 6,
        "seconds": [1.0] * 6, "examples": [100] * 6, "findings": [""] * 6,
        "query": ["a", "a", "b", "b", "c", "c"]})
    board = leaderboard(frame, ["lr"])
    assert list(board["trial"]) == [0, 1, 2]
    assert list(board["vs_best"]) == ["best", "within seed spread", "worse"]
    assert board["val_loss_sd"].iloc[0] == pytest.approx(np.std([2.00, 2.02], ddof=1))


def test_adaptive_rounds_move_one_or_two_settings_of_the_best_trials():
    adaptive = spec(method="adaptive", trials=20)
    assert len(adaptive.trial_list()) == 7, "a third of the trials drawn at random first"
    assert [t.values for t in adaptive.trial_list()] == [
        t.values for t in spec(trials=7).trial_list()], "the same draws as a random search"
    tried = adaptive.trial_list()
    scores = {t.index: float(t.index) for t in tried}  # trial 0 best, then 1, 2, 3
    first = adaptive.refine(1, tried, scores)
    assert first == adaptive.refine(1, tried, scores), "deterministic"
    assert len(first) == 8 and [t.index for t in first] == list(range(7, 15))
    for child, parent in zip(first, [0, 1, 2, 3] * 2, strict=True):
        before = tried[parent].values
        moved = {k for k in before.keys() | child.values.keys()
                 if before.get(k) != child.values.get(k)}
        assert 1 <= len(moved) <= 3, (before, child.values)  # wd may follow a moved opt
        assert moved <= {"lr", "opt", "wd"}
    identities = [tuple(sorted(t.values.items())) for t in tried + first]
    assert len(set(identities)) == len(identities), "no trial is tried twice"


def test_an_adaptive_search_runs_its_rounds_and_replays_from_the_store(tmp_path):
    from neurondash.store import RunStore

    store = RunStore(tmp_path / "store")
    adaptive = spec(method="adaptive", trials=14)
    runs: list = []
    frame = run_search(adaptive, SerialExecutor(), store=store, runs=runs)
    assert len(frame) == 14 and (frame["status"] == "finished").all()
    assert list(frame["trial"]) == list(range(14))
    replayed = run_search(adaptive, None, store=RunStore(store.root), train=False)
    pd.testing.assert_frame_equal(replayed.drop(columns=["seconds"]),
                                  frame.drop(columns=["seconds"]))
    empty = run_search(adaptive, None, store=RunStore(tmp_path / "other"), train=False)
    assert len(empty) == 5 and (empty["status"] == "not run").all(), "the first round only"


def test_no_trial_is_drawn_twice_and_a_small_space_runs_out():
    small = SearchSpec(TINY, parse_ranges(["lr=0.01,0.1", "act=tanh,relu"]), trials=10)
    drawn = [tuple(sorted(t.values.items())) for t in small.trial_list()]
    assert len(drawn) == len(set(drawn)) == 4
    adaptive = SearchSpec(TINY, parse_ranges(["lr=0.01,0.1"]), trials=10, method="adaptive")
    tried = adaptive.trial_list()
    assert len(tried) == 2
    assert adaptive.refine(1, tried, {0: 1.0, 1: 2.0}) == [], "nothing left to try"


def test_a_search_from_one_of_its_own_trials_settings_is_the_same_search():
    """'Use its settings' puts a trial's Config in the sidebar, which is the search's base:
    the searched settings' base values are not used, so the search on screen stays."""
    search = spec(method="adaptive", trials=12, base=TINY.replace(lr=0.05, wd=0.01))
    for trial in search.trial_list():
        again = SearchSpec(trial.config, search.ranges, trials=12, seed=3,
                           method="adaptive")
        assert again == search
        assert [t.config for t in again.trial_list()] == [t.config for t in
                                                          search.trial_list()]


@pytest.mark.parametrize("trials, budget", [(200, 30.0), (200, 3.0), (20, 600.0), (9, 1.0)])
def test_a_budget_leaves_room_for_the_adaptive_rounds_and_the_plan_says_so(trials, budget):
    ranges = parse_ranges(["lr=auto", "width=choice(64;128)"])
    search = SearchSpec(Config(steps=3000), ranges, trials=trials, method="adaptive",
                        budget_seconds=budget)
    sample = SearchSpec(Config(steps=3000), ranges, trials=math.ceil(trials / 3))
    per_trial = np.mean([estimate_seconds(t.config) for t in sample.trial_list()])
    affordable = search.affordable_trials
    assert affordable == max(1, min(trials, int(budget / per_trial))) or affordable == trials
    assert search.explore_count <= max(4, math.ceil(affordable / 3))
    assert search.explore_count * per_trial <= budget or search.explore_count == 4, (
        "the random phase alone must not use the budget")
    plan = search.plan()
    assert f"up to {trials} trials or {budget:g} s, whichever comes first" in plan
    if trials > search.explore_count:
        assert f"start after {search.explore_count} random trials" in plan
    if affordable < trials:
        assert f"affords about {affordable} trials" in plan

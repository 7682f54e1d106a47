"""Search: ranges parse and spell back and map to Optuna distributions that give back their
values, draws are deterministic and follow their distributions, conditions and
optimizer-aware lr ranges hold, repeats share one split, over-cap trials are skipped naming
the setting, a stop leaves runs unstarted, and the leaderboard ranks trials with their seed
spread. Running searches (rungs, warm start, parallel): ``test_search_running``."""

from __future__ import annotations

import math
import time

import numpy as np
import optuna
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash import Config
from neurondash.config import SETTINGS_BY_NAME
from neurondash.data import load_dataset
from neurondash.search import (
    LR_RANGES,
    Range,
    SearchError,
    SearchLog,
    SearchSpec,
    importance_frame,
    importances,
    leaderboard,
    parse_range,
    parse_ranges,
    run_search,
)
from neurondash.search.space import typed_value
from neurondash.search.study import ask, make_study
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
    ("task=choice(names,moons)", "cannot be searched; one of"),
    ("init_scal=loguniform(0.3,3)", r"cannot be searched \(did you mean init_scale\?\)"),
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


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(["lr", "init_scale", "depth", "width", "wd", "batch"]),
       st.sampled_from(["uniform", "loguniform"]),
       st.floats(-1e6, 1e6, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False))
def test_a_bound_past_a_settings_range_moves_to_its_end_and_is_said(name, kind, low, high):
    """On the page (a ``dropped`` list), lr=loguniform(0.01,100) searches up to lr's
    largest, 10, and says so, instead of leaving the line out; a bound inside is kept."""
    text = f"{name}={kind}({low!r},{high!r})"
    dropped: list[str] = []
    try:
        searched = parse_range(text, dropped)
    except SearchError:
        return
    setting = SETTINGS_BY_NAME[name]
    for bound in (searched.low, searched.high):
        setting.coerce(typed_value(name, bound))  # inside the setting's range
    moved = [(written, used) for written, used in ((low, searched.low), (high, searched.high))
             if written != used]
    assert len(dropped) == len(moved)
    for (written, used), said in zip(moved, dropped, strict=True):
        assert f"the bound {written:g} is outside" in said and f"ends at {used:g}" in said
    if not moved:
        assert parse_range(text) == searched


def test_a_bound_past_lr_s_range_is_searched_up_to_its_largest():
    dropped: list[str] = []
    assert parse_range("lr=loguniform(0.01,100)", dropped).high == 10
    assert dropped == ["the bound 100 is outside lr's range (a number from 1e-05 to 10), so "
                       "the range ends at 10 instead"]
    with pytest.raises(SearchError, match="past the same end"):
        parse_range("lr=loguniform(20,100)", [])


def spec(**changes) -> SearchSpec:
    values = {"base": TINY, "ranges": parse_ranges(["lr=auto", "opt=choice(sgd,adamw)",
                                                    "wd=loguniform(1e-4,0.1) if opt=adamw"]),
              "trials": 40, "seed": 3, "method": "random"} | changes
    return SearchSpec(**values)


def drawn(search: SearchSpec, count: int | None = None) -> list:
    """The trials a search's sampler draws, asked without results (random and grid do not
    depend on them)."""
    study = make_study(search)
    return [ask(search, study, i)[1] for i in range(count or search.trial_count)]


BOUND = st.floats(1e-4, 5.0, allow_nan=False)
RANGE_TEXTS = st.one_of(
    st.tuples(st.sampled_from(["lr", "init_scale", "wd"]), BOUND, BOUND,
              st.sampled_from(["uniform", "loguniform"])).map(
        lambda t: f"{t[0]}={t[3]}({min(t[1], t[2])},{max(t[1], t[2]) * 1.5 + 1e-3})"),
    st.tuples(st.sampled_from(["batch", "depth", "width", "context"]),
              st.integers(1, 8), st.integers(1, 8),
              st.sampled_from(["uniform", "loguniform"])).map(
        lambda t: f"{t[0]}={t[3]}({min(t[1], t[2])},{max(t[1], t[2]) + 1})"),
    st.lists(st.integers(1, 512), min_size=1, max_size=5).map(
        lambda v: "batch=choice(" + ",".join(map(str, v)) + ")"),
    st.sampled_from(["lr=auto", "opt=choice(sgd,adam,adamw)", "act=relu,tanh,gelu",
                     "wd=loguniform(1e-4,0.1) if opt=adamw"]),
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(RANGE_TEXTS, st.floats(0, 1), st.sampled_from(["sgd", "momentum", "adam", "adamw"]))
def test_every_range_maps_to_a_distribution_whose_draws_are_its_values(text, u, opt):
    """Any parameter of a range's distribution is a value inside the range, and a value
    inside the range is a parameter that gives it back (how stored runs are told)."""
    try:
        searched = parse_range(text)
    except SearchError:
        return
    dist = searched.distribution()
    if hasattr(dist, "choices"):
        param = dist.choices[int(u * (len(dist.choices) - 1))]
    elif dist.log:
        param = dist.low * (dist.high / dist.low) ** u
    else:
        param = dist.low + u * (dist.high - dist.low)
    if isinstance(dist, optuna.distributions.IntDistribution):
        param = min(max(round(param), dist.low), dist.high)
    drawn_values = {"opt": opt}
    value = searched.value_of(param, drawn_values, TINY)
    back = searched.param_of(value, drawn_values, TINY)
    assert back is not None, f"{text}: {value!r} drawn from {param!r} is outside the range"
    assert searched.value_of(back, drawn_values, TINY) == value
    assert dist._contains(dist.to_internal_repr(back))


def test_a_spec_and_its_seed_give_the_same_trials():
    first = [t.values for t in drawn(spec())]
    assert first == [t.values for t in drawn(spec())]
    assert first != [t.values for t in drawn(spec(seed=4))]


def test_log_uniform_draws_spread_evenly_over_the_decades():
    draws = np.array([t.values["lr"] for t in drawn(SearchSpec(
        TINY, parse_ranges(["lr=loguniform(1e-4,1e-1)"]), trials=400, method="random"))])
    assert draws.min() >= 1e-4 and draws.max() <= 0.1
    # A uniform draw would put 3% of them below the geometric middle; log-uniform puts half.
    below = (draws < math.sqrt(1e-4 * 0.1)).mean()
    assert 0.4 < below < 0.6
    per_decade = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1])[0]
    assert per_decade.min() > 100


@pytest.mark.parametrize("method", ["random", "tpe"])
def test_lr_follows_the_optimizer_and_wd_is_drawn_only_for_adamw(method):
    trials = drawn(spec(trials=60, method=method))
    for trial in trials:
        low, high = LR_RANGES[trial.values["opt"]]
        assert low <= trial.values["lr"] <= high
        assert ("wd" in trial.values) == (trial.values["opt"] == "adamw")
        assert trial.config.wd == trial.values.get("wd", TINY.wd)
    assert {t.values["opt"] for t in trials} == {"sgd", "adamw"}


def test_integer_settings_are_whole_numbers_and_widths_are_text():
    trials = drawn(SearchSpec(TINY, parse_ranges(["batch=loguniform(8,512)",
                                                  "width=loguniform(4,64)"]), trials=20))
    assert all(isinstance(t.config.batch, int) and 8 <= t.config.batch <= 512 for t in trials)
    assert all(t.config.width.isdigit() for t in trials)


def test_grid_search_takes_every_combination_once_conditions_included():
    grid = SearchSpec(TINY, parse_ranges(["opt=sgd,adamw", "wd=0.001,0.01 if opt=adamw"]),
                      method="grid")
    assert [t.values for t in drawn(grid)] == [
        {"opt": "sgd"}, {"opt": "adamw", "wd": 0.001}, {"opt": "adamw", "wd": 0.01}]
    with pytest.raises(SearchError, match=r"needs choices .*; tpe and random search ranges"):
        SearchSpec(TINY, parse_ranges(["lr=auto"]), method="grid")


def test_cmaes_takes_continuous_ranges_only():
    with pytest.raises(SearchError, match="cmaes needs every searched setting continuous"):
        spec(method="cmaes")
    search = SearchSpec(TINY, parse_ranges(["lr=loguniform(0.01,1)",
                                            "init_scale=uniform(0.5,2)"]), method="cmaes",
                        trials=6)
    assert [t.values for t in drawn(search)] == [t.values for t in drawn(search)]


def test_an_over_cap_trial_is_skipped_naming_the_setting_and_the_rest_run(tmp_path):
    base = Config(opt="adamw", lr=0.003, wd=0.1, batch=512, context=8, embed_dim=24,
                  depth=3, steps=2000)
    grid = SearchSpec(base, parse_ranges(["fuse=0,2", "width=256;512"]), method="grid")
    skipped = [t for t in drawn(grid) if t.config is None]
    assert [t.values for t in skipped] == [{"fuse": 2, "width": "512"}]
    assert skipped[0].skipped.startswith("fuse=2 or width=512 breaks a rule")
    assert "budget" in skipped[0].skipped and "steps=" not in skipped[0].skipped
    tiny = SearchSpec(Config(depth=1, width="8", steps=10), parse_ranges(["fuse=0,2"]),
                      method="grid")
    log = SearchLog()
    run_search(tiny, SerialExecutor(), log=log)
    assert [t.values for t in log.skipped] == [{"fuse": 2}]
    assert [p.config.fuse for p in log.runs] == [0] and len(log.results) == 1


def test_repeats_share_the_first_seeds_split_and_repeat_zero_is_the_trial_itself():
    words_spec = SearchSpec(Config(depth=1, width="8", steps=10),
                            parse_ranges(["lr=0.1,0.2"]), method="grid", repeats=3)
    trial = drawn(words_spec)[0].config
    runs = words_spec.repeat_configs(trial)
    assert runs[0] == trial and trial.data_seed == -1
    assert [c.seed for c in runs] == [42, 43, 44]
    splits = [load_dataset(c).words for c in runs]
    assert splits[0] == splits[1] == splits[2]


def test_search_runs_rank_trials_and_a_stop_leaves_runs_unstarted():
    search = spec(trials=4, repeats=2)
    frame = run_search(search, SerialExecutor())
    assert len(frame) == 8 and (frame["status"] == "finished").all()
    assert (frame["seconds"] > 0).all() and (frame["examples"] == 30 * TINY.batch).all()
    board = leaderboard(frame, search.searched)
    assert list(board["val_loss"]) == sorted(board["val_loss"])
    assert (board["repeats"] == 2).all() and board["vs_best"].iloc[0] == "best"
    log = SearchLog()
    run_search(search, SerialExecutor(), log=log, should_stop=lambda: len(log.results) >= 1)
    assert len(log.results) == 1, "no run starts after the stop"
    late = run_search(spec(trials=4, budget_seconds=5), SerialExecutor(),
                      started=time.monotonic() - 10)
    assert late.empty, "no run starts after the budget"


def test_a_gap_smaller_than_the_seed_spread_is_labelled_as_such():
    frame = pd.DataFrame({
        "trial": [0, 0, 1, 1, 2, 2, 3], "repeat": [0, 1] * 3 + [0],
        "lr": [0.1, 0.1, 0.2, 0.2, 1, 1, 0.5],
        "val_loss": [2.00, 2.02, 2.015, 2.025, 2.30, 2.31, 1.5], "status": ["finished"] * 7,
        "trained": [30] * 6 + [10], "of_steps": [30] * 7, "origin": ["search"] * 7,
        "seconds": [1.0] * 7, "examples": [100] * 7, "findings": [""] * 7,
        "query": ["a", "a", "b", "b", "c", "c", "d"]})
    board = leaderboard(frame, ["lr"])
    assert list(board["trial"]) == [0, 1, 2, 3], "a trial stopped early ranks after the whole"
    assert list(board["vs_best"]) == ["best", "within seed spread", "worse", "stopped early"]
    assert board["val_loss_sd"].iloc[0] == pytest.approx(np.std([2.00, 2.02], ddof=1))
    assert list(board["trained"]) == ["all 30"] * 3 + ["10 of 30"]


def test_a_trial_that_diverged_on_one_seed_is_a_diverged_trial():
    """Its mean over the other seeds alone read as a healthy trial with a plain number."""
    frame = pd.DataFrame({
        "trial": [0, 0, 1, 1], "repeat": [0, 1, 0, 1], "lr": [3.0, 3.0, 0.1, 0.1],
        "val_loss": [2.1, math.nan, 2.2, 2.3], "status": ["finished", "diverged"] * 1
        + ["finished"] * 2, "trained": [30, 6, 30, 30], "of_steps": [30] * 4,
        "origin": ["search"] * 4, "seconds": [1.0] * 4, "examples": [100] * 4,
        "findings": ["Healthy", "Divergence", "Healthy", "Healthy"],
        "query": ["a", "a", "b", "b"]})
    board = leaderboard(frame, ["lr"]).set_index("trial")
    assert math.isnan(board.loc[0, "val_loss"]) and math.isnan(board.loc[0, "val_loss_sd"])
    assert board.loc[0, "findings"].startswith("Diverged on 1 of 2 seeds")
    assert board.loc[1, "val_loss"] == pytest.approx(2.25) and board.loc[1, "vs_best"] == "best"


def test_a_trial_whose_seeds_a_stop_left_unrun_does_not_rank_as_best():
    """A walker stopped a 2-seed search: trial 3 had run 1 of its 2 seeds and headed the
    board as "Best" with its one seed's loss, the 2-seed means below it called "worse"."""
    frame = pd.DataFrame({
        "trial": [0, 0, 1, 1], "repeat": [0, 1, 0, 1], "lr": [0.1, 0.1, 0.3, 0.3],
        "val_loss": [2.30, 2.32, 2.27, math.nan],
        "status": ["finished", "finished", "finished", "not run"],
        "trained": [30] * 4, "of_steps": [30] * 4, "origin": ["search"] * 4,
        "seconds": [1.0, 1.0, 1.0, math.nan], "examples": [100, 100, 100, math.nan],
        "findings": ["", "", "", None], "query": ["a", "a", "b", "b"]})
    board = leaderboard(frame, ["lr"])
    assert list(board["trial"]) == [0, 1] and list(board["whole"]) == [True, False]
    assert list(board["vs_best"]) == ["best", "seeds not all run"]
    assert list(board["trained"]) == ["all 30", "all 30; 1 of 2 seeds"]
    whole = leaderboard(frame[frame["status"] != "not run"], ["lr"])
    assert list(whole["trial"]) == [1, 0], "without the unrun seed's row it ranks as before"


def test_a_search_from_one_of_its_own_trials_settings_is_the_same_search():
    """'Use its settings' puts a trial's Config in the sidebar, which is the search's base:
    the searched settings' base values are not used, so the search on screen stays."""
    search = spec(method="tpe", trials=12, base=TINY.replace(lr=0.05, wd=0.01))
    for trial in drawn(search):
        again = SearchSpec(trial.config, search.ranges, trials=12, seed=3, method="tpe")
        assert again == search


@pytest.mark.parametrize("rungs", [1, 2, 3])
def test_the_plan_says_how_trials_rungs_and_the_budget_combine(rungs):
    search = spec(trials=30, rungs=rungs, budget_seconds=60, method="tpe")
    plan = search.plan()
    assert "up to 30 trials or 60 s, whichever comes first" in plan
    assert ("stopped early counts as a trial, and its seconds count" in plan) == (rungs > 1)
    full = spec(trials=30, rungs=1).expected_seconds()
    assert search.expected_seconds() == pytest.approx(
        full * {1: 1, 2: 1 / 2 + 1 / 2 * 1 / 2, 3: 1 / 4 + 1 / 2 * 1 / 4 + 1 / 4 * 2 / 4}[rungs])


def test_importances_find_the_one_setting_that_matters():
    search = SearchSpec(TINY, parse_ranges(["lr=loguniform(0.001,1)",
                                            "init_scale=uniform(0.5,2)",
                                            "batch=choice(16,32,64)"]))
    rng = np.random.default_rng(0)
    trials = []
    for _ in range(40):
        lr = float(f"{math.exp(rng.uniform(math.log(1e-3), 0)):.4g}")
        config = TINY.replace(lr=lr, init_scale=float(f"{rng.uniform(0.5, 2):.4g}"),
                              batch=int(rng.choice([16, 32, 64])))
        trials.append((config, (math.log10(lr) + 1.5) ** 2))
    found = importances(search, trials)
    assert found["lr"] > 0.9 and found["init_scale"] < 0.05 and found["batch"] < 0.05
    frame = pd.DataFrame([{"trial": i, "repeat": r, "trained": 30, "of_steps": 30,
                           "status": "finished", "query": c.to_query(),
                           "val_loss": v + 0.5 * r, "expected_initial_loss": 9.0}
                          for i, (c, v) in enumerate(trials) for r in range(2)])
    table = importance_frame(search, frame)
    assert table["setting"].iloc[0] == "lr"
    verdicts = dict(zip(table["setting"], table["verdict"], strict=True))
    assert verdicts["lr"] == "above seed noise" and verdicts["batch"] == "within seed noise"


def test_a_trial_a_stop_cut_short_is_told_from_one_the_pruner_stopped():
    """After Stop, a trial promoted to its next rung but not run on read 'stopped early',
    as a pruned one does, with a loss lower than the whole trials'."""
    from neurondash.search import Planned, SearchLog, search_frame

    search = spec(rungs=2, ranges=parse_ranges(["lr=0.1,0.2,0.3"]), method="grid")
    short, whole = TINY.replace(until=15), TINY
    log = SearchLog(runs=[
        Planned(0, 0, short.replace(lr=0.1), 0), Planned(0, 0, whole.replace(lr=0.1), 1),
        Planned(1, 0, short.replace(lr=0.2), 0),
        Planned(2, 0, short.replace(lr=0.3), 0), Planned(2, 0, whole.replace(lr=0.3), 1)])
    summary = {"status": "finished", "seconds": 1.0, "examples": 10, "findings": ""}
    log.results = {0: summary | {"val_loss": 0.5, "query": "a"},
                   2: summary | {"val_loss": 0.6, "query": "b"},
                   3: summary | {"val_loss": 0.7, "query": "c"},
                   4: summary | {"val_loss": 0.65, "query": "c"}}
    board = leaderboard(search_frame(search, log), ["lr"]).set_index("trial")
    assert board.loc[2, "vs_best"] == "best"
    assert board.loc[0, "vs_best"] == "cut short (not run on)", "promoted, then stopped"
    assert board.loc[1, "vs_best"] == "stopped early", "the pruner's"
    assert board.loc[0, "trained"] == "15 of 30, cut short"
    assert board.loc[1, "trained"] == "15 of 30"


def test_a_diverged_trial_says_where_it_diverged_not_the_steps_it_planned():
    frame = pd.DataFrame({
        "trial": [0, 1, 2], "repeat": [0, 0, 0], "lr": [0.1, 9.0, 0.2],
        "val_loss": [2.1, math.nan, 2.3], "status": ["finished", "diverged", "finished"],
        "diverged_step": [-1, 6, -1], "trained": [30, 30, 10], "of_steps": [30] * 3,
        "origin": ["search"] * 3, "seconds": [1.0] * 3, "examples": [100] * 3,
        "findings": ["", "Divergence", ""], "query": ["a", "b", "c"]})
    board = leaderboard(frame, ["lr"]).set_index("trial")
    assert board.loc[1, "trained"] == "diverged at 6 of 30"
    assert list(board["whole"]) == [True, True, False], "it ended there: no rung is left"
    early = leaderboard(frame.assign(trained=[30, 12, 10]), ["lr"]).set_index("trial")
    assert early.loc[1, "whole"] and early.loc[1, "trained"] == "diverged at 6 of 30", \
        "diverged at an early rung is final too: the charts draw it"
    assert board.loc[2, "trained"] == "10 of 30" and board.loc[0, "trained"] == "all 30"


def test_what_mattered_says_what_its_shares_cannot_tell():
    """15 trials with one sgd among them gave 'opt' 44% without a word, and the
    conditional wd was left out of the chart unexplained."""
    from neurondash.ui.views.what_mattered import FEW_TRIALS, caveats_of

    base = Config(task="spiral", depth=2, width="16", steps=60, batch=32)
    search = SearchSpec(base, parse_ranges(["lr=loguniform(0.01,1)", "opt=choice(sgd,adamw)",
                                            "wd=loguniform(0.0001,0.3) if opt=adamw"]),
                        trials=12, seed=1)
    frame = run_search(search, SerialExecutor())
    sgd = frame[frame["opt"] == "sgd"]
    assert sgd["wd"].isna().all(), "an sgd trial drew no wd: none is shown"
    frame = frame[(frame["opt"] == "adamw") | (frame["trial"] == sgd["trial"].min())]
    said = caveats_of(search, frame, importance_frame(search, frame))
    assert len(frame) < FEW_TRIALS and said[0].startswith(f"{len(frame)} trials make these "
                                                         "shares rough")
    assert "Few whole trials tried opt=sgd in 1: opt's share rests on it." in said
    assert "wd is left out: it is drawn only if opt=adamw, and fANOVA compares settings " \
        "every trial has." in said


def test_the_plan_gives_lr_auto_its_numbers_and_each_method_its_name():
    """'lr=auto' was said nowhere in numbers; 'CMAES search' where the help says CMA-ES."""
    ranges = parse_ranges(["lr=auto", "opt=choice(sgd,adamw)"])
    plan = SearchSpec(Config(), ranges).plan()
    assert "lr=auto draws log-uniformly from each optimizer's range: sgd " \
        f"{LR_RANGES['sgd'][0]:g} to {LR_RANGES['sgd'][1]:g}, adamw " \
        f"{LR_RANGES['adamw'][0]:g} to {LR_RANGES['adamw'][1]:g}." in plan
    alone = SearchSpec(Config(opt="adam"), parse_ranges(["lr=auto"]), method="cmaes").plan()
    assert alone.startswith("CMA-ES search: ") and "adam 0.0001 to 0.03." in alone

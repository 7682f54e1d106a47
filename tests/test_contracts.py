"""Contracts every part inherits (issue 23): each registry entry and each setting is run
through the same checks, so a new activation, norm, optimizer, schedule, initializer, task
or setting is covered by adding it to its registry, with no test of its own.

1. Continuing k steps and then n - k more equals one run of n more, bit for bit; so does
   a run stopped on request and continued (1b).
2. Recording diagnostics or not trains the same numbers.
3. Export -> import (``read_run_file``) -> continue equals continuing the run in memory.
4. Every activation x norm passes the float64 finite-difference gradient check.
5. A diverged run stays diverged through every path (continue, stop, export, import).
6. Every setting moved off its default (within its own range) keeps contracts 1 and 2.

The parameter lists are built from the registries and from ``SETTINGS``, never by hand.
A layer that draws randomness outside the run's saved RNG streams (a naive dropout on
``np.random``), or a recorder that consumes the training's randomness, fails 1-3.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from neurondash import Config, Run, continue_training, train
from neurondash.config import (
    CHAR_TASKS,
    POINT_TASKS,
    SETTINGS,
    ConfigError,
    Setting,
    applies_to_task,
)
from neurondash.cost import estimate_seconds
from neurondash.data import load_dataset
from neurondash.engine.gradcheck import check_gradients
from neurondash.engine.model import build_model
from neurondash.parts.activations import ACTIVATIONS
from neurondash.parts.initializers import INITIALIZERS
from neurondash.parts.layers import NORMS
from neurondash.parts.optimizers import OPTIMIZERS, SCHEDULES
from neurondash.run import TABLES
from neurondash.runchecks import read_run_file
from neurondash.training import continues_exactly, longer_config

WORDS = tuple(a + b + c for a in "bdfgklmp" for b in "aeiou" for c in "lmnrst")
"""A small word list: a character task ('words') that trains in milliseconds."""

TASKS = CHAR_TASKS + POINT_TASKS
REGISTRIES: dict[str, tuple[str, ...]] = {
    "act": tuple(ACTIVATIONS), "norm": tuple(NORMS), "opt": tuple(OPTIMIZERS),
    "sched": tuple(SCHEDULES), "init": tuple(INITIALIZERS), "task": TASKS,
}
"""Each registry by the setting that picks from it."""

CHAR_BASE = Config(task="words", context=4, embed_dim=4, depth=2, width="6", batch=16,
                   steps=12, snap_every=4)
POINT_BASE = Config(task="spiral", points=200, depth=2, width="6", batch=16, steps=12,
                    snap_every=4)
BASES = (CHAR_BASE, POINT_BASE)
"""Tiny runs of each kind of task. Context 4 is a power of 2 and 4, so that fuse can take
a value other than 0."""

FIRST, REST = 4, 3
"""Contract 1 continues FIRST steps, then REST more: the first part ends on a snapshot
step (snap_every 4), so the parts make exactly the snapshots of one run."""


def words_for(config: Config) -> tuple[str, ...] | None:
    return WORDS if config.task == "words" else None


def base_for(task: str) -> Config:
    base = CHAR_BASE if task in CHAR_TASKS else POINT_BASE
    return base.replace(task=task)


def registry_cases() -> list:
    """Every entry of every registry, on each kind of task it can run on (a task on its
    own kind's base)."""
    cases = []
    for name, entries in REGISTRIES.items():
        for entry in entries:
            bases = [base_for(entry)] if name == "task" else BASES
            cases += [pytest.param(base.replace(**{name: entry}),
                                   id=f"{name}={entry}-{base.task}") for base in bases]
    return cases


REGISTRY_CASES = registry_cases()


# -- comparing runs ------------------------------------------------------------------


def same_value(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN (a float, or arrays of the same dtype and shape)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return (a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def assert_same_training(a: Run, b: Run, exact_running_stats: bool = True) -> None:
    """The numbers training produced: state, losses, learning rates, final metrics.

    BatchNorm folds its batch statistics into the running ones in blocks, flushed at every
    checkpoint; a run resumed at a step that is no snapshot of its Config flushed there
    too, so its running statistics (and the eval-mode metrics that use them) may differ
    in the last bits: ``exact_running_stats=False`` compares those to float32 precision.
    """
    assert a.config == b.config
    assert (a.steps_done, a.status, a.diverged_step) == (b.steps_done, b.status,
                                                         b.diverged_step)
    for key in ("step", "params", "optimizer", "rng", "buffers"):
        if key == "buffers" and not exact_running_stats:
            assert a.state[key].keys() == b.state[key].keys()
            for name, value in a.state[key].items():
                np.testing.assert_allclose(value, b.state[key][name], rtol=1e-5)
            continue
        assert same_value(a.state[key], b.state[key]), f"state[{key!r}] differs"
    for column in ("step", "loss", "lr"):
        assert same_value(a.history[column].to_numpy(), b.history[column].to_numpy()), column
    if exact_running_stats or not a.state["buffers"]:
        assert same_value(a.final, b.final), (a.final, b.final)
    else:
        assert a.final == pytest.approx(b.final, rel=1e-5, nan_ok=True)
    assert same_value(a.dead_units, b.dead_units)
    assert (a.baselines, a.vocab, a.words, a.matrix_names) == (b.baselines, b.vocab, b.words,
                                                               b.matrix_names)


def assert_same_run(a: Run, b: Run) -> None:
    """Bit for bit the same run: everything but the time it took."""
    assert_same_training(a, b)
    assert (a.message, a.diagnostic_examples) == (b.message, b.diagnostic_examples)
    for name in ("history", *TABLES):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True,
                                      obj=name)
    assert same_value(a.dead_maps, b.dead_maps), "dead maps"
    assert same_value(a.model_states, b.model_states), "weight copies"


def assert_same_snapshots_where_both_have_them(parts: Run, whole: Run) -> None:
    """A run continued from a step that is no snapshot of the longer Config has one extra
    snapshot there; every snapshot of the whole run is still the same (eval-mode numbers
    to float32 precision when BatchNorm's running statistics are involved)."""
    steps = set(whole.snapshot_steps)
    assert steps <= set(parts.snapshot_steps)
    for name in ("evals", *TABLES):
        if name == "evals" and parts.state["buffers"]:
            mine = parts.evals[parts.evals["step"].isin(set(whole.evals["step"]))]
            pd.testing.assert_frame_equal(mine.reset_index(drop=True), whole.evals,
                                          rtol=1e-5, obj=name)
            continue
        mine = getattr(parts, name)
        mine = mine[mine["step"].isin(steps)].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, getattr(whole, name), check_exact=True,
                                      check_categorical=False, obj=name)


# -- contract 1: continuing in parts is one run ----------------------------------------


def assert_continued_is_whole(continued: Run, whole: Run, resumed: list[Run]) -> None:
    """``continued`` (resumed from each run of ``resumed`` in turn) is the run ``whole``:
    entirely when each resumption was at a snapshot step of the longer Config, else in
    every number trained and every snapshot the whole run has."""
    if all(continues_exactly(run) for run in resumed):
        assert_same_run(continued, whole)
    else:
        assert_same_training(continued, whole, exact_running_stats=False)
        assert_same_snapshots_where_both_have_them(continued, whole)


def check_continue_in_parts(config: Config) -> None:
    words = words_for(config)
    base = train(config, words=words)
    assert base.status == "finished", base.message
    first = continue_training(base, FIRST)
    parts = continue_training(first, REST)
    whole = train(longer_config(config, config.total_steps + FIRST + REST), words=words)
    assert parts.config == whole.config
    assert_continued_is_whole(parts, whole, [base, first])


@pytest.mark.parametrize("config", REGISTRY_CASES)
def test_continuing_in_parts_is_one_run(config):
    check_continue_in_parts(config)


# -- contract 1b: stopped and continued is one run -------------------------------------


STOP_AT = 10
"""Contract 1b asks to stop at this step of a 150-step run with snapshots at 0, 100 and 150:
the engine stops where resuming is exact (a BatchNorm block or the update:data sums may
make it wait), which is off the snapshot grid."""


def check_stop_and_continue(config: Config) -> None:
    config = config.replace(steps=150, snap_every=100)
    words = words_for(config)
    stopped = _stopped_at(config, STOP_AT)
    done = stopped.steps_done
    assert stopped.status == "stopped" and STOP_AT <= done <= STOP_AT + 64, stopped.message
    assert f"Stopped at step {done:,} of 150" in stopped.message
    assert stopped.config == config.replace(until=done) and continues_exactly(stopped)
    # The stopped run is the run of its first `done` steps: its link trains it again.
    assert_same_run(dataclasses.replace(stopped, status="finished", message=""),
                    train(stopped.config, words=words))
    whole = train(config, words=words)
    assert_same_run(continue_training(stopped, 150 - done), whole)
    assert_same_run(continue_training(read_run_file(stopped.to_json()), 150 - done), whole)


STRIDE_ONE_CASES = [pytest.param(base.replace(batch=1024, width="64", norm=norm),
                                 id=f"stride1-{norm}-{base.task}")
                    for base in BASES for norm in NORMS]
"""Wide enough for update:data to be measured every step (its sums carried across steps)."""


@pytest.mark.parametrize("config", REGISTRY_CASES + STRIDE_ONE_CASES)
def test_stopping_and_continuing_is_one_run(config):
    check_stop_and_continue(config)


# -- contract 2: recording does not change training ------------------------------------


def check_recording_changes_nothing(config: Config) -> None:
    words = words_for(config)
    recorded = train(config, words=words)
    bare = train(config, record=False, words=words)
    assert_same_training(recorded, bare)
    pd.testing.assert_frame_equal(recorded.evals, bare.evals, check_exact=True)
    assert len(recorded.layers) and not len(bare.layers), "the bare run measured nothing"


@pytest.mark.parametrize("config", REGISTRY_CASES)
def test_recording_changes_nothing(config):
    check_recording_changes_nothing(config)


# -- contract 3: export, import, continue ----------------------------------------------


@pytest.mark.parametrize("config", REGISTRY_CASES)
def test_an_exported_run_continues_as_in_memory(config):
    run = train(config, words=words_for(config))
    text = run.to_json()
    imported = read_run_file(text)
    assert_same_run(imported, run)
    assert imported.to_json() == text
    assert_same_run(continue_training(imported, FIRST), continue_training(run, FIRST))


# -- contract 4: gradients --------------------------------------------------------------


GRADIENT_BASES = (CHAR_BASE, CHAR_BASE.replace(fuse=2), POINT_BASE)


@pytest.mark.parametrize("base", GRADIENT_BASES,
                         ids=lambda c: f"{c.task}-fuse{c.fuse}" if c.is_char_task else c.task)
@pytest.mark.parametrize("norm", tuple(NORMS))
@pytest.mark.parametrize("act", tuple(ACTIVATIONS))
def test_float64_gradients_agree_with_finite_differences(act, norm, base):
    config = base.replace(act=act, norm=norm, out_scale=1.0, bias_init=0.5)
    data = load_dataset(config, words_for(config))
    model = build_model(config, data.n_inputs, data.n_classes, np.random.default_rng(0),
                        np.float64)
    table = check_gradients(model, data.x["train"][:16], data.y["train"][:16], entries=6)
    assert table["agrees"].all(), table[~table["agrees"]].to_string()


# -- contract 5: a diverged run stays diverged -----------------------------------------


DIVERGING = dict(init_scale=100.0, out_scale=10.0, lr=10.0, wd=1.0, sched="constant",
                 steps=45, snap_every=8)
"""Weight decay 1 at learning rate 10 multiplies every weight matrix by -9 a step, so the
weights overflow float32 by step ~38 whatever the activation and norm (unbounded ones
diverge far sooner); a diverged run stops there, so the 45 steps cost little."""


DIVERGING_CASES = [
    pytest.param(BASES[(i + j) % 2].replace(act=act, norm=norm, **DIVERGING),
                 id=f"{act}-{norm}-{BASES[(i + j) % 2].task}")
    for i, act in enumerate(ACTIVATIONS) for j, norm in enumerate(NORMS)]
"""Every activation x norm once, the kind of task alternating so that each activation and
each norm diverges on both."""


@pytest.mark.parametrize("config", DIVERGING_CASES)
def test_a_diverged_run_stays_diverged(config):
    words = words_for(config)
    run = train(config, words=words)
    assert run.status == "diverged", "the recipe must diverge for every activation and norm"
    step = run.diverged_step
    assert 2 <= step < config.steps and f"diverged at step {step}" in run.message
    assert run.final == {} and run.dead_units is None
    assert not np.isfinite(run.history["loss"].iloc[-1]) or not np.isfinite(
        run.state["params"]).all()
    with pytest.raises(ValueError, match="diverged"):
        continue_training(run, FIRST)

    # Export and import keep it diverged, non-finite numbers and all.
    text = run.to_json()
    imported = read_run_file(text)
    assert_same_run(imported, run)
    assert imported.to_json() == text
    with pytest.raises(ValueError, match="diverged"):
        continue_training(imported, FIRST)

    # Without recording it diverges at the same step with the same weights.
    bare = train(config, record=False, words=words)
    assert (bare.status, bare.diverged_step) == ("diverged", step)
    assert same_value(bare.state["params"], run.state["params"])

    # Trained to an earlier end and continued past it, or stopped before the divergence
    # and continued (in memory, then via a file): the same divergence at the same step.
    stop = step // 2
    longer = continue_training(train(config.replace(steps=stop), words=words),
                               config.steps - stop)
    assert (longer.status, longer.diverged_step) == ("diverged", step)
    assert_same_run(longer, train(longer.config, words=words))
    stopped = _stopped_at(config, stop)
    assert stopped.status == "stopped" and stop <= stopped.steps_done < step
    rest = config.steps - stopped.steps_done
    assert_continued_is_whole(continue_training(stopped, rest), run, [stopped])
    resumed = read_run_file(stopped.to_json())
    assert_continued_is_whole(continue_training(resumed, rest), run, [resumed])


def _stopped_at(config: Config, step: int) -> Run:
    seen = []
    return train(config, words=words_for(config), on_progress=seen.append,
                 should_stop=lambda: seen[-1].step >= step)


# -- contract 6: every setting, moved off its default ----------------------------------


COST_FACTOR = 3.0
"""A setting's changed value may make the tiny run at most this many times as costly
(``cost.estimate_seconds``): the high end of steps or width would not be tiny."""


def candidates(setting: Setting) -> list[Any]:
    """Values of the setting's own range or choices, in the order tried: the second
    choice (then the others), or the high end, the low end, then the integers above the
    default."""
    if setting.multi:
        return [",".join(setting.choices), *setting.choices]
    if setting.choices:
        return [*setting.choices[1:], setting.choices[0]]
    high, low = setting.high, setting.low
    if setting.kind is float:
        middle = math.sqrt(high * low) if setting.log and low > 0 else (high + low) / 2
        return [high, low, middle]
    ints = [int(high), int(low), *range(int(setting.default) + 1,
                                        min(int(high), int(setting.default) + 64))]
    return [str(v) for v in ints] if setting.kind is str else ints


def changed_config(setting: Setting) -> Config:
    """The first tiny base the setting applies to, with the setting changed to the first
    candidate that is not its default nor the base's value, makes a valid Config and keeps
    the run tiny."""
    base = next(b for b in BASES if applies_to_task(setting.name, b.task))
    budget = COST_FACTOR * estimate_seconds(base, words_for(base))
    for value in candidates(setting):
        if value in (setting.default, getattr(base, setting.name)):
            continue
        try:
            config = base.replace(**{setting.name: value})
        except ConfigError:
            continue
        if estimate_seconds(config, words_for(config)) <= budget:
            return config
    raise AssertionError(f"no value of {setting.name} other than its default fits a tiny run")


SETTING_CASES = [pytest.param(setting, id=setting.name) for setting in SETTINGS]


@pytest.mark.parametrize("setting", SETTING_CASES)
def test_every_setting_off_its_default_keeps_contracts_1_and_2(setting):
    config = changed_config(setting)
    assert getattr(config, setting.name) != setting.default
    check_continue_in_parts(config)
    check_recording_changes_nothing(config)


# -- the registries are what the settings offer, and the checks can fail ----------------


def test_every_registry_is_the_choices_of_its_setting():
    """So that an entry added to a registry is offered, and so covered above."""
    from neurondash.config import SETTINGS_BY_NAME

    for name, entries in REGISTRIES.items():
        assert SETTINGS_BY_NAME[name].choices == entries, name


def test_the_comparisons_see_a_one_bit_difference():
    run = train(POINT_BASE)
    other = Run.from_json(run.to_json())
    other.state["params"][0] = np.nextafter(other.state["params"][0], np.float32(np.inf))
    with pytest.raises(AssertionError, match="params"):
        assert_same_training(other, run)
    other = Run.from_json(run.to_json())
    other.history.loc[len(other.history) - 1, "loss"] += 1e-12
    with pytest.raises(AssertionError, match="loss"):
        assert_same_training(other, run)

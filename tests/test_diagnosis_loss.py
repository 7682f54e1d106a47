"""The loss over time: a later jump, on histories built to have one (or none) at a known
step; a validation loss that turns up while a run trains."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash import Config, Run, train
from neurondash.diagnosis import diagnose
from neurondash.diagnosis.loss import (
    JUMP_MEDIAN,
    JUMP_NOISE,
    RISE,
    SPIKE_LESSONS,
    SPIKE_NATS,
    later_jump,
    loss_rise,
)

History = dataclasses.make_dataclass("History", ["history"])


def _run(losses: np.ndarray) -> History:
    return History(pd.DataFrame({"step": np.arange(len(losses)), "loss": losses}))


def _noisy(steps: int, noise: float, seed: int) -> np.ndarray:
    """A loss falling from 3.3 to 2 with independent step-to-step noise."""
    rng = np.random.default_rng(seed)
    return 2 + 1.3 * np.exp(-np.arange(steps) / (steps / 8)) + noise * rng.standard_normal(steps)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(400, 4000), st.floats(0.01, 0.5), st.integers(0, 2**32 - 1))
def test_noise_alone_is_no_jump(steps, noise, seed):
    assert later_jump(_run(_noisy(steps, noise, seed))) is None


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(400, 4000), st.floats(0.01, 0.2), st.integers(0, 2**32 - 1),
       st.floats(0.2, 0.55), st.floats(1.5, 5.0), st.integers(JUMP_MEDIAN, 60))
def test_a_planted_jump_is_found_where_it_is_and_back_where_it_came_back(
        steps, noise, seed, where, times, lasting):
    """A block of ``lasting`` steps raised by ``times`` the threshold is named at that block,
    and the loss is back by the end of it. The block ends before the last quarter, where the
    late noise is measured: a jump inside it raises the noise it is judged against (a known
    limit of the rule; hypothesis found a 1.5x jump at 86% of 400 steps unnamed). At least
    1.5x: over 100 late steps the noise estimate itself is off by up to ~20%."""
    losses = _noisy(steps, noise, seed)
    start = int(steps * where)
    rise = times * max(SPIKE_NATS, JUMP_NOISE * noise)
    losses[start:start + lasting] += rise
    jump = later_jump(_run(losses))
    assert jump is not None
    assert start <= jump.step < start + lasting
    assert jump.peak - jump.start >= max(SPIKE_NATS, JUMP_NOISE * jump.noise)
    assert jump.back is not None and jump.step < jump.back <= start + lasting + JUMP_MEDIAN


def test_a_loss_that_never_comes_back_says_so():
    losses = _noisy(2000, 0.05, 3)
    losses[1500:] += 3.0
    jump = later_jump(_run(losses))
    assert jump is not None and jump.back is None


def test_a_live_run_whose_validation_loss_climbs_is_told_so_not_called_healthy():
    """The overfitting spiral, diagnosed at each of its snapshots while training: once the
    validation loss has risen past ``RISE`` above its lowest checkpoint (and the training
    loss has not risen) the page says so; before that, it does not."""
    config, _ = Config.from_query("task=spiral&points=100&noise=0.5&depth=3&width=64&steps=3000")
    live: list[Run] = []
    train(config, on_snapshot=lambda build: live.append(build()))
    told = {}
    for run in live:
        assert run.status == "running"
        evals = run.evals["val_loss"]
        rose = len(evals) >= 2 and evals.iloc[-1] - evals.min() > RISE
        turned = [f for f in diagnose(run) if f.lesson == "Overfitting"]
        told[run.steps_done] = bool(turned)
        if turned:
            assert turned[0].text.startswith("So far: validation loss was lowest")
            assert rose
        elif rose:
            assert loss_rise(run, validation=False) > RISE
    assert any(told.values()) and not all(told.values()), told
    assert "Overfitting" in {f.lesson for f in diagnose(train(config))}


def test_a_spike_in_a_run_that_recovered_is_a_note_without_advice():
    """The default spiral spikes early (0.71 to 1.57 at step 136) and still ends at a tenth
    of the uniform guess on both splits: lowering lr as a spike's advice says smooths the
    curve and ends higher, so the spike is told as a note, not a warning with a fix."""
    run = train(Config(task="spiral"))
    spikes = [f for f in diagnose(run) if f.lesson == "Early loss spike"]
    assert len(spikes) == 1 and spikes[0].level == "info" and not spikes[0].change
    assert "this cost at most steps, not the result" in spikes[0].text
    lowered = train(Config(task="spiral", lr=Config().lr / 3))
    assert lowered.final["val_loss"] > run.final["val_loss"]


@pytest.mark.parametrize("lr", [0.3, 1.0])
def test_a_run_that_fit_its_task_is_not_told_to_change_what_it_fit_with(lr):
    """A search's best moons run (tanh, init_scale 2.131, val loss 0.0025) was warned of
    57% saturation at init and told to lower init_scale to 1, which ends higher: a run
    below a tenth of the uniform guess on both splits gets notes, no warning or advice."""
    config = Config(task="moons", depth=2, width=16, init_scale=2.131, lr=lr, steps=300)
    run = train(config)
    found = diagnose(run)
    saturated = [f for f in found if f.lesson == "Saturated activations"]
    assert len(saturated) == 1 and saturated[0].level == "info" and not saturated[0].change
    assert not [f for f in found if f.level in ("warning", "error") or f.change]
    assert found[-1].lesson == "Healthy"
    advised = train(dataclasses.replace(config, init_scale=1.0))  # what the warning used to advise
    assert advised.final["val_loss"] > run.final["val_loss"]


def test_a_lucky_first_batch_is_no_start_for_a_spike_and_the_logits_advice_reaches_uniform():
    """Lesson 1 (unit-normal weights): batch losses at init scatter by nats, its first batch
    (19.4) lay far below the initial loss (24.7), and a later batch still below that was
    named an early spike. The rise is measured from the initial loss there; the advice's
    out_scale brings the initial loss to the uniform guess's."""
    from neurondash.presets import PRESETS_BY_SLUG

    run = train(PRESETS_BY_SLUG["confident-logits"].config)
    losses = run.history["loss"].to_numpy()
    early = losses[:len(losses) // 10]
    late = losses[3 * len(losses) // 4:]
    assert early.max() - early[0] > 0.5 + 5 * np.std(np.diff(late)) / np.sqrt(2), \
        "measured from the first batch, this would be a spike"
    assert early.max() < run.initial_loss
    found = {f.lesson: f for f in diagnose(run)}
    assert SPIKE_LESSONS[0] not in found
    advice = found["Confidently wrong logits at init"]
    assert advice.change == {"out_scale": 0.01}
    fixed = train(run.config.replace(**advice.change, steps=20))
    assert abs(fixed.initial_loss - fixed.expected_initial_loss) < 0.05

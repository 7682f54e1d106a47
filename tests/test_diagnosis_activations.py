"""The diagnosis speaks each activation's own words, read from its record: looping over the
registry, so a new activation is covered without a new line here or in the diagnosis. The
layers are flooded by hand (a real run's table with every unit marked saturated) so each
activation's wording is checked on the same evidence."""

from __future__ import annotations

import dataclasses
import re

import pytest

from neurondash import Config, train
from neurondash.diagnosis import diagnose
from neurondash.parts.activations import ACTIVATIONS

WITH_RULE = [name for name, act in ACTIVATIONS.items() if act.saturated is not None]


def flooded(name: str, dead: dict[str, int] | None = None):
    """A short run of ``name`` whose layers all read 95% saturated at every snapshot."""
    run = train(Config(act=name, depth=2, width="8", steps=40))
    return dataclasses.replace(run, layers=run.layers.assign(saturated_pct=95.0),
                               dead_units=dead if dead is not None else run.dead_units)


def other_names(name: str, text: str) -> list[str]:
    return [other for other in ACTIVATIONS if other != name
            and re.search(rf"(?<![a-z_]){other}(?![a-z_])", text)]


def test_every_activation_with_a_rule_has_its_words_and_limits():
    for name in WITH_RULE:
        act = ACTIVATIONS[name]
        assert act.flat_words and act.saturation_lesson and act.dead_lesson, name
        at_init, after, costly = act.saturation_limits
        assert 0 < at_init <= after <= costly < 100, name


@pytest.mark.parametrize("name", WITH_RULE)
def test_saturation_is_named_in_the_activations_own_terms(name):
    act = ACTIVATIONS[name]
    findings = diagnose(flooded(name))
    (found,) = [f for f in findings if f.lesson == act.saturation_lesson]
    assert act.flat_words in found.text and f"{name} outputs" in found.text
    assert found.layers and found.layers[0] in found.text
    assert not other_names(name, " ".join(f.text for f in findings))
    if act.saturation_label != "saturated":  # ReLU-like: inactive, never "saturated"
        assert "saturated" not in found.text.lower() and "saturated" not in found.lesson.lower()


@pytest.mark.parametrize("name", WITH_RULE)
def test_dead_units_are_named_by_layer_in_the_activations_terms(name):
    act = ACTIVATIONS[name]
    (dead,) = [f for f in diagnose(flooded(name, {"hidden 1": 0, "hidden 2": 3}))
               if f.lesson == act.dead_lesson]
    assert "(hidden 2: 3)" in dead.text and dead.layers == ("hidden 2",)
    assert f"are {act.saturation_label} for every example" in dead.text
    # Another activation is named only as the one advised, never the one in use.
    assert set(other_names(name, dead.text)) <= {dead.change.get("act")}
    assert dead.change.get("act") != name


def test_an_activation_without_a_rule_is_never_called_saturated():
    findings = diagnose(flooded("identity"))
    assert not [f for f in findings if "aturat" in f.lesson or "nactive" in f.lesson]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_the_zero_init_finding_says_what_the_activation_does_at_zero(name):
    """'only biases learn' was said for sigmoid, whose weights move (equally for every
    unit), and for a net with no hidden layer, which zero init does not hurt."""
    import numpy as np

    config = Config(task="moons", init="zero", act=name, steps=200)
    run = train(config)
    [finding] = [f for f in diagnose(run) if f.lesson == "All-zero init: symmetry"]
    # All-equal weights make update:data meaningless: no verdict on the rate from it.
    assert "Large but steady updates" not in [f.lesson for f in diagnose(run)]
    largest = run.weights[run.weights["step"] == run.steps_done]["weight_std"].max()
    if float(ACTIVATIONS[name].forward(np.zeros(1))[0]) == 0:
        assert largest == 0 and "only the output biases learn" in finding.text
    else:
        assert largest > 0 and "the weights move but the units of a layer" in finding.text
    assert f"a weight matrix is {largest:.2g};" in finding.text
    flat = train(config.replace(depth=0))
    assert not [f for f in diagnose(flat) if f.lesson == "All-zero init: symmetry"]


def _val_or_inf(run) -> float:
    return float("inf") if run.status == "diverged" else run.final["val_loss"]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_advice_to_raise_a_tiny_init_trains_better_when_applied_at_a_high_lr(name):
    """lr 2.3 trained a tiny init (0.07) because such weights pass back tiny gradients;
    "Raise init_scale to 1" alone then diverged for leaky_relu, GELU, SiLU, ELU and
    identity, and ended worse for tanh. The advice lowers lr too where the rate is too high
    at full scale for the activation's slope (not for sigmoid's shallow one, which keeps
    it and trains better), and applying it trains to a lower validation loss."""
    config = Config(act=name, init_scale=0.07, lr=2.3)
    run = train(config)
    raised = [f for f in diagnose(run) if f.change.get("init_scale", 0) > config.init_scale]
    assert raised, "a tiny init gets advice to raise it"
    change = raised[0].change
    assert ("lr" in change) == (name != "sigmoid"), change
    if "lr" in change:
        assert change["lr"] < config.lr and f"lower lr to {change['lr']:g}" in raised[0].text
    assert _val_or_inf(train(config.replace(**change))) < _val_or_inf(run)


def test_a_live_runs_diagnosis_says_the_step_it_has_reached_not_after_training():
    """A walker watching a run live read "54% of hidden 2's ... after training" mid-run:
    the last snapshot is the step the training has reached so far."""
    live = []
    train(Config.from_query("act=gelu&norm=batch&init_scale=37&opt=momentum&lr=0.7")[0],
          on_snapshot=lambda build: live.append(build()))
    midway = live[10]
    assert midway.status == "running"
    texts = " ".join(f.lesson + " " + f.text for f in diagnose(midway))
    assert f"at step {midway.snapshot_steps[-1]:,}, while training goes on" in texts
    assert "after training (" not in texts and "Inactive after training" not in texts


def test_a_stopped_runs_diagnosis_says_where_it_was_stopped_not_after_training():
    """A walker stopped a saturating tanh run at step 22,350 of 30,000 and read "77% of
    hidden 1's after training"."""
    config = Config.from_query("init_scale=3&steps=3000")[0]
    stops = iter([False] * 150 + [True] * 10_000)
    run = train(config, should_stop=lambda: next(stops))
    assert run.status == "stopped" and run.steps_done < 3000
    texts = " ".join(f.lesson + " " + f.text for f in diagnose(run))
    assert f"at step {run.snapshot_steps[-1]:,}, where training was stopped" in texts
    assert "'s after training" not in texts

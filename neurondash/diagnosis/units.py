"""Findings about hidden units, each naming its layer(s) and judged in the activation's own
terms (the ``Activation`` record's words and limits): saturated or inactive outputs at init
or after training, saturation that rose in one layer at a cost, dead units, activations
that collapse or shrink with depth, and gradients that vanish or explode toward the input."""

from __future__ import annotations

import math

import pandas as pd

from ..parts.activations import ACTIVATIONS
from ..run import Run
from .advice import adam_far_too_high, init_scale_advice, lr_advice
from .findings import Advice, Finding, counted, with_advice
from .loss import RISE, cut_drop, early_spike, loss_rise
from .rate import UPDATE_BANDS, lr_factor

COLLAPSED_STD = 0.1
SHRINK_RATIO = 1.6
"""First over last hidden layer's activation std at init from which the signal visibly
shrinks with depth: Kaiming's gain keeps 0.79 -> 0.65 (1.2x) over 5 tanh layers, gain 1
halves it (0.67 -> 0.32, 2.1x)."""
RISE_PCT = 20.0
"""Points by which one layer's saturated share must have grown in training to have risen."""
CUT_DROP = 0.15
"""Nats the training loss fell after the schedule's tenfold cut from which the rate before
the cut cost loss: healthy runs drop 0.03-0.10 (the cut's annealing); Adam at lr 0.01 on
the default net drops 0.23-0.26 and lr/3 ends 0.06 nats lower."""
LARGE_STEPS = 0.25
"""update:data this far above the optimizer's band blames the rate for a layer that
saturated in training without the loss showing it yet: Adam at lr 0.03 on a leaky-ReLU net
(-1.9; 98% on the leaky side) ends 0.13-0.17 nats above lr 0.01."""
VANISHING, EXPLODING = 0.1, 10.0
"""First over last hidden layer's gradient std at init beyond which gradients vanish or
explode toward the input."""


def _worst(rows: pd.DataFrame) -> pd.Series:
    return rows.loc[rows["saturated_pct"].idxmax()]


def saturation(run: Run, first: pd.DataFrame, last: pd.DataFrame, troubled: bool,
               level: float | None, rate_blamed: bool = False) -> Finding | None:
    """Outputs in the activation's flat region, judged by the worst layer: above the
    record's limit at init, or after training when the loss shows trouble (after training
    with a loss that fell to the end it is a note: trained units grow confident).
    ``rate_blamed``: a finding already advises a lower lr (``_saturation_advice``)."""
    act = ACTIVATIONS[run.config.act]
    if act.saturated is None or run.config.init == "zero":  # symmetry explains it
        return None
    at_init, after, _ = act.saturation_limits
    late = _late(run, last)
    over = [(when, rows, limit) for when, rows, limit in
            (("at init", first, at_init), (late, last, after))
            if rows["saturated_pct"].max() > limit]
    if not over:
        return None
    when, rows, limit = over[0]
    worst = _worst(rows)
    # The header quotes the most saturated layer at the step shown (the end, by default):
    # a share at init is followed by the end's when that is higher.
    end = _worst(last)
    later = (f", and {end['saturated_pct']:.0f}% of {end['layer']}'s {late}"
             if when == "at init" and end["saturated_pct"] >= worst["saturated_pct"] + 1
             else "")
    share = (f"{_above(worst['saturated_pct'], limit)}% of {worst['layer']}'s {act.name} "
             f"outputs are {act.flat_words} {when}")
    metric = "saturated_init" if when == "at init" else "saturated_end"
    if when == late and not troubled:
        running = run.status == "running"
        return Finding("info", f"{act.saturation_label.capitalize()} "
                       f"{'so far' if running else 'after training'}",
                       share + f" (above {limit:g}%), yet the loss "
                       f"{'has fallen so far' if running else 'fell to the end'}: trained "
                       "units grow confident, and those examples pass little gradient "
                       "through this layer. Harmless while the loss falls; compare the "
                       "Gradients tab if it stalls.", layers=(worst["layer"],))
    finding = Finding("warning", act.saturation_lesson,
                      share + f" (above this diagnosis's {limit:g}% for {act.name} "
                      f"{'at init' if when == 'at init' else 'after training'})"
                      f"{later}, where the local gradient is ~0: white in the dead-unit map.",
                      metric=metric, layers=(worst["layer"],))
    return with_advice(finding, _saturation_advice(run, level, when == "at init", rate_blamed))


def _late(run: Run, last: pd.DataFrame) -> str:
    """When the last snapshot was taken, in words: after training, while it goes on (a
    live page's diagnosis said "after training" mid-run), or where it was stopped."""
    if run.status not in ("running", "stopped") or not len(last):
        return "after training"
    step = int(last["step"].iloc[0])
    return (f"at step {step:,}, while training goes on" if run.status == "running"
            else f"at step {step:,}, where training was stopped")


def _above(share: float, limit: float) -> str:
    """A share over ``limit`` written so that it reads as over it: 80.4 beside a limit of
    80 is '80.4', not '80' (which read as 80% above 80%)."""
    for digits in range(4):
        if float(f"{share:.{digits}f}") > limit:
            return f"{share:.{digits}f}"
    return f"{share:g}"


def _saturation_advice(run: Run, level: float | None, at_init: bool,
                       rate_blamed: bool = False) -> Advice | None:
    """Lower the init scale (theory: chaotic), else the lr (when its steps are large), else
    normalize; never a setting already in use. Saturation that training brought under a
    far too high Adam rate, or under a rate another finding blames, is the rate's first
    (``at_init``: the init's, before any step): moons at lr 7.8 ended 98% saturated with
    tiny late updates and was offered BatchNorm (val 0.31) beside lr 0.8 (0.006)."""
    config = run.config
    rate_first = (adam_far_too_high(config) or rate_blamed) and not at_init
    advice = None if rate_first else init_scale_advice(run, "down")
    if advice is None and (rate_first or level is not None and level > -2.5):
        large = level is not None and level > -2.5
        advice = lr_advice(config, 1 / 3, " (its updates are large)" if large else "")
    if advice is None and config.norm == "none":
        advice = Advice("Try BatchNorm (norm batch): it rescales every layer's "
                        "pre-activations.", {"norm": "batch"})
    return advice


def rising_saturation(run: Run, first: pd.DataFrame, last: pd.DataFrame,
                      level: float | None) -> Finding | None:
    """A layer whose saturated share rose in training past the record's costly limit, when
    the loss shows the cost: it rose from its best, or fell steeply once the schedule cut
    the rate (what a lower rate reaches), or its steps are far too large. Advice: the lr the
    rate finding would give when the updates are large, else a third of it."""
    act = ACTIVATIONS[run.config.act]
    if act.saturated is None or not len(first) or not len(last):
        return None
    joined = last.merge(first[["layer", "saturated_pct"]], on="layer", suffixes=("", "_init"))
    risen = joined[(joined["saturated_pct"] > act.saturation_limits[2])
                   & (joined["saturated_pct"] - joined["saturated_pct_init"] >= RISE_PCT)]
    drop, rise = cut_drop(run), loss_rise(run)
    high = UPDATE_BANDS[run.config.opt][1] + LARGE_STEPS
    large = level is not None and level > high
    if not len(risen) or (drop <= CUT_DROP and rise <= RISE and not large):
        return None
    worst = _worst(risen)
    cost = (f"the loss fell {drop:.2f} nats once the schedule cut the rate tenfold"
            if drop > CUT_DROP else f"the loss ended {rise:.2f} above its best"
            if rise > RISE else f"its steps are large (update:data {level:.1f}, more than "
            f"{LARGE_STEPS:g} above {run.config.opt}'s band of "
            f"{UPDATE_BANDS[run.config.opt][0]:g} to {UPDATE_BANDS[run.config.opt][1]:g})")
    layers = tuple(risen.sort_values("saturated_pct", ascending=False)["layer"])
    named = " and ".join([", ".join(layers[:-1]), layers[-1]] if len(layers) > 1 else layers)
    finding = Finding("warning", f"{act.saturation_lesson} rising in training",
                      f"In {named} the share of {act.name} outputs "
                      f"{act.flat_words} rose during training, to {worst['saturated_pct']:.0f}% "
                      f"in {worst['layer']} (from {worst['saturated_pct_init']:.0f}% at init), "
                      f"and the rate is to blame: {cost}; a lower rate reaches further.",
                      metric="saturated_end", layers=layers)
    opt = run.config.opt
    factor = lr_factor(opt, level) if level is not None and level > UPDATE_BANDS[opt][1] \
        else 1 / 3
    return with_advice(finding, lr_advice(run.config, factor, ""))


def dead_units(run: Run, last: pd.DataFrame, level: float | None,
               high: float) -> Finding | None:
    """Units dead on the whole training split (or candidates on the sample, when the split
    was not counted), named by layer, with advice for their cause."""
    act = ACTIVATIONS[run.config.act]
    if run.config.init == "zero" or act.saturated is None:
        return None
    if run.dead_units is not None:
        counts = {layer: n for layer, n in run.dead_units.items() if n}
        if not counts:
            return None
        where = ", ".join(f"{layer}: {n}" for layer, n in
                          sorted(counts.items(), key=lambda item: -item[1]))
        finding = Finding("warning", act.dead_lesson,
                          f"{counted(sum(counts.values()), 'hidden unit')} "
                          f"{act.saturation_label} for every example of the training split "
                          f"{_late(run, last)} ({where}): a dead unit passes no gradient and no "
                          "longer learns (white columns in the dead-unit map).",
                          metric="dead_units",
                          layers=tuple(sorted(counts, key=lambda k: -counts[k])))
        return with_advice(finding, _dead_advice(run, level, high))
    candidates = last[last["dead_units"] > 0]
    if not len(candidates):
        return None
    where = ", ".join(f"{row.layer}: {row.dead_units}" for row in candidates.itertuples())
    count = int(candidates["dead_units"].sum())
    return Finding("info", "Possibly dead units",
                   f"{counted(count, 'hidden unit')} "
                   f"{act.saturation_label} on all {run.sample_name} of the last snapshot "
                   f"({where}); "
                   f"whether {'it is' if count == 1 else 'they are'} dead on the whole training "
                   "split was not counted for "
                   "this run.", layers=tuple(candidates["layer"]))


def _dead_advice(run: Run, level: float | None, high: float) -> Advice | None:
    """The cause's knob: large initial biases, steps too large, an init scale theory calls
    ordered or chaotic; else an activation that keeps a gradient everywhere (ReLU only)."""
    config = run.config
    if config.bias_init > 1:
        return Advice(f"bias_init {config.bias_init:g} pushes whole units off; start the "
                      "biases at 0.", {"bias_init": 0.0})
    dies_of_large_inputs = ACTIVATIONS[config.act].dies_of_large_inputs
    # Pushed into a flat tail by a chaotic init before any step (tanh at init_scale 30:
    # 97% saturated at init), the init is the cause: a lower lr left 14 dead units at 1.
    if adam_far_too_high(config):
        return lr_advice(config, 1 / 3, " (its steps throw units off)")
    chaotic = init_scale_advice(run, "down") if dies_of_large_inputs else None
    if chaotic is not None:
        return chaotic
    if level is not None and level > high:
        return lr_advice(config, 1 / 3, " (its steps are large enough to throw units off)")
    if early_spike(run) is not None:
        return lr_advice(config, 1 / 3, " (its first steps overshot, throwing units off: the "
                         "early loss spike)")
    if dies_of_large_inputs:
        return Advice(f"BatchNorm (norm batch) keeps every layer's pre-activations near unit "
                      f"scale, out of {config.act}'s flat tails.", {"norm": "batch"}) \
            if config.norm == "none" else None
    advice = init_scale_advice(run, "up") or init_scale_advice(run, "down")
    if advice is None and config.act == "relu":
        advice = Advice("leaky_relu keeps a small gradient where ReLU has none.",
                        {"act": "leaky_relu"})
    return advice


def signal(run: Run, first: pd.DataFrame) -> list[Finding]:
    """Activations that collapse or shrink with depth at init, and gradients that vanish or
    explode toward the input, with theory's advice on the init scale."""
    found = []
    if run.config.init == "zero" or len(first) < 2:
        return found
    stds = first["act_std"].to_numpy()
    names = tuple(first["layer"])
    if stds[-1] < COLLAPSED_STD and stds[0] > stds[-1]:
        found.append(with_advice(Finding(
            "warning", "Collapsing activations",
            f"The activations of {names[-1]} have std {_std(stds[-1])} at init ({names[0]}: "
            f"{stds[0]:.2f}; Activations tab at step 0): the signal shrinks layer by layer "
            "and gradients vanish toward the input. init_scale is too small.",
            metric="std_ratio", layers=(names[-1],)), init_scale_advice(run, "up")))
    elif len(stds) > 2 and stds[0] > SHRINK_RATIO * stds[-1]:
        found.append(with_advice(Finding(
            "info", "Activations shrink with depth",
            f"At init the activation std falls from {stds[0]:.2f} in {names[0]} to "
            f"{stds[-1]:.2f} in {names[-1]}: each layer passes on a weaker signal. Not "
            "collapsed yet, but deeper stacks would be.", metric="std_ratio",
            layers=(names[-1],)), init_scale_advice(run, "up")))
    grads = first["grad_std"].to_numpy()
    if grads[-1] > 0:
        ratio = grads[0] / grads[-1]
        measured = (f"At init {names[0]} gets {_times(ratio)}x the gradient of {names[-1]} "
                    f"(std {grads[0]:.2g} against {grads[-1]:.2g}; Gradients tab at step 0)")
        if ratio < VANISHING:
            found.append(with_advice(Finding(
                "warning", "Vanishing gradients", measured + _what_it_does(run, first, names),
                metric="grad_ratio", layers=(names[0],)), init_scale_advice(run, "up")))
        elif ratio > EXPLODING:
            found.append(with_advice(Finding(
                "warning", "Exploding gradients", measured + ".", metric="grad_ratio",
                layers=(names[0],)), init_scale_advice(run, "down")))
    return found


def _std(value: float) -> str:
    """A std to three decimals, or to two significant digits below 0.001 ('std 0.000' hid
    a 2.8e-4)."""
    return f"{value:.3f}" if value >= 0.001 else f"{value:.2g}"


def _times(ratio: float) -> str:
    """A factor as words read it: 650 and 1,000, not 6.5e+02 and 1e+03."""
    if ratio >= 10:
        return f"{ratio:,.0f}"
    return f"{ratio:.2g}" if ratio >= 0.01 else f"{ratio:.1e}"


def _what_it_does(run: Run, first: pd.DataFrame, names: tuple[str, ...]) -> str:
    """What a vanishing gradient does to the first layer's learning, by its weights'
    grad:data against the last layer's. Where the activations shrink by as much on the way
    up (a small init of ReLU, or of tanh near 0 where it is linear), the first layer's
    larger inputs make up for its smaller gradient: its weights are not left behind the
    later ones, and what holds them all back is the small scale of the whole signal."""
    hidden = run.matrix_names[1 if run.config.is_char_task else 0:-1]
    step = int(first["step"].iloc[0])
    rows = run.weights[run.weights["step"] == step]
    by = dict(zip(rows["param"], rows["grad_data"], strict=True))
    low, high = (by.get(hidden[0], math.nan), by.get(hidden[-1], math.nan)) if hidden \
        else (math.nan, math.nan)
    if not (math.isfinite(low) and math.isfinite(high) and high > 0):
        return ": early layers barely learn."
    said = f"its weights' grad:data is {low:.2g} against {names[-1]}'s {high:.2g}"
    if low / high < VANISHING:
        return f"; {said}: early layers barely learn."
    return (f". Its inputs are larger by about as much, so {said}: the early layers are "
            "not left behind the later ones; what holds every layer back is the scale of "
            "the signal, which shrinks layer by layer.")

"""Plain-words diagnosis of a Run: what looks wrong, which way to turn which knob, and the
Config change that does it (thresholds: docs/DESIGN.md). Each concept is a module: the loss
curves (``loss``), hidden units (``units``), the learning rate (``rate``), theory's advice
on the init scale (``advice``) and the number each finding is about (``numbers``); the
activation-specific words and limits are on the ``Activation`` records."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..engine.lr_finder import LRFinderResult
from ..features import FEATURES
from ..parts.activations import ACTIVATIONS
from ..run import Run
from .advice import FAR_INIT, init_scale_advice
from .findings import LEVELS, Advice, Finding, one_lr, said_once, with_advice
from .loss import (
    MIN_STEPS_FOR_BASELINE,
    RISE,
    STILL_FALLING,
    generalisation,
    loss_rise,
    settled,
    spike_findings,
)
from .rate import MIN_STEPS_FOR_LR, UPDATE_BANDS, divergence, learning_rate
from .units import COLLAPSED_STD, SHRINK_RATIO, dead_units, rising_saturation, saturation, signal

__all__ = ["LEVELS", "Advice", "Finding", "diagnose", "COLLAPSED_STD", "SHRINK_RATIO",
           "STILL_FALLING", "MIN_STEPS_FOR_BASELINE", "SATURATION_PCT",
           "TRAINED_SATURATION_PCT"]

SATURATION_PCT, TRAINED_SATURATION_PCT, _ = ACTIVATIONS["tanh"].saturation_limits
"""tanh's limits (the record holds every activation's): its worst layer above 35% saturated
at init, or 55% after training with a loss in trouble. Calibrated on the lectures' numbers:
a Kaiming stack has 5-20% per layer and its first layer, fed unit-normal embeddings,
~26-29%; gain 3 gives 40-48%; Adam on makemore's MLP ends with 40% in one layer at a
validation loss as good as SGD's; lr 1 ends at 69-78%."""
LOGITS_NOTE = 0.25
"""Nats above the uniform guess at init worth a note (below the warning's 1 nat)."""
TROUBLE = frozenset({"Worse than a uniform guess", "Stuck at the uniform guess",
                     "Stuck at the unigram baseline"})
"""Findings by which the loss curve itself shows trouble."""
def diagnose(run: Run, finder: LRFinderResult | None = None) -> list[Finding]:
    """Findings in order of importance; an all-clear finding when nothing is wrong.
    ``finder`` is an LR finder's result for the run's settings (any lr), when there is one
    (one whose loss was lowest at the top of its range names no rate: left out)."""
    if finder is not None and finder.minimum_at_top:
        finder = None
    config, found = run.config, []
    if run.status == "diverged":
        found.append(divergence(run, finder))
    found += _at_init(run) + _notes(run) + generalisation(run, finder)
    found += spike_findings(run, finder)
    # Whether the training loss itself shows trouble: findings read off the diagnostics
    # after training must agree with it (validation loss rising alone is overfitting).
    troubled = (loss_rise(run, validation=False) > RISE or run.status == "diverged"
                or bool(TROUBLE & {f.lesson for f in found}))
    level = run.typical_update_data(MIN_STEPS_FOR_LR)
    layers = run.layers
    if len(layers):
        first = layers[layers["step"] == 0]
        last = layers[layers["step"] == layers["step"].max()]
        blamed = any(set(f.change) == {"lr"} and f.change["lr"] < config.lr for f in found)
        saturated = saturation(run, first, last, troubled, level, blamed)
        # A loss that falls after the cut while validation rises is memorising, not a cost.
        overfit = "Overfitting" in {f.lesson for f in found}
        if (saturated is None or saturated.level == "info") and not overfit:
            saturated = rising_saturation(run, first, last, level) or saturated
        found += [f for f in (saturated,) if f is not None]
        found += signal(run, first)
        if config.norm != "none" and not FAR_INIT[0] < config.init_scale < FAR_INIT[1] \
                and (saturated is None or saturated.level == "info"):
            found += [f for f in (_rescue(run, first, level),) if f is not None]
        dead = dead_units(run, last, level, UPDATE_BANDS[config.opt][1])
        found += [dead] if dead is not None else []
    rate = learning_rate(run, level, found, troubled, finder)
    found += [rate] if rate is not None else []
    found = settled(run, found)
    if not any(finding.level in ("warning", "error") for finding in found):
        found.append(_all_clear(run, level, found))
    return said_once(one_lr(sorted(found, key=lambda finding: LEVELS.index(finding.level))))


LOGIT_STD_AT_INIT = 0.2
"""A logit std at init that costs almost nothing over a uniform guess (Kaiming's tanh net
at out_scale 0.3: 0.19, initial loss 3.29 against ln 27 = 3.30)."""


def _smaller_out_scale(run: Run) -> dict:
    """The out_scale (a power of ten, at most 0.1) that brings the logits' std at init down
    to about ``LOGIT_STD_AT_INIT``: 0.01 for the lecture's unit-normal net (std 13), 0.1
    where it is 2 or less; none when out_scale is 0.1 or less already."""
    config = run.config
    if config.out_scale <= 0.1:
        return {}
    std = float(run.logits["std"].iloc[0]) if len(run.logits) else math.nan
    if not (math.isfinite(std) and std > 0):
        return {"out_scale": 0.1}
    wanted = config.out_scale * LOGIT_STD_AT_INIT / std
    return {"out_scale": min(0.1, 10.0 ** max(-3, math.floor(math.log10(wanted))))}


def _at_init(run: Run) -> list[Finding]:
    """The logits at init and the all-zero init."""
    config, found = run.config, []
    expected = run.expected_initial_loss
    smaller = _smaller_out_scale(run)
    if run.initial_loss > expected + max(1.0, 0.3 * expected):
        wrong = Finding("warning", "Confidently wrong logits at init",
                        f"The initial loss is {run.initial_loss:.2f}, far above the "
                        f"{expected:.2f} of a uniform guess: the output layer starts with "
                        "large, confident logits"
                        + ("." if run.status == "diverged" else " and the first steps "
                           "only squash them (the hockey-stick curve)."),
                        metric="initial_loss")
        # Without a smaller out_scale the hidden layers blew the logits up: a chaotic init.
        found.append(with_advice(wrong, Advice(f"Try out_scale {smaller['out_scale']:g}.",
                                               smaller) if smaller
                                 else init_scale_advice(run, "down")))
    elif run.initial_loss > expected + LOGITS_NOTE:
        found.append(Finding("info", "Somewhat confident logits at init",
                             f"The initial loss is {run.initial_loss:.2f}, "
                             f"{run.initial_loss - expected:.2f} above the {expected:.2f} of a "
                             "uniform guess: the first steps partly go to shrinking the "
                             "logits. A smaller out_scale starts nearer the uniform guess.",
                             change=smaller, metric="initial_loss"))
    unnormalized = _unnormalized_validation(run)
    if unnormalized is not None:
        found.append(unnormalized)
    if config.init == "zero" and config.depth:  # a net of no hidden layer is convex
        found.append(Finding("warning", "All-zero init: symmetry", _symmetry_words(run)
                             + _zero_weights_evidence(run) + ". Use kaiming.",
                             change={"init": "kaiming"}, metric="val_loss"))
    return found


def _unnormalized_validation(run: Run) -> Finding | None:
    """The step-0 validation loss far above the first training loss under BatchNorm: eval
    mode reads the running statistics, still at their initial mean 0 and variance 1, so at
    a far-off init scale nothing is normalized yet (GELU at init_scale 37: 382,253)."""
    evals = run.evals
    if run.config.norm != "batch" or len(evals) < 2 or int(evals["step"].iloc[0]) != 0:
        return None
    first, train_loss = float(evals["val_loss"].iloc[0]), run.initial_loss
    if not (math.isfinite(first) and first > max(2 * train_loss, train_loss + 1)):
        return None
    step, then = int(evals["step"].iloc[1]), float(evals["val_loss"].iloc[1])
    return Finding("info", "Validation at step 0 is not normalized",
                   f"The validation loss at step 0 is {_plain(first)} against "
                   f"{train_loss:.2f} on a training batch. Validation runs in eval mode, "
                   "where BatchNorm divides by its running statistics, and before the "
                   "first step those are still their initial values (mean 0, variance 1): the "
                   f"pre-activations keep the scale init_scale {run.config.init_scale:g} "
                   "gave them. Training normalizes each batch by its own statistics, and "
                   f"by the next evaluation (step {step:,}: {_plain(then)}) the running ones "
                   "have caught up.")


def _plain(loss: float) -> str:
    """A loss as a reader reads it: 382,253 rather than 3.823e+05, 2.88 as it is."""
    return f"{loss:,.0f}" if loss >= 100 else f"{loss:.3g}"


def _symmetry_words(run: Run) -> str:
    """Why zero weights stay stuck, in the activation's terms: one that is 0 at 0 (tanh,
    ReLU) passes no signal at all, so nothing but the output bias moves; sigmoid's 0.5
    moves the weights, but equally for every unit of a layer."""
    act = ACTIVATIONS[run.config.act]
    at_zero = float(act.forward(np.zeros(1))[0])
    if at_zero == 0:
        return (f"With every weight 0, each hidden unit outputs {act.name}(0) = 0 and the "
                "zero weights above it send no gradient back, so no weight ever changes: only "
                "the output biases learn, and the net can only predict how often each class "
                "occurs")
    return (f"Every unit of a layer outputs the same {act.name}(0) = {at_zero:g} and gets "
            "the same gradient, so the weights move but the units of a layer never become "
            "different: each hidden layer works as one unit")


def _narrow_layer(run: Run) -> Finding | None:
    """A hidden layer narrower than the output has classes, in a run that has trained
    long enough and, on characters, still ends above the count-bigram table on both
    splits: everything the output sees passes through that few numbers per example
    (7,300,2 ended at 2.60 against the table's 2.46 and was called healthy; widened to 27
    it reached 2.34). Loss falls smoothly with width (16 units: 2.39, 27: 2.34, 100:
    2.25), so a narrow layer is noted only where it costs that much."""
    classes = len(run.vocab) if run.vocab is not None else 2
    widths = run.config.widths
    if (not widths or min(widths) >= classes or not run.final
            or run.steps_done < MIN_STEPS_FOR_BASELINE):
        return None
    k = int(np.argmin(widths))
    bigram = run.baselines.get("bigram")
    losses = (run.final["val_loss"], run.final["train_loss"])
    if bigram is not None and min(losses) <= bigram:
        return None
    above = (f" Its validation loss {losses[0]:.2f} is above the {bigram:.2f} of counting "
             "character pairs." if bigram is not None else "")
    wider = (str(max(widths[0], classes)) if len(set(widths)) == 1
             else ",".join(str(max(width, classes)) for width in widths))
    units = f"{widths[k]} unit{'s' if widths[k] > 1 else ''}"
    return Finding("info", "Narrow layer",
                   f"Hidden {k + 1} has {units} for {classes} classes: everything the output "
                   f"sees passes through {widths[k]} number{'s' if widths[k] > 1 else ''} "
                   "per example." + above
                   + f" Try width {wider}.", change={"width": wider}, metric="val_loss",
                   layers=(f"hidden {k + 1}",))


def _notes(run: Run) -> list[Finding]:
    """What the architecture makes of the task: notes that describe, not warn."""
    config, found = run.config, []
    if (config.is_char_task and config.context == 1 and config.depth == 0
            and run.final and "bigram" in run.baselines):
        gap = run.final["val_loss"] - run.baselines["bigram"]
        found.append(Finding("info", "Bigram net = counting",
                             f"With one character of context and no hidden layer the net is "
                             f"a learned bigram table: its validation loss is {gap:+.4f} from "
                             "the count-based bigram model's (add-one smoothed). Compare "
                             "the two tables in the Logits tab, which names the add-k "
                             "smoothing nearest to the learned table"
                             + (f"; weight decay (wd {config.wd:g}) acts as a larger k."
                                if config.wd else ".")))
    if not config.is_char_task and config.depth == 0 and run.final:
        inputs = ", ".join(FEATURES[name].label for name in config.feature_names)
        found.append(Finding("info", "Linear in the input features",
                             f"With no hidden layer the model is one linear map of its inputs "
                             f"({inputs}): its boundary is a straight line in their space, "
                             f"here {run.final['val_acc']:.0%} accurate on validation. "
                             "Squares and products bend it in the plane (the circles need "
                             "x1sq and x2sq, xor needs x1x2), as in TensorFlow Playground; "
                             "hidden layers learn such features themselves."))
    if config.fuse_levels > 1:
        flat_fan = config.context * config.embed_dim
        found.append(Finding("info", "Hierarchical model (WaveNet-style)",
                             f"Each of the first {config.fuse_levels} hidden layers joins "
                             f"{config.fuse} neighbouring positions, so the {config.context} "
                             f"characters of context are merged slowly, as in makemore part 5, "
                             f"instead of all at once: the first layer sees {config.fuse} "
                             f"characters ({config.fan_ins()[0]} inputs, not {flat_fan}). "
                             "Below the top, each example is several rows, one per group of "
                             "positions, and BatchNorm's statistics span them all. Compare "
                             "with fuse 0, the flat MLP over the same context."))
    narrow = _narrow_layer(run)
    if narrow is not None:
        found.append(narrow)
    if config.act == "identity" and config.depth > 1:
        found.append(Finding("info", "No nonlinearity",
                             f"With identity activations the {config.depth} hidden layers "
                             "compose to one linear map: depth adds nothing. With no "
                             "nonlinearity the right Kaiming gain is 1."))

    return found


def _rescue(run: Run, first: pd.DataFrame, level: float | None) -> Finding | None:
    """Normalization kept a far-off init scale from the activations: said with the layer
    that came nearest to the activation's limit at init (where the init scale acts; after
    training a layer may be past it for other reasons, which its own finding says); None
    when one went past it."""
    config = run.config
    act = ACTIVATIONS[config.act]
    held = ""
    if act.saturated is not None and len(first):
        worst = first.loc[first["saturated_pct"].idxmax()]
        limit = act.saturation_limits[0]
        if worst["saturated_pct"] > limit:
            return None
        held = (f": at init its most {act.saturation_label} layer, {worst['layer']}, has "
                f"{worst['saturated_pct']:.2g}% of its outputs {act.flat_words}, against a "
                f"limit of {limit:g}% at init")
    here = f" (update:data here: {level:.1f}; {_healthy_band(config.opt)})" \
        if level is not None else ""
    return Finding("info", "BatchNorm rescue" if config.norm == "batch" else
                   "Normalization rescue",
                   f"init_scale is {config.init_scale:g}, yet {config.norm} normalization "
                   f"kept that scale away from the activations{held}. It rescales every layer's "
                   "pre-activations, so "
                   "the init scale hardly changes the activations. It still sets the "
                   "effective learning rate: a normalized layer's gradient shrinks as its "
                   "weights grow, so the same lr moves larger weights by a smaller share"
                   + here + "." + (" In the BatchNorm lesson's 5-layer network update:data "
                                   "falls by about two decades from init_scale 0.2 to 5, and "
                                   "the final validation loss rises by about 0.1."
                                   if config.norm == "batch" else ""))


def _zero_weights_evidence(run: Run) -> str:
    """The largest std of a weight matrix past the embedding after training: exactly 0
    when symmetry kept every hidden and output weight at zero."""
    weights = run.weights
    if not len(weights):
        return ""
    last = weights[weights["step"] == weights["step"].max()]
    hidden = last[last["param"].isin(run.matrix_names[1:])] if run.config.is_char_task \
        else last
    if not len(hidden):
        return ""
    past = " after the embedding" if run.config.is_char_task else ""
    return (f" (after training the largest std of a weight matrix{past} is "
            f"{hidden['weight_std'].max():.2g}; Gradients tab, weights table)")


def _all_clear(run: Run, level: float | None, found: list[Finding]) -> Finding:
    """"Healthy" with its numbers, or, for a run of fewer steps than the learning rate
    needs, only what the start shows: a 1-step run has not shown that it learns."""
    if run.steps_done >= MIN_STEPS_FOR_LR:
        # Under a note (an init to improve) a bare "Healthy" read as contradicting it.
        notes = sum(finding.level == "info" for finding in found)
        besides = (f"Apart from the note{'s' if notes > 1 else ''} above, no problem found. "
                   if notes else "")
        return Finding("success", "Healthy", besides + _healthy_summary(run, level, found))
    done = f"{run.steps_done:,} training step" + ("" if run.steps_done == 1 else "s")
    return Finding("info", "Too short to judge",
                   f"{done} {'so far' if run.status == 'running' else 'only'}: too few to "
                   f"tell whether it learns (the learning rate needs {MIN_STEPS_FOR_LR} "
                   f"steps to judge). What it shows: {_healthy_summary(run, None, found)}")


def _healthy_summary(run: Run, level: float | None, found: list[Finding]) -> str:
    """The all-clear with its numbers, so it reads consistently with the metrics and the
    notes above it, in the activation's own words ("inactive" for ReLU)."""
    parts = [f"Initial loss {run.initial_loss:.2f} vs {run.expected_initial_loss:.2f} for a "
             "uniform guess"]
    layers = run.layers
    act = ACTIVATIONS[run.config.act]
    if len(layers) and act.saturated is not None:
        last = layers[layers["step"] == layers["step"].max()]
        worst = last.loc[last["saturated_pct"].idxmax()]
        when = "so far" if run.status == "running" else "at the end"
        dead = ("" if any(f.metric == "dead_units" for f in found) or run.status == "running"
                else ", no dead units")
        parts.append(f"on average {last['saturated_pct'].mean():.0f}% of outputs "
                     f"{act.saturation_label} {when} (most in {worst['layer']}: "
                     f"{worst['saturated_pct']:.0f}%){dead}")
    if level is not None:
        parts.append(f"update:data about {level:.1f} ({_healthy_band(run.config.opt, level)})")
    return "; ".join(parts) + "."


def _healthy_band(opt: str, level: float | None = None) -> str:
    """The optimizer's own band, as the rate findings judge it (Adam's steps are larger),
    and where ``level`` lies when it is outside (a rate that works there is not called
    healthy by the band's name)."""
    low, high = UPDATE_BANDS[opt]
    if level is None or low <= round(level, 1) <= high:
        return f"healthy for {opt}: {low:g} to {high:g}"
    return f"{'above' if level > high else 'below'} {opt}'s healthy band of {low:g} to {high:g}"

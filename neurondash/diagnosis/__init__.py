"""Plain-words diagnosis of a Run: what looks wrong and what to try (thresholds: docs/DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FEATURES
from .parts.activations import ACTIVATIONS
from .run import Run

SATURATION_PCT = 35.0
"""Share of saturated outputs in the worst hidden layer, at init or after training, above
which tanh/sigmoid units are saturated. Calibrated on the lectures' numbers: a Kaiming
stack has 5-20% per layer, and its first layer, fed unit-normal embeddings, ~26-29% (one
hidden layer of makemore's MLP included); gain 3 gives 40-48%."""
OVERFIT_GAP = 0.1
"""Nats between validation and training loss (with validation 20% above training) from
which the model fits its training examples better than it generalises; makemore's MLP
has ~0.06 (2.04 / 2.10)."""
OVERFIT_ACCURACY_GAP = 0.1
RISE = 0.05
"""Nats by which the final validation loss exceeds its best checkpoint: rising, not noise."""
TRAINED_SATURATION_PCT = 55.0
"""The same after training, where healthy nets saturate more (Adam on makemore's MLP ends
with 40% in one layer at a validation loss as good as SGD's; lr 1 ends at 69-78%)."""
BASELINE_MARGIN = 0.05
"""Nats within which a final validation loss counts as stuck at a baseline."""
MIN_STEPS_FOR_BASELINE = 1000
"""A shorter run that has not passed a baseline yet is early, not stuck."""
COLLAPSED_STD = 0.1
UPDATE_LOW, UPDATE_HIGH = -4.0, -2.0
LOGITS_NOTE = 0.25
"""Nats above the uniform guess at init worth a note (below the warning's 1 nat)."""
SHRINK_RATIO = 1.6
"""First over last hidden layer's activation std at init from which the signal visibly
shrinks with depth: Kaiming's gain keeps 0.79 -> 0.65 (1.2x) over 5 tanh layers, gain 1
halves it (0.67 -> 0.32, 2.1x)."""
UPDATE_NOTE = -3.5
"""update:data below this (and above UPDATE_LOW) is worth a note: on the small side."""
MIN_STEPS_FOR_LR = 20
"""Fewer steps say too little about the learning rate to judge it."""
STILL_FALLING = 0.1
"""Share of the loss's whole fall that its last quarter of steps must bring for the loss
to count as still falling (a run at too low an lr); a converged run brings ~0."""
TROUBLE = frozenset({"Worse than a uniform guess", "Stuck at the uniform guess",
                     "Stuck at the unigram baseline"})
"""Findings by which the loss curve itself shows trouble."""


LEVELS = ("error", "warning", "info", "success")
"""Findings are listed most serious first (Python's sort keeps each level's own order)."""


@dataclass(frozen=True)
class Finding:
    level: str  # one of LEVELS
    lesson: str
    text: str


def diagnose(run: Run) -> list[Finding]:
    """Findings in order of importance; an all-clear finding when nothing is wrong."""
    config, found = run.config, []
    if run.status == "diverged":
        found.append(Finding("error", "Divergence", f"{run.message} The learning rate "
                             f"({config.lr:g}) is probably too high for this init; lower it or "
                             "add normalization. The charts show what was recorded before."))
    expected = run.expected_initial_loss
    if run.initial_loss > expected + max(1.0, 0.3 * expected):
        found.append(Finding("warning", "Confidently wrong logits at init",
                             f"The initial loss is {run.initial_loss:.2f}, far above the "
                             f"{expected:.2f} of a uniform guess: the output layer starts with "
                             "large, confident logits and the first steps only squash them "
                             "(the hockey-stick curve)."
                             + (" Try out_scale 0.01-0.1." if config.out_scale > 0.1 else "")))
    elif run.initial_loss > expected + LOGITS_NOTE:
        found.append(Finding("info", "Somewhat confident logits at init",
                             f"The initial loss is {run.initial_loss:.2f}, "
                             f"{run.initial_loss - expected:.2f} above the {expected:.2f} of a "
                             "uniform guess: the first steps partly go to shrinking the "
                             "logits. A smaller out_scale starts nearer the uniform guess."))
    if config.init == "zero":
        found.append(Finding("warning", "All-zero init: symmetry",
                             "Every unit of a layer computes the same thing and gets the same "
                             "gradient, so hidden weights never become different: only biases "
                             "learn" + _zero_weights_evidence(run) + ". Use kaiming."))
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
    if config.act == "identity" and config.depth > 1:
        found.append(Finding("info", "No nonlinearity",
                             f"With identity activations the {config.depth} hidden layers "
                             "compose to one linear map: depth adds nothing. With no "
                             "nonlinearity the right Kaiming gain is 1."))
    found += _generalisation(run)
    # Whether the training loss itself shows trouble: findings read off the diagnostics
    # after training must agree with it (validation loss rising alone is overfitting).
    troubled = (_loss_rise(run, validation=False) > RISE or run.status == "diverged"
                or bool(TROUBLE & {f.lesson for f in found}))
    layers = run.layers
    saturated = None
    if len(layers):
        first = layers[layers["step"] == 0]
        last = layers[layers["step"] == layers["step"].max()]
        saturated = _saturation(run, first, last, troubled)
        if saturated is not None:
            found.append(saturated)
        zero_init = config.init == "zero"  # explains constant units; no other cause to name
        stds = first["act_std"].to_numpy()
        shrinking = (len(stds) > 2 and stds[-1] >= COLLAPSED_STD and not zero_init
                     and config.act != "relu" and stds[0] > SHRINK_RATIO * stds[-1])
        if shrinking:
            found.append(Finding("info", "Activations shrink with depth",
                                 f"At init the activation std falls from {stds[0]:.2f} in the "
                                 f"first hidden layer to {stds[-1]:.2f} in the last: each "
                                 "layer passes on a weaker signal (the gain is below "
                                 "Kaiming's for this activation). Not collapsed yet, but "
                                 "deeper stacks would be; init_scale 1 with kaiming keeps "
                                 "the std steady."))
        if (float(first["act_std"].iloc[-1]) < COLLAPSED_STD and config.act != "relu"
                and not zero_init):
            found.append(Finding("warning", "Collapsing activations",
                                 f"The last hidden layer's activations have std "
                                 f"{float(first['act_std'].iloc[-1]):.3f} at init (the first "
                                 f"hidden layer's {stds[0]:.2f}; Activations tab at step 0): "
                                 "the signal shrinks layer by layer and gradients vanish "
                                 "toward the input. init_scale is too small."))
        far_init = config.init_scale >= 2.0 or config.init_scale <= 0.5
        if config.norm != "none" and far_init and saturated is None:
            found.append(Finding("info", "BatchNorm rescue" if config.norm == "batch"
                                     else "Normalization rescue",
                                     f"init_scale is {config.init_scale:g}, yet no layer "
                                     f"saturates: {config.norm} normalization rescales every "
                                     "layer's pre-activations, so the init scale hardly "
                                     "changes the activations. It still sets the effective "
                                     "learning rate: a normalized layer's gradient shrinks "
                                     "as its weights grow, so the same lr moves larger "
                                     "weights by a smaller share" + _update_data_here(run)
                                     + ". In the lesson's 5-layer network update:data falls "
                                     "by about two decades from init_scale 0.2 to 5, and the "
                                     "final validation loss rises by about 0.1."))
        dead = sum(run.dead_units.values()) if run.dead_units is not None else 0
        candidates = int(last["dead_units"].sum())
        state = ACTIVATIONS[config.act].saturation_label
        if dead and not zero_init:
            name = "Dead ReLUs" if config.act == "relu" else "Dead units"
            found.append(Finding("warning", name,
                                 f"{dead} hidden units are {state} for every example of the "
                                 "training split after training: they pass no gradient and "
                                 "no longer learn (white columns in the dead-unit map). Lower "
                                 "the learning rate or init scale, or use leaky_relu/gelu."))
        elif candidates and run.dead_units is None:
            found.append(Finding("info", "Possibly dead units",
                                 f"{candidates} hidden units are {state} on all "
                                 f"{run.sample_name} of the last snapshot; whether they are "
                                 "dead on the whole training split was not counted for this "
                                 "run."))
        grads = first["grad_std"].to_numpy()
        if len(grads) > 1 and grads[-1] > 0:
            ratio = grads[0] / grads[-1]
            if ratio < 0.1:
                found.append(Finding("warning", "Vanishing gradients",
                                     f"At init the first layer gets {ratio:.2g}x the gradient "
                                     f"of the last (std {grads[0]:.2g} against {grads[-1]:.2g}; "
                                     "Gradients tab at step 0): early layers barely learn."))
            elif ratio > 10:
                found.append(Finding("warning", "Exploding gradients",
                                     f"At init the first layer gets {ratio:.2g}x the gradient "
                                     f"of the last (std {grads[0]:.2g} against {grads[-1]:.2g}; "
                                     "Gradients tab at step 0)."))
    level = run.typical_update_data(MIN_STEPS_FOR_LR)
    # Tiny updates in a net whose signal or gradient vanishes are that effect, not the lr;
    # and a loss that levelled off long before the end needs no larger steps.
    explained = {"Collapsing activations", "Vanishing gradients", "All-zero init: symmetry"}
    slow = troubled or _still_falling(run)
    if level is not None and run.status != "diverged":
        measured = f"update:data (Gradients tab) is about {level:.1f} in early and mid training"
        if level < UPDATE_LOW and slow and not explained & {f.lesson for f in found}:
            found.append(Finding("warning", "Learning rate too low",
                                 measured + " (healthy is about -3): each step changes "
                                 "the weights by a tiny fraction, and the loss " + (
                                     "is still falling at the end." if not troubled else
                                     "ends no better than a baseline.") + " Raise lr."))
        elif level < UPDATE_NOTE and slow and not explained & {f.lesson for f in found}:
            found.append(Finding("info", "Small updates",
                                 measured + ", a little below the -3 rule of thumb, and "
                                 "the loss is still falling at the end: training is slow but "
                                 "sound; a somewhat higher lr may reach the same loss in "
                                 "fewer steps."))
        elif level > UPDATE_HIGH:
            rise = _loss_rise(run)
            if rise > RISE or "Worse than a uniform guess" in {f.lesson for f in found}:
                found.append(Finding("warning", "Learning rate too high",
                                     measured + " (healthy is about -3): each step rewrites a "
                                     "large share of the weights, and the loss rose by "
                                     f"{rise:.2f} from its lowest. Lower lr."))
            else:
                found.append(Finding("info", "Large but steady updates",
                                     measured + ", above the -3 rule of thumb, yet the loss kept "
                                     "falling to the end: this rate works here"
                                     + (" (Adam's steps are about lr in size whatever the "
                                        "gradient)" if config.opt in ("adam", "adamw") else "")
                                     + ". Lower lr if the loss turns noisy."))
    if not any(finding.level in ("warning", "error") for finding in found):
        found.append(Finding("success", "Healthy", _healthy_summary(run, level)))
    return sorted(found, key=lambda finding: LEVELS.index(finding.level))


def _loss_rise(run: Run, validation: bool = True) -> float:
    """How far the loss ended above its lowest: the validation checkpoints (unless
    ``validation`` is False), and the training loss averaged over windows of 5% of the
    run."""
    rises = [0.0]
    if validation and len(run.evals):
        rises.append(float(run.evals["val_loss"].iloc[-1] - run.evals["val_loss"].min()))
    losses = run.history["loss"].to_numpy()
    window = max(1, len(losses) // 20)
    if len(losses) >= 2 * window:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        finite = smooth[np.isfinite(smooth)]
        if finite.size:
            rises.append(float(finite[-1] - finite.min()))
    return max(rises)


def _still_falling(run: Run) -> bool:
    """Whether the training loss was still falling at the end: its last quarter of steps
    brought at least ``STILL_FALLING`` of its whole fall (over windows of 5% of the run),
    or it never fell at all."""
    losses = run.history["loss"].to_numpy()
    window = max(1, len(losses) // 20)
    if len(losses) < 4 * window:
        return True
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    smooth = smooth[np.isfinite(smooth)]
    if smooth.size < 4:
        return True
    total = smooth[0] - smooth[-1]
    late = smooth[(3 * smooth.size) // 4] - smooth[-1]
    return bool(total <= 0 or late >= STILL_FALLING * total)


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
    return (f" (after training the largest std of a weight matrix is "
            f"{hidden['weight_std'].max():.2g}; Gradients tab, weights table)")


def _update_data_here(run: Run) -> str:
    level = run.typical_update_data(MIN_STEPS_FOR_LR)
    return f" (update:data here: {level:.1f}; healthy about -3)" if level is not None else ""


def _saturation(run: Run, first, last, troubled: bool) -> Finding | None:
    """tanh/sigmoid units in their flat tails, judged by the worst layer (see
    SATURATION_PCT), with advice that never repeats a setting already in use. Saturation
    found only after training is a warning when the loss shows trouble too; with a loss
    that fell to the end it is a note (trained nets saturate more, and that can be fine)."""
    config = run.config
    if config.act not in ("tanh", "sigmoid"):
        return None
    over = [(when, rows, limit) for when, rows, limit in
            (("at init", first, SATURATION_PCT), ("after training", last,
                                                   TRAINED_SATURATION_PCT))
            if rows["saturated_pct"].max() > limit]
    if not over:
        return None
    when, rows, limit = over[0]
    worst = rows.loc[rows["saturated_pct"].idxmax()]
    if when == "after training" and not troubled:
        return Finding("info", "Saturated after training",
                       f"{worst['saturated_pct']:.0f}% of {worst['layer']}'s {config.act} "
                       f"outputs are in the flat tails after training (above {limit:g}%), yet "
                       "the loss fell to the end: trained units grow confident, and those "
                       "examples pass little gradient through this layer. Harmless while the "
                       "loss falls; compare the Gradients tab if it stalls.")
    advice = []
    if config.init != "kaiming" or config.init_scale > 1:
        advice.append("kaiming with init_scale 1")
    level = run.typical_update_data(MIN_STEPS_FOR_LR)
    if level is not None and level > -2.5:
        advice.append("a lower learning rate")
    if config.norm == "none":
        advice.append("BatchNorm")
    to_try = (" Try " + " or ".join(advice) + ".") if advice else ""
    return Finding("warning", "Saturated activations",
                   f"{worst['saturated_pct']:.0f}% of {worst['layer']}'s {config.act} outputs "
                   f"are in the flat tails {when} (above {limit:g}%; a Kaiming-initialised "
                   "layer has 5-30% at init), where the local gradient is ~0: white in the "
                   "dead-unit map." + to_try)


def _generalisation(run: Run) -> list[Finding]:
    """Where the final losses stand: worse than a uniform guess, stuck at a baseline, or
    fitting the training examples far better than the validation ones."""
    if not run.final:
        return []
    train_loss, val_loss = run.final["train_loss"], run.final["val_loss"]
    uniform = run.expected_initial_loss
    if val_loss > uniform + BASELINE_MARGIN and train_loss > uniform - BASELINE_MARGIN:
        return [Finding("error", "Worse than a uniform guess",
                        f"The final validation loss is {val_loss:.2f}, above the "
                        f"{uniform:.2f} of a uniform guess: training made the model worse "
                        "than knowing nothing (look for the loss rising in the Loss tab). "
                        f"The learning rate ({run.config.lr:g}) is most likely too high for "
                        "this model.")]
    found = []
    unigram = run.baselines.get("unigram")
    # Closer to the uniform guess than to the unigram baseline (char tasks), or within the
    # margin of it (2-D tasks, which have no unigram baseline).
    near_uniform = uniform - BASELINE_MARGIN if unigram is None else (uniform + unigram) / 2
    # Stuck means not learnt at all, on the training examples too (a model that fits them
    # and fails on new ones is overfitting, below).
    judged = run.steps_done >= MIN_STEPS_FOR_BASELINE
    if judged and min(val_loss, train_loss) > near_uniform:
        found.append(Finding("warning", "Stuck at the uniform guess",
                             f"The final validation loss {val_loss:.2f} is close to the "
                             f"{uniform:.2f} of a uniform guess: the model has learnt next to "
                             "nothing."))
    elif judged and unigram is not None and min(val_loss, train_loss) > unigram - BASELINE_MARGIN:
        found.append(Finding("warning", "Stuck at the unigram baseline",
                             f"The final validation loss {val_loss:.2f} is no better than "
                             f"the {unigram:.2f} of predicting each "
                             "character by its frequency alone: the model has not learnt to "
                             "use its context."))
    accuracy_gap = run.final["train_acc"] - run.final["val_acc"]
    char_gap = val_loss - train_loss > OVERFIT_GAP and val_loss > 1.2 * train_loss
    point_gap = not run.config.is_char_task and accuracy_gap > OVERFIT_ACCURACY_GAP
    if char_gap or point_gap:
        evals = run.evals
        best = evals.loc[evals["val_loss"].idxmin()] if len(evals) else None
        trend = ""
        if best is not None and val_loss - best["val_loss"] > RISE:
            trend = (f" Validation loss was lowest ({best['val_loss']:.2f}) at step "
                     f"{int(best['step']):,} and has risen since while training loss kept "
                     "falling: the later steps memorise.")
        accuracy = (f", accuracy {run.final['train_acc']:.0%} against "
                    f"{run.final['val_acc']:.0%}" if not run.config.is_char_task else "")
        found.append(Finding("warning", "Overfitting",
                             f"Training loss {train_loss:.3f}, validation loss "
                             f"{val_loss:.3f}{accuracy}: the model fits its training examples "
                             "far better than new ones." + trend + " More data, a smaller "
                             "model, weight decay (wd) or fewer steps help."))
    return found


def _healthy_summary(run: Run, level: float | None) -> str:
    """The all-clear with its numbers, so it reads consistently with the metrics above it."""
    parts = [f"Initial loss {run.initial_loss:.2f} vs {run.expected_initial_loss:.2f} for a "
             "uniform guess"]
    layers = run.layers
    if len(layers):
        last = layers[layers["step"] == layers["step"].max()]
        worst = last.loc[last["saturated_pct"].idxmax()]
        parts.append(f"on average {last['saturated_pct'].mean():.0f}% of outputs saturated or "
                     f"inactive at the end (most in {worst['layer']}: "
                     f"{worst['saturated_pct']:.0f}%), no dead units")
    if level is not None:
        parts.append(f"update:data about {level:.1f} (healthy: -3)")
    return "; ".join(parts) + "."


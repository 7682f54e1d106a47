"""Plain-words diagnosis of a Run: what looks wrong and what to try (thresholds: DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass

from .engine.activations import ACTIVATIONS
from .features import FEATURES
from .run import Run

SATURATION_PCT = 20.0
"""Mean saturation over the hidden layers at init above which the init is too large (a
single layer may exceed it: makemore's first layer, fed unit-normal embeddings, starts at
~27%)."""
TRAINED_SATURATION_PCT = 30.0
COLLAPSED_STD = 0.1
UPDATE_LOW, UPDATE_HIGH = -4.0, -2.0
MIN_STEPS_FOR_LR = 20
"""Fewer steps say too little about the learning rate to judge it."""


@dataclass(frozen=True)
class Finding:
    level: str  # "error", "warning", "info", "success"
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
                             "(the hockey-stick curve). Try out_scale 0.01-0.1."))
    if config.init == "zero":
        found.append(Finding("warning", "All-zero init: symmetry",
                             "Every unit of a layer computes the same thing and gets the same "
                             "gradient, so hidden weights never become different: only biases "
                             "learn. Use kaiming."))
    if (config.is_char_task and config.context == 1 and config.depth == 0
            and run.final and "bigram" in run.baselines):
        gap = run.final["val_loss"] - run.baselines["bigram"]
        found.append(Finding("info", "Bigram net = counting",
                             f"With one character of context and no hidden layer the net is "
                             f"a learned bigram table: its validation loss is {gap:+.4f} from "
                             "the count-based bigram model's. Compare the two tables in the "
                             "Logits tab."))
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
    layers = run.layers
    if len(layers):
        first = layers[layers["step"] == 0]
        last = layers[layers["step"] == layers["step"].max()]
        worst = float(max(first["saturated_pct"].max(), last["saturated_pct"].max()))
        at_init = float(first["saturated_pct"].mean())
        trained = float(last["saturated_pct"].mean())
        bounded = config.act in ("tanh", "sigmoid")
        if bounded and (at_init > SATURATION_PCT or trained > TRAINED_SATURATION_PCT):
            when = "at init" if at_init > SATURATION_PCT else "after training"
            found.append(Finding("warning", "Saturated activations",
                                 f"On average {max(at_init, trained):.0f}% of {config.act} "
                                 f"outputs are in the flat tails {when} (up to {worst:.0f}% in "
                                 "one layer), where the local gradient is ~0 (white in the "
                                 "dead-unit map). Use kaiming with init_scale 1, a lower "
                                 "learning rate, or BatchNorm."))
        if float(first["act_std"].iloc[-1]) < COLLAPSED_STD and config.act != "relu":
            found.append(Finding("warning", "Collapsing activations",
                                 f"The last hidden layer's activations have std "
                                 f"{float(first['act_std'].iloc[-1]):.3f} at init: the signal "
                                 "shrinks layer by layer and gradients vanish toward the input. "
                                 "init_scale is too small."))
        far_init = config.init_scale >= 2.0 or config.init_scale <= 0.5
        if config.norm != "none" and far_init and worst <= SATURATION_PCT:
            found.append(Finding("info", "BatchNorm rescue" if config.norm == "batch"
                                     else "Normalization rescue",
                                     f"init_scale is {config.init_scale:g}, yet no layer "
                                     f"saturates: {config.norm} normalization rescales every "
                                     "layer's pre-activations, so the init scale hardly "
                                     "matters."))
        dead = sum(run.dead_units.values()) if run.dead_units is not None else 0
        candidates = int(last["dead_units"].sum())
        state = ACTIVATIONS[config.act].saturation_label
        if dead:
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
                                     "of the last: early layers barely learn."))
            elif ratio > 10:
                found.append(Finding("warning", "Exploding gradients",
                                     f"At init the first layer gets {ratio:.2g}x the gradient "
                                     "of the last."))
    level = run.typical_update_data(MIN_STEPS_FOR_LR)
    if level is not None and run.status != "diverged":
        if level < UPDATE_LOW:
            found.append(Finding("warning", "Learning rate too low",
                                 f"update:data is about {level:.1f} (healthy is about -3): each "
                                 "step changes the weights by a tiny fraction. Raise lr."))
        elif level > UPDATE_HIGH:
            found.append(Finding("warning", "Learning rate too high",
                                 f"update:data is about {level:.1f} (healthy is about -3): each "
                                 "step rewrites a large share of the weights. Lower lr."))
    if not found:
        found.append(Finding("success", "Healthy", _healthy_summary(run, level)))
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


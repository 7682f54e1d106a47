"""Which way to turn the init scale, from mean-field theory (``theory.predict``): an ordered
net (χ₁ < 1: signals and gradients shrink layer by layer) wants a larger init scale, a
chaotic one (χ₁ > 1: they grow) a smaller one; either way to Kaiming's own scale or the
edge of chaos, whichever is larger (the lectures' tanh default, χ₁ = 1.21, trains well);
with another scheme (a unit-normal init), to the edge."""

from __future__ import annotations

import math

from ..config import SETTINGS_BY_NAME, Config
from ..gradient_rate import NET_RATE_SHOWN, far_from_fixed_point, gradient_rate
from ..parts.activations import ACTIVATIONS
from ..parts.optimizers import MOMENTUM
from ..run import Run
from ..theory import Prediction, input_mean_square, predict, slope_square
from .findings import Advice

ORDERED_CHI = 0.5
"""χ₁ below this is deep in the ordered phase: a gradient shrinks 2x or more per layer."""
CHAOTIC_CHI = 2.0
"""χ₁ above this is deep in the chaotic phase: it grows 2x or more per layer."""


def prediction(run: Run) -> Prediction | None:
    """Theory for the run's Config, fed the measured mean square of the first layer's input;
    None where it does not apply (normalization, zero init, no hidden layer)."""
    config = run.config
    if config.depth == 0 or config.init == "zero" or config.norm != "none":
        return None
    layers = run.layers
    first = layers[(layers["step"] == 0) & (layers["layer"] == "hidden 1")] \
        if len(layers) else layers
    std = float(first["preact_std"].iloc[0]) if len(first) else None
    found = predict(config, input_mean_square(config, std))
    return found if found.applies and math.isfinite(found.chi1) else None


def _rounded(value: float) -> float:
    return float(f"{value:.2g}")


def init_scale_advice(run: Run, want: str) -> Advice | None:
    """Advice to turn init_scale ``want`` ("up" or "down") when theory agrees that is the
    way: up in the ordered phase, down in the chaotic one; None otherwise."""
    found = prediction(run)
    if found is None:
        return None
    config = run.config
    critical = found.critical_init_scale
    if critical is not None:
        edge = f"the edge of chaos (χ₁ = 1) is at init_scale {critical:.3g}"
    elif config.bias_init:
        edge = (f"no init_scale puts {config.act} with bias_init {config.bias_init:g} at a "
                "stable edge of chaos")
    else:
        edge = f"{config.act} without bias has no stable edge of chaos"
    target, why = _aim(config, critical)
    if want == "up" and found.chi1 < ORDERED_CHI and target > config.init_scale:
        change: dict = {"init_scale": target}
        lower = ""
        if too_fast_at_full_scale(config):
            change["lr"] = DEFAULT_LR
            lower = (f" and lower lr to {DEFAULT_LR:g}, the default: lr {config.lr:g} suits "
                     "only the tiny gradients that weights this small pass back, and is too "
                     "high for this net at full scale")
        return Advice(f"Mean-field theory puts this {config.act} net in the ordered phase"
                      f"{_phase(found)}; {edge}. Raise init_scale to {target:g}{why}{lower}.",
                      change)
    if want == "down" and found.chi1 > CHAOTIC_CHI and target < config.init_scale:
        norm = " or add normalization (norm batch)" if config.norm == "none" else ""
        return Advice(f"Mean-field theory puts this {config.act} net in the chaotic phase"
                      f"{_phase(found)}; {edge}. Lower init_scale to {target:g}{why}{norm}.",
                      {"init_scale": target})
    return None


DEFAULT_LR = SETTINGS_BY_NAME["lr"].default
FULL_SCALE_STEP = 0.5
"""The largest SGD step, lr (÷ (1 - momentum) with momentum) times the activation's mean
square slope E[φ′(z)²] at unit scale, taken to train a net once its init is raised to full
scale. Measured at init_scale 1, depth 3: lr 2.3 diverged or ended worse for every
activation but sigmoid (slope² 0.045, step 0.10), leaky_relu diverged at lr 1.5 (step 0.75)
and ReLU trained at lr 1 (step 0.5)."""


def too_fast_at_full_scale(config: Config) -> bool:
    """Whether an SGD rate that trained a tiny init is too high once the init is raised
    (Adam's steps do not scale with the gradient: its rate is judged apart)."""
    steps = {"sgd": 1.0, "momentum": 1.0 / (1.0 - MOMENTUM)}
    if config.opt not in steps:
        return False
    slope = slope_square(ACTIVATIONS[config.act], 1.0)
    return config.lr * steps[config.opt] * slope > FULL_SCALE_STEP


FAR_INIT = (0.5, 2.0)
"""init_scale outside which a normalized net's rescue is worth a note."""


def large_normalized_init(config: Config) -> Advice | None:
    """Under normalization a large init scale makes the weights large, and the same lr
    then rewrites a smaller share of them: tiny updates come from the init, so the advice
    lowers it. Raising lr instead ruined such runs (LayerNorm at init_scale 20: 2.56 at
    lr 0.1, 179 at lr 3; GELU, BatchNorm, momentum at init_scale 37: 2.56 at lr 0.7, 1,285
    at lr 10), where init_scale 1 trained better in each (2.48, 2.52)."""
    if config.norm == "none" or config.init_scale < FAR_INIT[1]:
        return None
    return Advice(f"Lower init_scale to 1: init_scale {config.init_scale:g} made the weights "
                  f"large, and under {config.norm} normalization the same lr rewrites a "
                  "smaller share of larger weights (raising lr instead also scales the "
                  "steps of the weights no normalization follows).", {"init_scale": 1.0})


def _phase(found: Prediction) -> str:
    """What the phase does to this net's gradient, in the header's words and numbers (its
    own factor per layer where its layers are far from the fixed point χ₁ describes)."""
    named = "" if far_from_fixed_point(found, NET_RATE_SHOWN) else f" (χ₁ = {found.chi1:.3g})"
    return f"{named}: the gradient's mean square {gradient_rate(found)}"


def _aim(config: Config, critical: float | None) -> tuple[float, str]:
    """The init scale to turn to, from either side, and why when it is not the edge: for
    Kaiming's init its own scale (1) where the edge lies below it (tanh's default is
    chaotic, χ₁ = 1.21, but trains best: at depth 7, 1 reaches 2.25 where the edge's 0.6
    reaches 2.30); another scheme goes to the edge itself."""
    floor = 1.0 if config.init == "kaiming" else 0.0
    target = _rounded(max(critical if critical is not None else 1.0, floor))
    if critical is None or target <= critical * 1.005:
        return target, ""
    return target, (" (Kaiming's own scale rather than the edge: on the map of lesson 12, "
                    "tanh nets of up to 12 layers train best near 1)" if config.act == "tanh"
                    else f" (Kaiming's own scale: the gain chosen for {config.act}, "
                    f"{(target - critical) / critical:.0%} above the edge)")


def chaotic_init(run: Run) -> bool:
    """Whether theory blames the init: deep in the chaotic phase (see ``CHAOTIC_CHI``)."""
    return init_scale_advice(run, "down") is not None


ADAM_HIGH = 0.03
"""An Adam rate above this moves every weight by about that much per step, whatever its
gradient: lowering it by a factor of 3 stays far too high (ReLU at lr 3 ended at 2.84 at
lr 1, 2.43 at 0.003)."""
ADAM_DEFAULT = 0.003
"""Where advice to lower such a rate goes: within a few times the 0.001 default of Adam's
paper (PyTorch's too)."""


def adam_far_too_high(config: Config) -> bool:
    """An Adam rate too high for any init: what blew up, saturated or killed units is the
    rate first (lr 3 at init_scale 5: lowering the init scale alone left every ReLU dead)."""
    return config.opt in ("adam", "adamw") and config.lr > ADAM_HIGH


def lr_advice(config: Config, factor: float, why: str) -> Advice:
    """Advice to multiply the learning rate by ``factor`` (rounded to one digit, kept in the
    setting's range); a far too high Adam rate goes straight to ``ADAM_DEFAULT``."""
    lr = float(f"{min(10.0, max(1e-5, config.lr * factor)):.1g}")
    if factor < 1 and adam_far_too_high(config):
        lr = min(lr, ADAM_DEFAULT)
        why += (f"; {config.opt} moves every weight by about lr per step whatever its "
                "gradient, and its default is 0.001")
    way = "Raise" if factor > 1 else "Lower"
    return Advice(f"{way} lr to {lr:g}{why}.", {"lr": lr})

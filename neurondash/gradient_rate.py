"""The gradient's factor per layer that a net's own layers see, in numbers and in the words
the header and the diagnosis's advice both use: χ₁ holds only at the fixed point q*, and a
shallow net far from it sees its own factor."""

from __future__ import annotations

import math

from .theory import Prediction

NET_RATE_SHOWN = 1.05
"""This net's own mean factor per layer is said in place of χ₁ when they differ by more."""
NET_RATE_FAR = 1.15
"""... and when they differ by more than this, the net is too far from q* for a verdict on
its depth by ξ_c (which, like χ₁, is the fixed point's)."""


def net_rate(prediction: Prediction) -> float | None:
    """The gradient's mean-square factor per layer over this net's own layers (geometric
    mean), or None. χ₁ holds once the layers' variance reaches q*; a shallow net whose layers
    are still far from it (GELU at init_scale 1: χ₁ = 0.5 at q* = 0, about 1 at q = 2;
    tanh's default: 1.21 at q* but 1.11 over 3 layers) sees its own factor."""
    factors = [f for f in prediction.gradient_factors if f > 0 and math.isfinite(f)]
    if not factors or len(factors) != len(prediction.gradient_factors):
        return None
    return math.exp(sum(math.log(f) for f in factors) / len(factors))


def width_rate(prediction: Prediction) -> float:
    """The part of ``net_rate`` that the layers' unequal widths make (geometric mean of
    width over fan-in; 1 for equal widths)."""
    factors = prediction.width_factors
    return math.exp(sum(math.log(f) for f in factors) / len(factors)) if factors else 1.0


def far_from_fixed_point(prediction: Prediction, ratio: float = NET_RATE_FAR) -> bool:
    own = net_rate(prediction)
    return own is not None and abs(math.log(own / prediction.chi1)) > math.log(ratio)


def gradient_rate(prediction: Prediction) -> str:
    """'grows ×1.11 per layer over this net's 3 layers: its variance has not reached the
    fixed point q* = 1.18 where the rate is χ₁ = 1.21': the factor this
    net sees, and χ₁ beside it when the two differ; the verb follows the number said."""
    chi1 = prediction.chi1
    if far_from_fixed_point(prediction, NET_RATE_SHOWN):
        own = net_rate(prediction)
        depth = len(prediction.gradient_factors) + 1
        widths = width_rate(prediction)
        why = []
        if abs(math.log(widths)) > math.log(NET_RATE_SHOWN):
            why.append(f"its layers' unequal widths scale it by width over fan-in (×"
                       f"{widths:.3g} per layer on average; mean-field theory assumes equal "
                       "widths)")
        if abs(math.log(own / widths / chi1)) > math.log(NET_RATE_SHOWN):
            why.append(f"its variance has not reached the fixed point q* = "
                       f"{prediction.q_star:.3g} where the rate is χ₁ = {chi1:.3g}")
        said = f"×{own:.3g} per layer over this net's {depth} layers: " + ", and ".join(why)
    else:
        own, said = chi1, f"×{chi1:.3g} per layer toward the input"
    return f"{'grows' if own > 1 else 'shrinks'} {said}"

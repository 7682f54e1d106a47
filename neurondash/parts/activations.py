"""Activations, each with its derivative, Kaiming gain, saturation rule and the diagnosis's
words and limits for it, keyed by name.

The derivative takes both the input ``x`` and the output ``y`` so each activation can use
the cheaper one (tanh and sigmoid reuse ``y``; ReLU-like ones look at ``x``). It returns a
new array of the input's dtype, which the layer multiplies the incoming gradient into.
The saturation rule (given input and output) says which outputs have (almost) no local
gradient: what the dashboard calls saturated (tanh, sigmoid) or inactive (ReLU); the
stricter dead rule, holding for every example, defines a dead unit. The diagnosis reads its
words and limits from here, so a new activation is judged in its own terms without a new
line there (a ReLU at 50% inactive is healthy; a tanh at 50% saturated is not).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
LEAKY_SLOPE = 0.01
_GELU_C = math.sqrt(2.0 / math.pi)


@dataclass(frozen=True)
class Activation:
    """One nonlinearity: forward, derivative, Kaiming gain and what counts as saturated."""

    name: str
    forward: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array]
    gain: float
    saturated: Callable[[Array, Array], Array] | None = None
    """Outputs counted in the saturation / inactive % (None: this activation never is)."""
    dead: Callable[[Array, Array], Array] | None = None
    """Stricter per-output rule: a unit for which it holds on every example of the training
    split is dead (on a sample, such as the diagnostic batch, it is only a candidate)."""
    saturation_label: str = "saturated"
    short_label: str = ""
    """``saturation_label`` as one word, for a narrow header label (empty: the same)."""
    output_range: tuple[float, float] | None = None
    healthy: str = ""
    """What a healthy layer's output histogram looks like, in this activation's own terms."""
    flat_words: str = ""
    """Where an output counts as saturated, said in this activation's own terms."""
    saturation_lesson: str = "Saturated activations"
    """The finding's name when too many outputs are saturated (or inactive)."""
    dead_lesson: str = "Dead units"
    dies_of_large_inputs: bool = False
    """Its dead units sit in a flat tail that large pre-activations reach (tanh, sigmoid,
    ELU's floor): a larger init scale kills more of them (sigmoid at depth 7: 1 dead at
    init_scale 3, 18 at 10), normalization revives them (0 with BatchNorm)."""
    revision: int = 0
    """Bumped when this activation's arithmetic changes its rounding: only its runs' keys
    change then (``identity.run_key``), not every stored run's as ``NUMBERS_VERSION`` would.
    gelu 1: x*x*x, not NumPy's float32 x**3 (a scalar powf per value, 250x slower)."""
    saturation_limits: tuple[float, float, float] = (35.0, 55.0, 80.0)
    """Saturated % of the worst layer above which the diagnosis speaks: at init; after
    training when the loss shows trouble; after training, risen there, at a cost to the
    loss. Healthy tanh layers have 5-30% at init; a Kaiming ReLU layer is ~50% inactive; a
    3-layer sigmoid net trains best at its edge of chaos (init_scale 10), 62-77% saturated."""

    def __call__(self, x: Array) -> Array:
        return self.forward(x)

    def __repr__(self) -> str:
        return f"Activation({self.name}, gain={self.gain:.4g})"


def _sigmoid(x: Array) -> Array:
    # 0.5 * (1 + tanh(x / 2)) equals 1 / (1 + exp(-x)) and never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gelu(x: Array) -> Array:
    return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * (x * x * x))))


def _gelu_derivative(x: Array, _y: Array) -> Array:
    t = np.tanh(_GELU_C * (x + 0.044715 * (x * x * x)))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * x * x)


_ONE = np.ones((), np.float32)
"""1 as a 0-d array: unlike a Python float it costs NumPy no scalar conversion per call, and
(being exact in float32) it keeps float32 arrays float32 and float64 ones float64."""


def _tanh_derivative(_x: Array, y: Array) -> Array:
    derivative = y * y
    return np.subtract(_ONE, derivative, out=derivative)


def _leaky_relu_derivative(x: Array, _y: Array) -> Array:
    return np.where(x > 0, x.dtype.type(1.0), x.dtype.type(LEAKY_SLOPE))


def _silu_derivative(x: Array, y: Array) -> Array:
    s = _sigmoid(x)
    return s + y * (1.0 - s)


def _elu(x: Array) -> Array:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("tanh", np.tanh, _tanh_derivative, 5.0 / 3.0,
                   saturated=lambda x, y: np.abs(y) > 0.97, dead=lambda x, y: np.abs(y) > 0.99,
                   output_range=(-1.0, 1.0), flat_words="in the flat tails (|h| > 0.97)",
                   dies_of_large_inputs=True,
                   healthy=("spread over (-1, 1) without tall spikes at +-1 (saturated) or a "
                            "narrow spike at 0 (collapsed)")),
        Activation("sigmoid", _sigmoid, lambda x, y: y * (1.0 - y), 1.0,
                   saturated=lambda x, y: (y < 0.03) | (y > 0.97),
                   dead=lambda x, y: (y < 0.01) | (y > 0.99), output_range=(0.0, 1.0),
                   dies_of_large_inputs=True,
                   flat_words="in the flat tails (h < 0.03 or h > 0.97)",
                   saturation_limits=(85.0, 90.0, 95.0),
                   healthy=("spread over (0, 1) without tall spikes at 0 or 1 (saturated) or a "
                            "narrow spike at 0.5 (collapsed)")),
        Activation("relu", lambda x: np.maximum(x, 0.0), lambda x, y: (x > 0).astype(x.dtype),
                   math.sqrt(2.0), saturated=lambda x, y: y == 0, dead=lambda x, y: y == 0,
                   saturation_label="inactive", flat_words="inactive (h = 0: no gradient)",
                   saturation_lesson="Inactive units", dead_lesson="Dead ReLUs",
                   saturation_limits=(65.0, 80.0, 90.0),
                   healthy=("about half the outputs at 0 (inactive) at init, often more after "
                            "training (under 80% raises no warning), and a positive tail of "
                            "similar width in every layer; most of the mass at 0 means many "
                            "inactive units, a tail narrowing layer by layer means collapse")),
        Activation("leaky_relu", lambda x: np.where(x > 0, x, LEAKY_SLOPE * x),
                   _leaky_relu_derivative,
                   math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2)), saturated=lambda x, y: x <= 0,
                   saturation_label="on the leaky side", short_label="leaky-side",
                   flat_words="on the leaky side (pre-activation x <= 0, gradient 0.01)",
                   saturation_lesson="Units on the leaky side",
                   saturation_limits=(65.0, 80.0, 90.0),
                   healthy=("a positive tail and a thin negative side (slope 0.01), of similar "
                            "width in every layer")),
        Activation("elu", _elu, lambda x, y: np.where(x > 0, 1.0, y + 1.0), math.sqrt(2.0),
                   saturated=lambda x, y: y < -0.97, dead=lambda x, y: y < -0.99,
                   dies_of_large_inputs=True,
                   flat_words="in the flat negative region (h < -0.97)",
                   saturation_limits=(20.0, 40.0, 60.0),
                   healthy=("outputs from -1 upward with few pinned near -1 (saturated), of "
                            "similar width in every layer")),
        Activation("gelu", _gelu, _gelu_derivative, math.sqrt(2.0), revision=1,
                   saturated=lambda x, y: x < -3.0, dead=lambda x, y: x < -4.0,
                   saturation_label="inactive",
                   flat_words="from the flat negative region (pre-activation x < -3)",
                   saturation_lesson="Inactive units", saturation_limits=(20.0, 40.0, 60.0),
                   healthy=("a positive tail and a shallow dip below 0 (never below -0.17), of "
                            "similar width in every layer; many outputs stuck just below 0 are "
                            "inactive units")),
        Activation("silu", lambda x: x * _sigmoid(x), _silu_derivative, math.sqrt(2.0),
                   saturated=lambda x, y: x < -5.0, dead=lambda x, y: x < -7.0,
                   saturation_label="inactive",
                   flat_words="from the flat negative region (pre-activation x < -5)",
                   saturation_lesson="Inactive units", saturation_limits=(20.0, 40.0, 60.0),
                   healthy=("a positive tail and a shallow dip below 0 (never below -0.28), of "
                            "similar width in every layer; many outputs stuck just below 0 are "
                            "inactive units")),
        Activation("identity", lambda x: x, lambda x, y: np.ones_like(x), 1.0,
                   healthy=("no limit and nothing saturates: similar widths in every layer; "
                            "widths growing or shrinking layer by layer mean the scale is off "
                            "(for a linear stack the right gain is 1)")),
    )
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None

"""What mean-field theory predicts for a Config at init (Poole et al. 2016, Schoenholz et al.
2017): per-layer pre-activation variance, the fixed point q*, χ₁ and the phase, the depth
scales ξ_q and ξ_c, and the init scale that would put the net at the edge of chaos.

The dashboard measures what a finite net does; this says what an infinitely wide one would,
so a student can tell a bad init from bad luck. Every weight scheme is expressed as
σ_w² = fan_in × Var(W) so the same map covers kaiming, xavier, normal and uniform.

Gaussian expectations use split Gauss–Legendre in the standard-normal variable (nodes on
[−L, 0] and [0, L]): Gauss–Hermite loses digits for q ≳ 5 and at kinks (ReLU, ELU), and the
split at 0 puts every activation's kink on a panel edge.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .config import Config
from .parts.activations import Activation, get_activation

Array = np.ndarray
NODES = 256
"""Gauss–Legendre nodes per half-line: agrees with adaptive quadrature to ~1e-12."""
LIMIT = 10.0
"""Half-width in z: the normal mass beyond 10 is 1.5e-23."""
Q_ZERO = 1e-10
"""q below this is the fixed point 0; χ₁ and the slopes 'at q* = 0' are taken here."""
Q_CAP = 1e6
"""q above this is infinite (the map grows without bound, as ReLU does for σ_w > √2)."""
CRITICAL_TOLERANCE = 0.01
"""|χ₁ − 1| within this is 'critical': over 20 layers a gradient changes by at most ~22%."""
STEP_UP = 1.25


@functools.cache
def _legendre(n: int = NODES) -> tuple[Array, Array]:
    """Gauss–Legendre nodes and weights on [−1, 1] (an eigenvalue problem: computed once)."""
    return np.polynomial.legendre.leggauss(n)


@functools.cache
def _half_rule(n: int = NODES, limit: float = LIMIT) -> tuple[Array, Array]:
    """Nodes z and weights w (normal density included) on [−L, 0] ∪ [0, L]."""
    t, wt = _legendre(n)
    half = limit / 2.0
    z = np.concatenate([half * t - half, half * t + half])
    w = np.concatenate([wt, wt]) * half * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return z, w


def gauss_expect(f: Callable[[Array], Array], q: float) -> float:
    """E[f(√q z)] for z ~ N(0, 1), accurate for q from 1e-4 to 1e3 and at kinks at 0."""
    z, w = _half_rule()
    return float(np.dot(w, f(math.sqrt(q) * z)))


def pair_expect(f: Callable[[Array], Array], g: Callable[[Array], Array], q: float,
                c: float) -> float:
    """E[f(u₁) g(u₂)] for u₁, u₂ ~ N(0, q) with correlation c.

    u₁ = √q z₁, u₂ = √q (c z₁ + s z₂): the outer rule splits z₁ at u₁'s kink (0), and for each
    z₁ the inner rule splits z₂ at u₂'s kink (z₂ = −c z₁ / s), so kinks never fall inside a
    panel and the product rule keeps the 1-D rule's accuracy.
    """
    s = math.sqrt(max(0.0, 1.0 - c * c))
    if s < 1e-12:
        return gauss_expect(lambda x: f(x) * g(math.copysign(1.0, c) * x), q)
    z1, w1 = _half_rule()
    t, wt = _legendre()
    kink = np.clip(-c * z1 / s, -LIMIT, LIMIT)[:, None]
    total = 0.0
    for low, high in ((-LIMIT, kink), (kink, LIMIT)):
        mid, half = (high + low) / 2.0, (high - low) / 2.0
        z2 = mid + half * t
        w2 = half * wt * np.exp(-0.5 * z2 * z2) / math.sqrt(2.0 * math.pi)
        root_q = math.sqrt(q)
        inner = np.sum(w2 * g(root_q * (c * z1[:, None] + s * z2)), axis=1)
        total += float(np.dot(w1 * f(root_q * z1), inner))
    return total


def _derivative(act: Activation) -> Callable[[Array], Array]:
    return lambda x: act.derivative(x, act.forward(x))


def mean_square(act: Activation, q: float) -> float:
    """E[φ(√q z)²]: the next layer's q is σ_w² times this plus σ_b²."""
    return gauss_expect(lambda x: act.forward(x) ** 2, q)


def slope_square(act: Activation, q: float) -> float:
    """E[φ′(√q z)²]: χ₁ is σ_w² times this (at q = 0 the limit from above, which a kink's
    one-sided derivative needs)."""
    d = _derivative(act)
    return gauss_expect(lambda x: d(x) ** 2, max(q, 1e-300))


def q_map_slope(act: Activation, sw2: float, q: float) -> float:
    """d q^{l+1} / d q^l = χ₁ + σ_w² E[φφ″], by Stein's lemma σ_w² E[φ²(z² − 1)] / (2q):
    no second derivative, so kinks need no special case."""
    q = max(q, 1e-8)
    z, w = _half_rule()
    values = act.forward(math.sqrt(q) * z) ** 2
    return sw2 * float(np.dot(w, values * (z * z - 1.0))) / (2.0 * q)


def q_map(act: Activation, sw2: float, sb2: float, q: float) -> float:
    """One layer of the variance map."""
    return sw2 * mean_square(act, q) + sb2


def fixed_point(act: Activation, sw2: float, sb2: float, q_from: float) -> float:
    """The q* that iterating the map from ``q_from`` reaches: 0, a finite root or inf.

    Bracketing the root of f(q) − q in the direction the map moves is exact where iterating
    crawls (tanh at σ_w = 1 approaches 0 like 1/l). A map with f(q) = q (ReLU at σ_w = √2,
    σ_b = 0) keeps every q: q* is ``q_from``.
    """
    def gap(q: float) -> float:
        return q_map(act, sw2, sb2, q) - q

    q = max(q_from, Q_ZERO)
    g = gap(q)
    if abs(g) <= 1e-9 * q:
        return q
    step = STEP_UP if g > 0 else 1.0 / STEP_UP
    while True:
        nxt = q * step
        if nxt > Q_CAP:
            return math.inf
        if nxt < Q_ZERO:
            return 0.0
        if (gap(nxt) > 0) != (g > 0):
            break
        q = nxt
    low, high = sorted((q, nxt))
    for _ in range(80):
        mid = math.sqrt(low * high)
        if (gap(mid) > 0) == (gap(low) > 0):
            low = mid
        else:
            high = mid
        if high - low <= 1e-14 * high:
            break
    return math.sqrt(low * high)


def _evaluation_q(q_star: float) -> float:
    """Where to evaluate expectations 'at q*' when q* is 0 or infinite."""
    return Q_CAP if math.isinf(q_star) else max(q_star, Q_ZERO)


def correlation_fixed_point(act: Activation, sw2: float, sb2: float, q_star: float,
                            chi1: float) -> tuple[float, float]:
    """(c*, χ_c). Ordered or critical: c* = 1 and χ_c = χ₁, except where q* = 0 without
    biases: there the signal shrinks to where φ is linear (ReLU's kind: at any scale), the
    correlation map normalized by the shrinking q has slope 1 at c = 1, and two inputs keep
    their correlation: no finite depth scale (a ReLU net at 0.37 x Kaiming is the Kaiming
    net scaled by 0.37 per layer, its inputs as distinct). Chaotic: the stable c* < 1 of
    c → (σ_w² E[φ(u₁)φ(u₂)] + σ_b²) / q*, and χ_c = σ_w² E[φ′(u₁)φ′(u₂)] there."""
    if chi1 <= 1.0 + CRITICAL_TOLERANCE:
        after = q_map(act, sw2, 0.0, Q_ZERO) if q_star == 0.0 and sb2 == 0.0 else 0.0
        if after > 0.0:  # (a zero init maps every q to 0: nothing to normalize by)
            return 1.0, sw2 * slope_square(act, Q_ZERO) * Q_ZERO / after
        return 1.0, chi1
    q = _evaluation_q(q_star)
    norm = q_map(act, sw2, sb2, q)

    def gap(c: float) -> float:
        return (sw2 * pair_expect(act.forward, act.forward, q, c) + sb2) / norm - c

    low, high = 0.0, 1.0 - 1e-9
    if abs(gap(low)) <= 1e-13:
        c_star = 0.0
    elif gap(high) >= 0:
        c_star = 1.0
    else:
        c_star = _illinois(gap, low, high)
    d = _derivative(act)
    return c_star, sw2 * pair_expect(d, d, q, c_star)


def _illinois(f: Callable[[float], float], low: float, high: float, tol: float = 1e-12) -> float:
    """A root of f in [low, high] where f changes sign: regula falsi with the Illinois fix,
    ~10 evaluations where bisection needs 40 (each one a 2-D expectation)."""
    f_low, f_high = f(low), f(high)
    side = 0
    for _ in range(100):
        x = (low * f_high - high * f_low) / (f_high - f_low)
        fx = f(x)
        if fx == 0.0 or high - low <= tol:
            return x
        if (fx > 0) == (f_low > 0):
            low, f_low = x, fx
            f_high = f_high / 2.0 if side == -1 else f_high
            side = -1
        else:
            high, f_high = x, fx
            f_low = f_low / 2.0 if side == 1 else f_low
            side = 1
        if abs(fx) <= tol:
            return x
    return 0.5 * (low + high)


def depth_scale(slope: float) -> float | None:
    """−1/ln(slope): layers over which a perturbation decays by e; None unless 0 < slope < 1
    (at 1 within 1e-6, the decay is slower than exponential: no finite scale)."""
    if not 0.0 < slope < 1.0 - 1e-6:
        return None
    return -1.0 / math.log(slope)


def phase_of(chi1: float) -> str:
    if abs(chi1 - 1.0) <= CRITICAL_TOLERANCE:
        return "critical"
    return "ordered" if chi1 < 1.0 else "chaotic"


def critical_sigma_w(act: Activation, sb2: float) -> float | None:
    """σ_w with χ₁ = 1 at a stable fixed point (q-map slope ≤ 1) for this σ_b²; None if none.

    Poole's parametrisation by q*: χ₁ = 1 fixes σ_w²(q) = 1 / E[φ′²], and q = f(q) then fixes
    σ_b²(q) = q − σ_w²(q) E[φ²]; the roots of σ_b²(q) = sb2 are the candidate points.
    """
    def sw2_at(q: float) -> float:
        return 1.0 / slope_square(act, q)

    def gap(q: float) -> float:
        return q - sw2_at(q) * mean_square(act, q) - sb2

    grid = np.geomspace(1e-6, 1e4, 241)
    gaps = np.array([gap(q) for q in grid])
    if np.all(np.abs(gaps) <= 1e-9 * (grid + sb2)):
        return math.sqrt(sw2_at(1.0))  # every q is critical (ReLU, identity with σ_b = 0)
    candidates = []
    if sb2 == 0.0 and abs(float(act.forward(np.zeros(1))[0])) < 1e-15:
        sw2 = sw2_at(Q_ZERO)  # q* = 0 is a fixed point; stable if f(q) < q just above it
        probe = 1e-3
        if sw2 * mean_square(act, probe) <= probe * (1.0 + 1e-9):
            candidates.append(sw2)
    for i in np.flatnonzero(np.sign(gaps[:-1]) != np.sign(gaps[1:])):
        low, high = float(grid[i]), float(grid[i + 1])
        for _ in range(60):
            mid = math.sqrt(low * high)
            low, high = (mid, high) if (gap(mid) > 0) == (gaps[i] > 0) else (low, mid)
        q = math.sqrt(low * high)
        sw2 = sw2_at(q)
        if q_map_slope(act, sw2, q) <= 1.0 + 1e-6:
            candidates.append(sw2)
    return math.sqrt(candidates[0]) if candidates else None


def unit_sigma_w(init: str, fan_in: int, fan_out: int, gain: float) -> float:
    """σ_w = √(fan_in × Var W) at init_scale 1 (Var of uniform(±a) is a²/3)."""
    variance = {"normal": 1.0, "uniform": 1.0 / 3.0, "xavier": 2.0 / (fan_in + fan_out),
                "kaiming": gain * gain / fan_in, "zero": 0.0}[init]
    return math.sqrt(fan_in * variance)


@dataclass(frozen=True)
class Prediction:
    """The mean-field picture of one Config at init (inf stands for 'grows without bound')."""

    act: str
    sigma_w: float
    """Of the deep (hidden-to-hidden) map; ``sigma_w_layers`` has every hidden layer's."""
    sigma_b: float
    q0: float
    q: list[float]
    q_star: float
    chi1: float
    phase: str
    q_slope: float
    xi_q: float | None
    c_star: float
    chi_c: float
    xi_c: float | None
    critical_init_scale: float | None
    sigma_w_layers: list[float] = field(default_factory=list)
    gradient_factors: list[float] = field(default_factory=list)
    """This net's per-layer ``gradient_factors``: not χ₁ while q is far from q*."""
    width_factors: list[float] = field(default_factory=list)
    """Each factor's width over fan-in: 1 where the layers are equally wide, which
    mean-field theory assumes."""
    applies: bool = True
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready: non-finite numbers become None (JSON has no inf)."""
        def clean(value):
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return [clean(v) for v in value] if isinstance(value, list) else value
        return {key: clean(value) for key, value in asdict(self).items()}


def layer_sigmas(config: Config) -> list[float]:
    """σ_w of every hidden layer as the engine draws it (xavier depends on the fans)."""
    gain = get_activation(config.act).gain
    return [config.init_scale * unit_sigma_w(config.init, fan, width, gain)
            for fan, width in zip(config.fan_ins(), config.widths, strict=False)]


def predicted_q(config: Config, q0: float = 1.0) -> list[float]:
    """Pre-activation variance of each hidden layer, first first: q¹ = σ_w²q⁰ + σ_b², then
    q^{l+1} = σ_w² E[φ(√q^l z)²] + σ_b² (1 for every layer under normalization)."""
    if config.norm != "none":
        return [1.0] * config.depth
    act = get_activation(config.act)
    sb2 = config.bias_init**2
    q_list, q = [], q0
    for i, sigma in enumerate(layer_sigmas(config)):
        q = sigma**2 * (q if i == 0 else mean_square(act, q)) + sb2
        q_list.append(q)
    return q_list


def input_mean_square(config: Config, first_std: float | None) -> float:
    """q⁰ that makes the first layer's predicted variance the measured one, σ_w₁²q⁰ + σ_b²
    = std²: the input's measured mean square (1 when nothing was measured)."""
    sigmas = layer_sigmas(config)
    if first_std is None or not sigmas or sigmas[0] <= 0 or not math.isfinite(first_std):
        return 1.0
    sb2 = 0.0 if config.norm == "batch" else config.bias_init**2
    return max(first_std**2 - sb2, 1e-12) / sigmas[0] ** 2


def predict(config: Config, q0: float = 1.0) -> Prediction:
    """Theory for ``config`` at init; ``q0`` is the first layer's input mean square (1 for
    N(0, 1) embeddings; pass a measured value for 2-D features)."""
    act = get_activation(config.act)
    fans, widths = config.fan_ins(), config.widths
    last = widths[-1] if widths else int(config.width.split(",")[-1])
    deep_fan = fans[len(widths) - 1] if len(widths) > 1 else last
    unit = unit_sigma_w(config.init, deep_fan, last, act.gain)
    sigma_w = config.init_scale * unit
    sigma_b = 0.0 if config.norm == "batch" else config.bias_init
    sw2, sb2 = sigma_w**2, sigma_b**2
    unnormalized = config.replace(norm="none", bias_init=sigma_b) if config.norm != "none" \
        else config
    q_list = predicted_q(unnormalized, q0)
    q_star = fixed_point(act, sw2, sb2, q_list[-1] if q_list else q0)
    chi1 = sw2 * slope_square(act, _evaluation_q(q_star))
    slope = q_map_slope(act, sw2, _evaluation_q(q_star))
    c_star, chi_c = correlation_fixed_point(act, sw2, sb2, q_star, chi1)
    critical = critical_sigma_w(act, sb2) if unit > 0 else None
    applies, note = True, ""
    if config.norm != "none":
        applies = False
        note = (f"{config.norm} norm rescales every pre-activation to variance 1 at init: the "
                "map's q and χ₁ describe the unnormalized net, not this one")
        q_list = predicted_q(config, q0)
    elif config.init == "zero":
        applies = False
        note = ("zero init: every unit of a layer computes the same thing, so the map's "
                "independence assumption fails; q is just σ_b² and no init scale helps")
    return Prediction(
        act=act.name, sigma_w=sigma_w, sigma_b=sigma_b, q0=q0, q=q_list, q_star=q_star,
        chi1=chi1, phase=phase_of(chi1), q_slope=slope, xi_q=depth_scale(slope),
        c_star=c_star, chi_c=chi_c, xi_c=depth_scale(chi_c),
        critical_init_scale=None if critical is None else critical / unit,
        sigma_w_layers=layer_sigmas(config), applies=applies, note=note,
        gradient_factors=gradient_factors(config, q_list) if applies else [],
        width_factors=width_factors(config, len(q_list)) if applies else [])


def gradient_factors(config: Config, q: list[float]) -> list[float]:
    """What one layer down multiplies ∂loss/∂h's mean square by, per hidden layer above the
    first (∂h^{l−1} = W^lᵀ(φ′(u^l) ∂h^l)): σ_w² E[φ′(√q^l z)²] × width/fan-in, χ₁ at q*."""
    act = get_activation(config.act)
    sigmas, fans, widths = layer_sigmas(config), config.fan_ins(), config.widths
    return [sigmas[i] ** 2 * widths[i] / fans[i] * slope_square(act, q[i])
            for i in range(1, len(q))]


def width_factors(config: Config, depth: int) -> list[float]:
    """Width over fan-in of each hidden layer above the first: the part of
    ``gradient_factors`` that unequal widths make."""
    widths, fans = config.widths, config.fan_ins()
    return [widths[i] / fans[i] for i in range(1, depth)]


def predicted_grad_ms(config: Config, q: list[float], last_ms: float) -> list[float]:
    """Mean square of ∂loss/∂h per hidden layer, first first, from the forward prediction
    ``q`` and the last layer's measured ``last_ms`` (the output layer and the loss set it)."""
    factors = gradient_factors(config, q)
    return [last_ms * math.prod(factors[i:]) for i in range(len(q))]


def edge_depth(config: Config, scales: list[float]) -> list[float | None]:
    """6 ξ_c at each init scale (None where infinite): nets deeper train slowly or not at all."""
    xis = [predict(config.replace(init_scale=scale)).xi_c for scale in scales]
    return [None if xi is None else 6.0 * xi for xi in xis]

"""Mean-field theory: the quadrature, DESIGN.md's reference values, agreement with the engine
at init, and the ``theory`` subcommand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neurondash.cli import main
from neurondash.config import Config
from neurondash.data import data_rngs, load_dataset
from neurondash.engine.model import build_model
from neurondash.engine.train import deterministic_blas
from neurondash.parts.activations import get_activation
from neurondash.parts.losses import cross_entropy
from neurondash.seed_spread import seed_spread
from neurondash.theory import (
    LIMIT,
    critical_sigma_w,
    edge_depth,
    fixed_point,
    gauss_expect,
    mean_square,
    pair_expect,
    predict,
    predicted_grad_ms,
    predicted_q,
)
from neurondash.training import train

TANH = get_activation("tanh")


def trapezoid_expect(f, q: float, n: int = 2**20) -> float:
    """Brute force: trapezoid on [−L, 0] and [0, L] (split at the kinks), Richardson-extrapolated
    from n and n/2 panels."""
    def rule(m: int) -> float:
        total = 0.0
        for low, high in ((-LIMIT, 0.0), (0.0, LIMIT)):
            z = np.linspace(low, high, m + 1)
            z[z == 0.0] = 1e-300 if low == 0.0 else -1e-300  # a step's one-sided value
            y = f(math.sqrt(q) * z) * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
            total += (high - low) / m * (y.sum() - 0.5 * (y[0] + y[-1]))
        return total
    return (4 * rule(n) - rule(n // 2)) / 3


@pytest.mark.parametrize("name", ["tanh", "relu", "elu", "gelu", "sigmoid"])
def test_split_gauss_legendre_matches_brute_force(name):
    act = get_activation(name)
    square = lambda x: act.forward(x) ** 2  # noqa: E731
    slope = lambda x: act.derivative(x, act.forward(x)) ** 2  # noqa: E731
    for q in (1e-4, 1e-2, 1.0, 30.0, 1e3):
        for f in (square, slope):
            exact = trapezoid_expect(f, q)
            assert gauss_expect(f, q) == pytest.approx(exact, rel=1e-10, abs=1e-300)


def test_pair_expectation_limits_and_arc_cosine_kernel():
    relu = get_activation("relu").forward
    for c in (-0.7, 0.0, 0.5, 0.95):
        theta = math.acos(c)
        exact = (math.sin(theta) + (math.pi - theta) * c) / (2 * math.pi)  # q = 1
        assert pair_expect(relu, relu, 1.0, c) == pytest.approx(exact, rel=1e-9)
    assert pair_expect(np.tanh, np.tanh, 2.0, 0.0) == pytest.approx(0.0, abs=1e-14)
    assert pair_expect(np.tanh, np.tanh, 2.0, 1.0) == pytest.approx(mean_square(TANH, 2.0))


def test_tanh_edge_of_chaos_without_bias():
    assert predict(Config(act="tanh", init_scale=0.6)).phase == "critical"
    ordered = predict(Config(act="tanh", init_scale=0.9 * 0.6))
    assert ordered.q_star == 0.0 and ordered.chi1 == pytest.approx(0.81, abs=1e-6)
    assert ordered.phase == "ordered"
    assert critical_sigma_w(TANH, 0.0) == pytest.approx(1.0, abs=1e-6)
    assert ordered.critical_init_scale == pytest.approx(0.6, abs=1e-6)


def test_tanh_with_bias_critical_point():
    sigma_w = critical_sigma_w(TANH, 0.05)
    assert sigma_w**2 == pytest.approx(1.7610, abs=1e-4)
    assert fixed_point(TANH, sigma_w**2, 0.05, 1.0) == pytest.approx(0.570, abs=1e-3)


def test_lecture_default_is_chaotic():
    p = predict(Config(act="tanh"))
    assert p.q_star == pytest.approx(1.178, abs=1e-3) and p.chi1 == pytest.approx(1.21, abs=5e-3)
    assert p.phase == "chaotic" and p.c_star == pytest.approx(0.0, abs=1e-9)
    assert p.xi_c == pytest.approx(12.1, abs=0.05)


def test_relu_chi1_is_half_sigma_w_squared_at_every_q():
    relu = get_activation("relu")
    for scale in (0.5, 1.0, 2.0):
        p = predict(Config(act="relu", init_scale=scale, depth=6))
        assert p.chi1 == pytest.approx(scale**2, rel=1e-9)
        assert p.q == pytest.approx([2 * scale**2 * scale ** (2 * i) for i in range(6)], rel=1e-9)
        assert p.critical_init_scale == pytest.approx(1.0, rel=1e-9)
    assert predict(Config(act="relu", init_scale=2.0)).q_star == math.inf
    assert predict(Config(act="relu", bias_init=0.1)).critical_init_scale is None
    assert critical_sigma_w(relu, 0.0) == pytest.approx(math.sqrt(2), rel=1e-9)


def test_linear_stack_multiplies_by_sigma_w_squared():
    q = predicted_q(Config(act="identity", init_scale=1.3, depth=8), q0=0.7)
    assert q == pytest.approx([0.7 * 1.3 ** (2 * (i + 1)) for i in range(8)], rel=1e-12)


def test_sigmoid_is_deep_in_the_ordered_phase():
    sigmoid = get_activation("sigmoid")
    assert predict(Config(act="sigmoid")).phase == "ordered"
    sigma_w = critical_sigma_w(sigmoid, 0.0)
    assert sigma_w == pytest.approx(10.149, abs=1e-3)
    assert fixed_point(sigmoid, sigma_w**2, 0.0, 1.0) == pytest.approx(45.6, abs=0.05)


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_gelu_and_silu_have_no_stable_edge_without_bias(name):
    assert critical_sigma_w(get_activation(name), 0.0) is None
    assert predict(Config(act=name)).critical_init_scale is None


def test_gelu_needs_bias_variance_about_0_17_for_a_stable_edge():
    gelu = get_activation("gelu")
    low, high = 0.1, 0.3
    assert critical_sigma_w(gelu, low) is None and critical_sigma_w(gelu, high) is not None
    for _ in range(8):
        mid = (low + high) / 2
        low, high = (mid, high) if critical_sigma_w(gelu, mid) is None else (low, mid)
    assert 0.16 < high < 0.18


def test_schemes_are_expressed_as_fan_in_times_variance():
    base = dict(act="tanh", depth=3, width="100", context=3, embed_dim=10)
    assert predict(Config(**base, init="normal", init_scale=0.1)).sigma_w == pytest.approx(1.0)
    assert predict(Config(**base, init="uniform", init_scale=0.1)).sigma_w == pytest.approx(
        1 / math.sqrt(3))
    xavier = predict(Config(**base, init="xavier"))
    assert xavier.sigma_w == pytest.approx(1.0)
    assert xavier.sigma_w_layers[0] == pytest.approx(math.sqrt(30 * 2 / 130))
    zero = predict(Config(**base, init="zero", bias_init=0.5))
    assert not zero.applies and zero.q == pytest.approx([0.25] * 3)
    assert zero.critical_init_scale is None
    batch = predict(Config(**base, norm="batch", bias_init=0.5))
    assert not batch.applies and batch.q == [1.0] * 3 and batch.sigma_b == 0.0


def measured_at_init(act: str, scale: float, width: int, seed: int,
                     depth: int = 20) -> tuple[list[float], np.ndarray]:
    """Prediction from the measured input mean square, and each hidden layer's measured
    pre-activation variance (preact_std²), of the engine's own model at init.

    Depth 20 at width 1024 is past the Config's caps, so a valid Config is built and its
    depth and width set afterwards: build_model then draws exactly what training would.
    Context 16 × embed 64 gives 1024 input dimensions: with only 30, every layer's
    fluctuation is that of a rank-30 signal and the ordered phase drifts by ~10%.
    """
    config = Config(act=act, init_scale=scale, depth=3, width="64", context=16, embed_dim=64)
    object.__setattr__(config, "depth", depth)
    object.__setattr__(config, "width", str(width))
    model = build_model(config, 27, 27, np.random.default_rng(seed))
    x = np.random.default_rng(seed + 10_000).integers(0, 27, (512, config.context))
    with deterministic_blas():
        model.forward(x, train=False)
    q0 = float(np.mean(model.layers[model.blocks[0].linear].x.astype(np.float64) ** 2))
    measured = np.array([np.var(model.layers[b.activation].x, dtype=np.float64)
                         for b in model.blocks])
    return predicted_q(config, q0), measured


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_tanh_engine_follows_theory_per_layer(scale):
    predicted, measured = measured_at_init("tanh", scale, 1024, seed=0)
    assert measured == pytest.approx(predicted, rel=0.03)


@pytest.mark.parametrize(("act", "scale"), [("relu", 1.0), ("gelu", 0.5), ("gelu", 2.0)])
def test_relu_and_gelu_follow_theory_over_seeds(act, scale):
    """A single seed scatters log-normally (√(5l/N): ~60% at layer 20 of width 256), so the
    mean of 16 seeds is compared: within 10% over the first 10 layers, 30% at depth 20 (16
    seeds leave ~15% of noise there). The one-step map q^l → q^{l+1}, applied to each seed's
    measured q, holds within 10% at every layer (noise √(5/N)/4 ≈ 3.5%)."""
    runs = [measured_at_init(act, scale, 256, seed) for seed in range(16)]
    ratios = np.mean([m / np.array(p) for p, m in runs], axis=0)
    assert ratios[:10] == pytest.approx(np.ones(10), abs=0.10)
    assert ratios == pytest.approx(np.ones(20), abs=0.30)
    config = Config(act=act, init_scale=scale)
    gain2 = (config.init_scale * get_activation(act).gain) ** 2
    one_step = np.mean([m[1:] / np.array([gain2 * mean_square(get_activation(act), q)
                                          for q in m[:-1]]) for _, m in runs], axis=0)
    assert one_step == pytest.approx(np.ones(19), abs=0.10)


def test_cli_theory_json(capsys):
    assert main(["theory", "--act", "tanh", "--depth", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["q"]) == 5 and out["q"][0] == pytest.approx(25 / 9)
    assert out["chi1"] == pytest.approx(1.21, abs=5e-3) and out["phase"] == "chaotic"
    assert out["xi_c"] == pytest.approx(12.1, abs=0.05)
    assert out["critical_init_scale"] == pytest.approx(0.6, abs=1e-6)
    assert out["sigma_w"] == pytest.approx(5 / 3) and out["sigma_b"] == 0.0
    assert main(["theory", "--act", "gelu", "--json"]) == 0
    gelu = json.loads(capsys.readouterr().out)
    assert gelu["critical_init_scale"] is None
    assert main(["theory", "--act", "relu", "--init-scale", "2", "--json"]) == 0
    relu = json.loads(capsys.readouterr().out)
    assert relu["q_star"] is None and relu["xi_c"] is None and relu["phase"] == "chaotic"


def test_cli_theory_table_and_bad_input(capsys):
    assert main(["theory", "--act", "relu", "--depth", "2"]) == 0
    out = capsys.readouterr().out
    assert "chi1 1 (critical)" in out and "critical init_scale 1" in out
    assert main(["theory", "--q0", "-1"]) == 2
    assert main(["theory", "--depth", "99"]) == 2


def test_backward_map_closed_forms():
    """Linear: one layer down multiplies the gradient's mean square by σ_w² × width/fan-in
    of the layer above; ReLU by σ_w²/2 (χ₁ at every q)."""
    config = Config(act="identity", init_scale=1.3, depth=3, width="20,40,10")
    ms = predicted_grad_ms(config, predicted_q(config), 2.0)
    assert ms == pytest.approx([2.0 * 1.69**2 * (40 / 20) * (10 / 40), 2.0 * 1.69 * 10 / 40,
                                2.0], rel=1e-12)
    relu = Config(act="relu", init_scale=0.7, depth=5)
    assert predicted_grad_ms(relu, predicted_q(relu), 1.0) == pytest.approx(
        [0.49 ** (4 - i) for i in range(5)], rel=1e-9)


def measured_gradients_at_init(act: str, scale: float, width: int, seed: int,
                               depth: int = 10) -> tuple[list[float], np.ndarray]:
    """The backward prediction from the engine's own q⁰ and last-layer gradient, and each
    hidden layer's measured ∂loss/∂h mean square at init (as ``measured_at_init``)."""
    config = Config(act=act, init_scale=scale, depth=3, width="64", context=16, embed_dim=64)
    object.__setattr__(config, "depth", depth)
    object.__setattr__(config, "width", str(width))
    model = build_model(config, 27, 27, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 10_000)
    x, y = rng.integers(0, 27, (512, config.context)), rng.integers(0, 27, 512)
    with deterministic_blas():
        _, dlogits = cross_entropy(model.forward(x, train=False), y)
        model.backward(dlogits)
    q0 = float(np.mean(model.layers[model.blocks[0].linear].x.astype(np.float64) ** 2))
    measured = np.array([np.mean(model.layers[b.activation].grad_out.astype(np.float64) ** 2)
                         for b in model.blocks])
    return predicted_grad_ms(config, predicted_q(config, q0), measured[-1]), measured


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_tanh_gradients_follow_the_backward_map(scale):
    """Within 8% per layer at width 512 over 10 layers (measured 1-6% at width 256)."""
    predicted, measured = measured_gradients_at_init("tanh", scale, 512, seed=1)
    assert measured == pytest.approx(predicted, rel=0.08)


def test_relu_gradients_follow_the_backward_map_over_seeds():
    ratios = np.mean([m / np.array(p) for p, m in (
        measured_gradients_at_init("relu", 1.0, 256, seed) for seed in range(8))], axis=0)
    assert ratios == pytest.approx(np.ones(10), abs=0.10)


@pytest.mark.parametrize("examples", [512, 128])
def test_the_seed_band_measures_what_the_run_measures(examples):
    """A seed's row is the std the run itself records at step 0 on its diagnostic batch:
    pre-activations, and the gradients of the mean loss over that batch (on fewer examples,
    scaled to it)."""
    config = Config(act="relu", depth=4, width="48", steps=1)
    run = train(config)
    data = load_dataset(config)
    batch = data_rngs(config.seed)["diagnostics"].permutation(len(data.y["train"]))
    batch = batch[:examples]
    own = seed_spread(config, data.x["train"][batch], data.n_inputs, data.n_classes,
                      [config.seed], y=data.y["train"][batch], per=run.diagnostic_examples)
    recorded = run.layers[run.layers["step"] == 0]
    tolerance = 1e-4 if examples == run.diagnostic_examples else 0.15
    assert own["preact"][0] == pytest.approx(recorded["preact_std"].to_numpy(), rel=tolerance)
    assert own["grad"][0] == pytest.approx(recorded["grad_std"].to_numpy(), rel=tolerance)


def test_relu_seeds_scatter_as_width_says_and_tanh_seeds_do_not():
    """Log-normal scatter of q of about √(5l/N) (DESIGN.md), so of the std about half."""
    spreads = {}
    for act in ("relu", "tanh"):
        config = Config(act=act, depth=8, width="128")
        data = load_dataset(config)
        spread = seed_spread(config, data.x["train"][:128], data.n_inputs, data.n_classes,
                             list(range(16)))["preact"]
        spreads[act] = np.log(spread[:, -1] / np.sqrt(predicted_q(config)[-1])).std()
    expected = math.sqrt(5 * 8 / 128) / 2
    assert expected / 2 < spreads["relu"] < 2 * expected
    assert spreads["tanh"] < spreads["relu"] / 4


def test_edge_depth_is_six_correlation_lengths():
    """tanh with a bias, ordered: q* > 0 and χ_c = χ₁, so 6 ξ_c = −6 / ln χ₁; infinite at
    the edge. Without a bias q* = 0, where tanh is linear: no finite depth scale."""
    base = Config(act="tanh", depth=2, width="32", bias_init=0.05)
    scales = [0.1, 0.3, 0.5]
    depths = edge_depth(base, scales)
    assert depths == pytest.approx(
        [-6 / math.log(predict(base.replace(init_scale=s)).chi1) for s in scales], rel=1e-9)
    assert depths[0] < depths[1] < depths[2]
    assert edge_depth(base.replace(bias_init=0.0), scales + [0.6]) == [None] * 4
    chaotic = edge_depth(base.replace(bias_init=0.0), [1.0])[0]
    assert chaotic == pytest.approx(6 * 12.1, abs=0.3)


@pytest.mark.parametrize(("act", "sigma_w"), [("tanh", 0.5), ("relu", 2**0.5 * 0.37)])
def test_without_bias_an_ordered_net_keeps_its_inputs_apart_as_theory_says(act, sigma_w):
    """χ_c = χ₁ (0.25 here) said two inputs' correlation closes on 1 within a layer or two.
    A wide random net without biases shows it does not: its signal shrinks to where tanh is
    linear (ReLU: scale-free), and 1 - c stays where the first layer put it (tanh) or
    shrinks as slowly as in the Kaiming net (ReLU), far from ×0.25 per layer."""
    rng = np.random.default_rng(0)
    width, phi = 2000, {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0)}[act]
    x = rng.standard_normal(width)
    pair = [x, 0.6 * x + 0.8 * rng.standard_normal(width)]
    gaps = []
    for layer in range(6):
        weights = rng.standard_normal((width, width)) * sigma_w / np.sqrt(width)
        pair = [weights @ (phi(h) if layer else h) for h in pair]
        gaps.append(1 - pair[0] @ pair[1] / np.sqrt((pair[0] @ pair[0]) * (pair[1] @ pair[1])))
    assert gaps[-1] > 0.25 * gaps[0], gaps  # 0.25**5 of it, had χ_c been χ₁
    config = Config(act=act, depth=6, init_scale=sigma_w / (5 / 3 if act == "tanh" else 2**0.5))
    prediction = predict(config)
    assert prediction.phase == "ordered" and prediction.chi1 < 0.3
    assert prediction.xi_c is None and prediction.chi_c == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("init", ["kaiming", "xavier", "zero"])
def test_every_activation_init_and_scale_gets_a_prediction(init):
    """A zero init maps every q to 0: the normalised correlation slope divided by it."""
    from neurondash.parts.activations import ACTIVATIONS

    for act in ACTIVATIONS:
        for scale in (0.001, 0.3, 1.0, 3.0, 100.0):
            for bias in (0.0, 0.1):
                prediction = predict(Config(act=act, init=init, init_scale=scale,
                                            bias_init=bias))
                assert prediction.xi_c is None or prediction.xi_c > 0
                assert math.isfinite(prediction.chi_c) and prediction.chi_c >= 0

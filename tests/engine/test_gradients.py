"""float64 finite-difference checks of every layer, activation, the loss and whole models."""

from __future__ import annotations

import numpy as np
import pytest

from neurondash.config import Config
from neurondash.engine import gradcheck
from neurondash.engine.gradcheck import TOLERANCE, relative_error
from neurondash.engine.model import Model, build_model
from neurondash.features import FEATURES
from neurondash.parts.activations import ACTIVATIONS
from neurondash.parts.initializers import INITIALIZERS
from neurondash.parts.layers import (
    ActivationLayer,
    BatchNorm1d,
    Embedding,
    FlattenConsecutive,
    LayerNorm,
    Linear,
)
from neurondash.parts.losses import cross_entropy

KINKED = {"relu", "leaky_relu"}


def numeric_grad(f, array: np.ndarray) -> np.ndarray:
    """Central differences of scalar f() with respect to every entry of ``array``."""
    return gradcheck.numeric_grad(f, array).reshape(array.shape)


def bind(layer) -> Model:
    model = Model([layer], dtype=np.float64)
    rng = np.random.default_rng(0)
    model.flat[...] = rng.normal(0.0, 1.0, model.flat.size)
    if isinstance(layer, BatchNorm1d):
        layer.update_running = False
    if isinstance(layer, Linear):
        layer.needs_input_grad = True  # a model's first Linear skips it; here we check it
    return model


def check_layer(layer, x: np.ndarray, check_input: bool = True) -> None:
    model = bind(layer)
    rng = np.random.default_rng(1)
    upstream = rng.normal(size=layer.forward(x).shape)
    objective = lambda: float(np.sum(layer.forward(x) * upstream))  # noqa: E731
    layer.forward(x)
    dx = layer.backward(upstream)
    analytic = {name: g.copy() for name, g in model.gradients().items()}
    for name, param in model.parameters().items():
        err = relative_error(analytic[name], numeric_grad(objective, param))
        assert err < TOLERANCE, f"{layer!r} {name}: relative error {err:.2e}"
    if check_input:
        err = relative_error(dx, numeric_grad(objective, x))
        assert err < TOLERANCE, f"{layer!r} input: relative error {err:.2e}"


def test_linear_with_and_without_bias():
    x = np.random.default_rng(2).normal(size=(7, 5))
    check_layer(Linear(5, 4, bias=True), x)
    check_layer(Linear(5, 4, bias=False), x.copy())


def test_embedding():
    x = np.random.default_rng(3).integers(0, 6, size=(9, 3))
    check_layer(Embedding(6, 4), x, check_input=False)


@pytest.mark.parametrize("norm", [BatchNorm1d, LayerNorm])
def test_normalization_layers(norm):
    x = np.random.default_rng(4).normal(size=(8, 6)) * 3 + 1
    check_layer(norm(6), x)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation(name):
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 3, size=(6, 5))
    if name in KINKED:
        x[np.abs(x) < 0.05] = 0.5  # finite differences are meaningless at the kink
    check_layer(ActivationLayer(ACTIVATIONS[name]), x)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_float32_and_leave_the_incoming_gradient_alone(name):
    """A float64 constant in a derivative would silently turn every gradient below it
    into float64 (twice the memory, half the speed)."""
    rng = np.random.default_rng(6)
    x = rng.uniform(-3, 3, size=(4, 5)).astype(np.float32)
    upstream = rng.normal(size=(4, 5)).astype(np.float32)
    kept = upstream.copy()
    layer = ActivationLayer(ACTIVATIONS[name])
    assert layer.forward(x).dtype == np.float32
    dx = layer.backward(upstream)
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(upstream, kept)
    assert dx is not upstream


def test_cross_entropy_gradient_and_stability():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(5, 7)) * 4
    targets = rng.integers(0, 7, 5)
    _, grad = cross_entropy(logits, targets)
    numeric = numeric_grad(lambda: cross_entropy(logits, targets)[0], logits)
    assert relative_error(grad, numeric) < TOLERANCE
    huge = np.array([[1e6, 0.0, -1e6]])
    loss, grad = cross_entropy(huge, np.array([1]))
    assert loss == pytest.approx(1e6) and np.all(np.isfinite(grad))


MODEL_CASES = [
    (task, norm, act)
    for norm in ("none", "batch", "layer")
    for act in sorted(ACTIVATIONS)
    for task in (("names",) if act != "tanh" else ("names", "spiral"))
]


@pytest.mark.parametrize(("task", "norm", "act"), MODEL_CASES)
def test_whole_model(task, norm, act):
    """Embedding (or 2-D input) -> 2 hidden blocks with norm and activation -> logits."""
    check_model(Config(task=task, context=2, embed_dim=3, depth=2, width="6,5", norm=norm,
                       act=act, bias_init=0.3, out_scale=1.0))


def test_whole_model_on_every_input_feature():
    """A 2-D model over all of Playground's features (squares, product, sines)."""
    check_model(Config(task="circles", depth=2, width="6,5", norm="batch", bias_init=0.3,
                       out_scale=1.0, features=",".join(FEATURES)))


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_whole_hierarchical_model(norm):
    """makemore part 5: context 4 fused two at a time over two levels, then a plain layer."""
    check_model(Config(context=4, fuse=2, embed_dim=3, depth=3, width="6,5,4", norm=norm,
                       bias_init=0.3, out_scale=1.0))


def test_flatten_consecutive_joins_neighbouring_positions():
    """Rows are (example, position): joining 2 positions puts each example's pairs in order."""
    layer = FlattenConsecutive(2, 3)
    x = np.arange(2 * 4 * 3, dtype=float).reshape(8, 3)  # 2 examples x 4 positions x 3
    out = layer.forward(x)
    assert out.shape == (4, 6)
    np.testing.assert_array_equal(out[1], np.concatenate([x[2], x[3]]))
    np.testing.assert_array_equal(out[2], np.concatenate([x[4], x[5]]))  # example 2 starts
    check_layer(FlattenConsecutive(2, 3), np.random.default_rng(9).normal(size=(8, 3)))


@pytest.mark.parametrize("init", sorted(INITIALIZERS))
@pytest.mark.parametrize("norm", ["none", "batch"])
def test_whole_model_under_every_init(init, norm):
    """Backward is exact whatever the starting point, the all-zero init included."""
    check_model(Config(context=2, embed_dim=3, depth=2, width="6,5", norm=norm, init=init,
                       init_scale=2.0, bias_init=0.3, out_scale=1.0))


def check_model(config: Config) -> None:
    task = config.task
    rng = np.random.default_rng(7)
    n_inputs = 27 if task == "names" else 2
    model = build_model(config, n_inputs, n_inputs if task == "names" else 2, rng, np.float64)
    model.set_running_updates(False)
    x = (rng.integers(0, 27, size=(10, config.context)) if task == "names"
         else rng.normal(size=(10, 2)))
    y = rng.integers(0, model.output.fan_out, 10)
    model.loss_and_grad(x, y)
    analytic = {name: g.copy() for name, g in model.gradients().items()}
    objective = lambda: cross_entropy(model.forward(x), y)[0]  # noqa: E731
    for name, param in model.parameters().items():
        err = relative_error(analytic[name], numeric_grad(objective, param))
        assert err < TOLERANCE, f"{name}: relative error {err:.2e}"


def test_batchnorm_running_statistics_are_the_momentum_average():
    """The lazily folded running stats equal PyTorch's step-by-step update."""
    layer = BatchNorm1d(4, momentum=0.1)
    bind(layer).flat[...] = 1.0  # gamma = beta = 1
    layer.update_running = True
    rng = np.random.default_rng(8)
    mean, var = np.zeros(4), np.ones(4)
    for step in range(150):
        x = rng.normal(2.0, 3.0, size=(16 if step < 100 else 8, 4))
        layer.forward(x)
        if step % 7 == 0:  # a diagnostics pass: batch statistics, running ones untouched
            layer.update_running = False
            layer.forward(rng.normal(size=(50, 4)))
            layer.update_running = True
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0, ddof=1)
        if step in (10, 63, 64, 99, 100, 149):
            assert layer.running_mean == pytest.approx(mean, rel=1e-12)
            assert layer.running_var == pytest.approx(var, rel=1e-12)
    eval_out = layer.forward(x, train=False)
    assert eval_out == pytest.approx((x - mean) / np.sqrt(var + layer.eps) + 1.0, rel=1e-10)

"""The network: a list of layers sharing one flat parameter buffer and one gradient buffer.

Parameters and gradients are exposed by stable names (``layers.2.weight``) so anyone can
inspect or cross-check them; the flat buffers make the optimizer and the per-matrix
statistics single vectorised operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..features import FeatureMap
from ..parts.activations import get_activation
from ..parts.initializers import INITIALIZERS
from ..parts.layers import (
    NORMS,
    ActivationLayer,
    BatchNorm1d,
    Embedding,
    FlattenConsecutive,
    Layer,
    LayerNorm,
    Linear,
)
from ..parts.losses import cross_entropy


@dataclass(frozen=True)
class HiddenBlock:
    """Indices of one hidden block's layers: Linear -> (Norm) -> Activation."""

    index: int
    linear: int
    norm: int | None
    activation: int
    width: int

    @property
    def name(self) -> str:
        """The layer's name in every table and chart ('hidden 1' is the first)."""
        return f"hidden {self.index + 1}"


class Model:
    """A sequential network with explicit backward and named, flat-backed parameters."""

    def __init__(self, layers: list[Layer], dtype: type = np.float32,
                 features: FeatureMap | None = None):
        self.layers = layers
        self.features = features
        """Turns 2-D points into the configured inputs before the first layer (None: the
        inputs are used as given)."""
        self.dtype = np.dtype(dtype)
        self.names: list[str] = []
        self.roles: list[str] = []
        self.slices: list[slice] = []
        offset = 0
        specs = []
        for i, layer in enumerate(layers):
            for spec in layer.param_specs():
                size = int(np.prod(spec.shape))
                specs.append((i, spec, slice(offset, offset + size)))
                self.names.append(f"layers.{i}.{spec.name}")
                self.roles.append(spec.role)
                self.slices.append(slice(offset, offset + size))
                offset += size
        self.flat = np.zeros(offset, dtype=self.dtype)
        self.grad = np.zeros(offset, dtype=self.dtype)
        per_layer: dict[int, tuple[dict, dict]] = {i: ({}, {}) for i in range(len(layers))}
        for i, spec, sl in specs:
            per_layer[i][0][spec.name] = self.flat[sl].reshape(spec.shape)
            per_layer[i][1][spec.name] = self.grad[sl].reshape(spec.shape)
        for i, layer in enumerate(layers):
            layer.bind(*per_layer[i])
            layer.set_buffer_dtype(self.dtype)
        first_linear = next((layer for layer in layers if isinstance(layer, Linear)), None)
        if first_linear is not None and layers.index(first_linear) == 0:
            first_linear.needs_input_grad = False
        self.blocks = self._find_blocks()
        # Bound once: a training step calls every one of them.
        self._forwards = tuple(layer.forward for layer in layers)
        self._backwards = tuple(layer.backward for layer in reversed(layers))

    def _find_blocks(self) -> list[HiddenBlock]:
        blocks = []
        for i, layer in enumerate(self.layers):
            linears = [j for j in range(i) if isinstance(self.layers[j], Linear)]
            if isinstance(layer, ActivationLayer) and linears:
                linear = linears[-1]
                norm = i - 1 if isinstance(self.layers[i - 1], BatchNorm1d | LayerNorm) else None
                blocks.append(HiddenBlock(len(blocks), linear, norm, i,
                                          self.layers[linear].fan_out))
        return blocks

    @property
    def output(self) -> Linear:
        return self.layers[-1]

    def parameters(self) -> dict[str, np.ndarray]:
        """Views of every parameter by name (writing to them changes the model)."""
        return {name: self.flat[sl].reshape(self._shape(name)) for name, sl in
                zip(self.names, self.slices, strict=True)}

    def gradients(self) -> dict[str, np.ndarray]:
        """Gradients from the last backward, by the same names as ``parameters``."""
        return {name: self.grad[sl].reshape(self._shape(name)) for name, sl in
                zip(self.names, self.slices, strict=True)}

    def _shape(self, name: str) -> tuple[int, ...]:
        _, index, local = name.split(".")
        return self.layers[int(index)].params[local].shape

    def buffers(self) -> dict[str, np.ndarray]:
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.buffers().items()}

    def matrix_indices(self) -> list[int]:
        """Positions (in ``names``) of the 2-D parameters: embedding and weight matrices."""
        return [k for k, role in enumerate(self.roles) if role in ("weight", "embedding")]

    def decay_mask(self) -> np.ndarray:
        """1 on every matrix (weights and the embedding, as nanoGPT does), 0 on biases and
        normalization parameters. Decaying the weights alone would let a factorised table
        (embedding x output weights, as in the bigram lesson) escape the decay by growing
        the embedding while the weights shrink."""
        mask = np.zeros_like(self.flat)
        for sl, role in zip(self.slices, self.roles, strict=True):
            if role in ("weight", "embedding"):
                mask[sl] = 1.0
        return mask

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if x.dtype.kind == "f" and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        if self.features is not None:
            x = self.features(x)
        for forward in self._forwards:
            x = forward(x, train)
        return x

    __call__ = forward

    def backward(self, dlogits: np.ndarray) -> None:
        grad = dlogits
        for backward in self._backwards:
            grad = backward(grad)
            if grad is None:
                break

    def loss_and_grad(self, x: np.ndarray, y: np.ndarray) -> float:
        """Training-mode forward, loss and backward; gradients land in ``self.grad``."""
        loss, dlogits = cross_entropy(self.forward(x, train=True), y)
        self.backward(dlogits)
        return loss

    def set_running_updates(self, enabled: bool) -> None:
        """Diagnostic passes use batch statistics without moving BatchNorm's running ones."""
        for layer in self.layers:
            if isinstance(layer, BatchNorm1d):
                layer.update_running = enabled

    def running_stats_settled(self) -> bool:
        """Whether every BatchNorm's pending block is empty or full (``block_settled``)."""
        return all(layer.block_settled for layer in self.layers
                   if isinstance(layer, BatchNorm1d))

    def n_params(self) -> int:
        return self.flat.size

    def __repr__(self) -> str:
        body = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        inputs = f"\n  inputs: {self.features!r}" if self.features is not None else ""
        return f"Model({self.n_params():,} parameters)[{inputs}\n{body}\n]"


def build_model(config: Config, n_inputs: int, n_classes: int,
                rng: np.random.Generator, dtype: type = np.float32) -> Model:
    """Build and initialize the network a Config describes.

    ``n_inputs`` is the vocabulary size for character tasks and 2 for points (mapped to the
    Config's features: the first layer has one input per feature). With ``fuse`` the first
    hidden layers each join that many neighbouring positions (``FlattenConsecutive``).
    Training uses float32 (as PyTorch does; tanh and matmul are 2-4x faster); gradient
    checks use float64.
    Initial values are drawn in float64 so both precisions start from the same numbers.
    """
    activation = get_activation(config.act)
    init = INITIALIZERS[config.init]
    layers: list[Layer] = []
    features = None if config.is_char_task else FeatureMap(config.feature_names)
    if config.is_char_task:
        layers.append(Embedding(n_inputs, config.embed_dim))
    fans = config.fan_ins()
    hidden_linears = []
    norm_cls = NORMS[config.norm]
    for level, (fan, width) in enumerate(zip(fans, config.widths, strict=False)):
        if level < config.fuse_levels:
            layers.append(FlattenConsecutive(config.fuse, fan // config.fuse))
        linear = Linear(fan, width, bias=config.norm != "batch")
        hidden_linears.append(linear)
        layers.append(linear)
        if norm_cls is not None:
            layers.append(norm_cls(width))
        layers.append(ActivationLayer(activation))
    layers.append(Linear(fans[-1], n_classes, bias=True, is_output=True))
    model = Model(layers, dtype, features)
    if config.is_char_task:
        # The table is a lookup, not a layer whose scale compounds: unit normal as in makemore.
        layers[0].params["weight"][...] = rng.standard_normal((n_inputs, config.embed_dim))
    for linear in hidden_linears:
        linear.params["weight"][...] = config.init_scale * init(
            rng, linear.fan_in, linear.fan_out, activation.gain)
        if linear.has_bias and config.bias_init > 0:
            linear.params["bias"][...] = rng.normal(0.0, config.bias_init, linear.fan_out)
    out = model.output
    out.params["weight"][...] = config.init_scale * config.out_scale * init(
        rng, out.fan_in, out.fan_out, 1.0)
    for layer in layers:
        if isinstance(layer, BatchNorm1d | LayerNorm):
            layer.params["weight"][...] = 1.0
    return model

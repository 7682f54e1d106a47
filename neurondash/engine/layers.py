"""Layers with explicit forward and backward passes (no autograd).

A layer declares its parameters with ``param_specs``; the model allocates one flat
buffer for all parameters and one for all gradients and hands each layer views into
them (``bind``). Backward writes gradients straight into those views, so the optimizer
and the diagnostics work on whole buffers at once instead of looping over arrays.
Every layer caches what its backward needs during a training-mode forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import Activation

Array = np.ndarray


@dataclass(frozen=True)
class ParamSpec:
    """A parameter's local name, shape and role (weight, bias, gain, shift, embedding)."""

    name: str
    shape: tuple[int, ...]
    role: str


class Layer:
    """Base class: no parameters, identity pass-through."""

    def param_specs(self) -> list[ParamSpec]:
        return []

    def bind(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        self.params, self.grads = params, grads

    def buffers(self) -> dict[str, Array]:
        """Non-trained state that must be saved with the model (running statistics)."""
        return {}

    def set_buffer_dtype(self, dtype: np.dtype) -> None:
        """Match buffers to the model's precision."""

    def forward(self, x: Array, train: bool = True) -> Array:
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        raise NotImplementedError

    def __call__(self, x: Array, train: bool = True) -> Array:
        return self.forward(x, train)


class Embedding(Layer):
    """Lookup table C (V x d); a context of k indices becomes one flat vector of k*d."""

    def __init__(self, vocab: int, dim: int):
        self.vocab, self.dim = vocab, dim

    def param_specs(self) -> list[ParamSpec]:
        return [ParamSpec("weight", (self.vocab, self.dim), "embedding")]

    def forward(self, x: Array, train: bool = True) -> Array:
        self.index = x
        return self.params["weight"][x].reshape(x.shape[0], -1)

    def backward(self, dout: Array) -> None:
        grad = self.grads["weight"]
        grad.fill(0.0)
        np.add.at(grad, self.index.ravel(), dout.reshape(-1, self.dim))
        return None

    def __repr__(self) -> str:
        return f"Embedding({self.vocab}, {self.dim})"


class Linear(Layer):
    """y = x @ W + b with W of shape (fan_in, fan_out)."""

    def __init__(self, fan_in: int, fan_out: int, bias: bool = True, is_output: bool = False):
        self.fan_in, self.fan_out, self.has_bias = fan_in, fan_out, bias
        self.is_output = is_output
        self.needs_input_grad = True

    def param_specs(self) -> list[ParamSpec]:
        specs = [ParamSpec("weight", (self.fan_in, self.fan_out), "weight")]
        if self.has_bias:
            specs.append(ParamSpec("bias", (self.fan_out,), "bias"))
        return specs

    def forward(self, x: Array, train: bool = True) -> Array:
        self.x = x
        out = x @ self.params["weight"]
        if self.has_bias:
            out += self.params["bias"]
        return out

    def backward(self, dout: Array) -> Array | None:
        self.grads["weight"][...] = self.x.T @ dout
        if self.has_bias:
            np.sum(dout, axis=0, out=self.grads["bias"])
        return dout @ self.params["weight"].T if self.needs_input_grad else None

    def __repr__(self) -> str:
        return f"Linear({self.fan_in}, {self.fan_out}, bias={self.has_bias})"


class _Normalization(Layer):
    """Shared affine part of BatchNorm and LayerNorm: out = gamma * xhat + beta."""

    eps = 1e-5

    def __init__(self, size: int):
        self.size = size

    def param_specs(self) -> list[ParamSpec]:
        return [ParamSpec("weight", (self.size,), "gain"), ParamSpec("bias", (self.size,), "shift")]

    def _affine(self, xhat: Array) -> Array:
        self.xhat = xhat
        return xhat * self.params["weight"] + self.params["bias"]

    def _affine_backward(self, dout: Array) -> Array:
        np.sum(dout * self.xhat, axis=0, out=self.grads["weight"])
        np.sum(dout, axis=0, out=self.grads["bias"])
        return dout * self.params["weight"]


class BatchNorm1d(_Normalization):
    """Normalizes each unit over the batch; eval mode uses running mean and variance.

    Like PyTorch: biased variance to normalize, unbiased variance for the running estimate.
    """

    def __init__(self, size: int, momentum: float = 0.1):
        super().__init__(size)
        self.momentum = momentum
        self.running_mean = np.zeros(size)
        self.running_var = np.ones(size)
        self.update_running = True

    def buffers(self) -> dict[str, Array]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def set_buffer_dtype(self, dtype: np.dtype) -> None:
        self.running_mean = self.running_mean.astype(dtype)
        self.running_var = self.running_var.astype(dtype)

    def forward(self, x: Array, train: bool = True) -> Array:
        if not train:
            xhat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return xhat * self.params["weight"] + self.params["bias"]
        n = x.shape[0]
        mean = x.mean(axis=0)
        centered = x - mean
        var = np.einsum("ij,ij->j", centered, centered) / n
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        if self.update_running:
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += m * var * (n / max(n - 1, 1))
        return self._affine(centered * self.inv_std)

    def backward(self, dout: Array) -> Array:
        # With dxhat = dout * gamma, the textbook formula simplifies to
        # dx = gamma * inv_std * (dout - mean(dout) - xhat * mean(dout * xhat)).
        n = dout.shape[0]
        dgamma, dbeta = self.grads["weight"], self.grads["bias"]
        np.einsum("ij,ij->j", dout, self.xhat, out=dgamma)
        np.sum(dout, axis=0, out=dbeta)
        centered = dout - dbeta / n
        centered -= self.xhat * (dgamma / n)
        centered *= self.params["weight"] * self.inv_std
        return centered

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.size}, momentum={self.momentum})"


class LayerNorm(_Normalization):
    """Normalizes each example over its units; the same in training and eval."""

    def forward(self, x: Array, train: bool = True) -> Array:
        mean = x.mean(axis=1, keepdims=True)
        centered = x - mean
        var = np.einsum("ij,ij->i", centered, centered)[:, None] / x.shape[1]
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        return self._affine(centered * self.inv_std)

    def backward(self, dout: Array) -> Array:
        dxhat = self._affine_backward(dout)
        d = dout.shape[1]
        xhat = self.xhat
        return (self.inv_std / d) * (
            d * dxhat - dxhat.sum(axis=1, keepdims=True)
            - xhat * np.einsum("ij,ij->i", dxhat, xhat)[:, None]
        )

    def __repr__(self) -> str:
        return f"LayerNorm({self.size})"


class ActivationLayer(Layer):
    """Applies a registered activation; keeps input, output and incoming gradient.

    The kept arrays are what the diagnostics measure (pre-activations, activations and
    the gradient of the loss with respect to the activations).
    """

    def __init__(self, activation: Activation):
        self.activation = activation

    def forward(self, x: Array, train: bool = True) -> Array:
        self.x = x
        self.y = self.activation.forward(x)
        return self.y

    def backward(self, dout: Array) -> Array:
        self.grad_out = dout
        return dout * self.activation.derivative(self.x, self.y)

    def __repr__(self) -> str:
        return self.activation.name.capitalize() if self.activation.name != "leaky_relu" \
            else "LeakyReLU"

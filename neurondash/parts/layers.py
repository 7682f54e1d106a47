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
from .arrays import mean_weights, ones, row_starts

Array = np.ndarray
def column_sums(x: Array, out: Array | None = None, mean: bool = False) -> Array:
    """x.sum(axis=0), or x.mean(axis=0), as one BLAS matrix-vector product with a vector
    of ones (or of 1/n): about 2x faster than the reduction at batch sizes.

    The engine's products go through the ``ndarray.dot`` method rather than ``matmul``/``@``
    or ``np.dot``: the same BLAS call with less dispatch (``np.dot`` alone costs ~1,600 more
    instructions per call, callgrind), which matters at ~40 products per step."""
    weights = (mean_weights if mean else ones)(x.shape[0], x.dtype)
    return weights.dot(x, out)


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
        # take() gathers rows about 3x faster than fancy indexing at these sizes.
        return self.params["weight"].take(x, axis=0).reshape(x.shape[0], -1)

    def backward(self, dout: Array) -> None:
        # A one-hot matmul scatters the rows ~2x faster than np.add.at at these sizes.
        index = self.index.ravel()
        onehot = np.zeros(index.size * self.vocab, dtype=dout.dtype)
        onehot[row_starts(index.size, self.vocab) + index] = 1.0  # flat: ~2x faster than 2-D
        onehot = onehot.reshape(index.size, self.vocab)
        onehot.T.dot(dout.reshape(-1, self.dim), self.grads["weight"])
        return None

    def __repr__(self) -> str:
        return f"Embedding({self.vocab}, {self.dim})"


class FlattenConsecutive(Layer):
    """Joins each run of ``n`` neighbouring positions into one row (makemore part 5).

    Positions travel as rows: a batch of B examples with T positions of C features each is
    a (B*T, C) array, so the layers above (Linear, norms, activations) need no 3-D code and
    BatchNorm's statistics span examples and positions, as in the lecture. Joining ``n``
    positions is then a reshape to (B*T/n, n*C): no data moves.
    """

    def __init__(self, n: int, features: int):
        self.n, self.features = n, features
        """``features``: per-position width of the input (n * features come out)."""

    def forward(self, x: Array, train: bool = True) -> Array:
        self.shape = x.shape
        return x.reshape(-1, self.n * self.features)

    def backward(self, dout: Array) -> Array:
        return dout.reshape(self.shape)

    def __repr__(self) -> str:
        return f"FlattenConsecutive({self.n})"


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
        out = x.dot(self.params["weight"])
        if self.has_bias:
            out += self.params["bias"]
        return out

    def backward(self, dout: Array) -> Array | None:
        self.x.T.dot(dout, self.grads["weight"])
        if self.has_bias:
            column_sums(dout, out=self.grads["bias"])
        return dout.dot(self.params["weight"].T) if self.needs_input_grad else None

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

    Like PyTorch: biased variance to normalize, unbiased variance for the running estimate,
    updated with ``momentum`` after every training batch. The update is applied lazily:
    each step's batch mean and variance are written straight into a row of a pending block
    (they are computed there, so keeping them costs nothing), and the exponential moving
    average over the block is folded in with one matrix-vector product when the running
    values are needed (eval, saving) or the block is full. The result is the same moving
    average, without seven small array operations on every step.
    """

    PENDING = 64

    def __init__(self, size: int, momentum: float = 0.1):
        super().__init__(size)
        self.momentum = momentum
        self.update_running = True
        decay = 1.0 - self.momentum
        self._weights = self.momentum * decay ** np.arange(self.PENDING - 1, -1, -1)
        self._batch, self._dtype = 0, None
        self._running_mean = np.zeros(size)
        self._running_var = np.ones(size)
        self._new_pending_block(self._running_mean.dtype)
        self.set_buffer_dtype(self._running_mean.dtype)

    def set_buffer_dtype(self, dtype: np.dtype) -> None:
        self._flush()
        self._running_mean = self._running_mean.astype(dtype)
        self._running_var = self._running_var.astype(dtype)
        self._new_pending_block(dtype)
        # 0-d arrays of the model's dtype: a Python float operand costs NumPy a scalar
        # conversion on every call, about as much as the arithmetic on a 100-vector.
        self._eps = np.array(self.eps, dtype)

    def _set_batch(self, n: int, dtype: np.dtype) -> None:
        """Ones and 1/n for this batch size and dtype: the column sums and means of a
        training step are matrix-vector products with them (see ``column_sums``), set up
        once when the batch size changes instead of once per sum."""
        self._batch, self._dtype = n, dtype
        self._ones, self._mean_weights = ones(n, dtype), mean_weights(n, dtype)
        self._inv_n = np.array(1.0 / n, dtype)
        self._scale_rows = np.empty((n, self.size), dtype)
        if dtype != self._pending.dtype:
            self._flush()
            self._new_pending_block(dtype)

    def _new_pending_block(self, dtype: np.dtype) -> None:
        self._pending = np.zeros((2, self.PENDING, self.size), dtype)
        self._pending_rows_views = list(zip(self._pending[0], self._pending[1], strict=True))
        self._count = 0
        self._pending_n = 0

    def _pending_rows(self) -> tuple[Array, Array]:
        """The block rows this step's batch mean and variance are written into."""
        if self._count == self.PENDING or self._batch != self._pending_n:
            self._flush()
            self._pending_n = self._batch
        self._count += 1
        return self._pending_rows_views[self._count - 1]

    def _flush(self) -> None:
        k = self._count
        if k == 0:
            return
        decay = (1.0 - self.momentum) ** k
        weights = self._weights[self.PENDING - k:]
        n = self._pending_n
        self._running_mean *= decay
        self._running_mean += weights @ self._pending[0, :k]
        self._running_var *= decay
        self._running_var += (weights @ self._pending[1, :k]) * (n / max(n - 1, 1))
        self._count = 0

    @property
    def block_settled(self) -> bool:
        """Whether the pending block is empty or full: stopping here and resuming later
        (which starts an empty block) folds in exactly the blocks one run would."""
        return self._count in (0, self.PENDING)

    @property
    def running_mean(self) -> Array:
        self._flush()
        return self._running_mean

    @property
    def running_var(self) -> Array:
        self._flush()
        return self._running_var

    def buffers(self) -> dict[str, Array]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, x: Array, train: bool = True) -> Array:
        gamma, beta = self.params["weight"], self.params["bias"]
        if not train:
            scale = gamma / np.sqrt(self.running_var + self.eps)
            return (x - self.running_mean) * scale + beta
        if x.shape[0] != self._batch or x.dtype is not self._dtype:
            self._set_batch(x.shape[0], x.dtype)
        mean_row, var_row = self._pending_rows() if self.update_running else (None, None)
        mean = self._mean_weights.dot(x, mean_row)
        centered = x - mean
        var = self._mean_weights.dot(centered * centered, var_row)
        std = np.add(var, self._eps)
        self.std = np.sqrt(std, out=std)
        # xhat = centered / std is never materialised: folding 1/std into gamma saves a
        # full-size multiply here and in backward.
        self.centered = centered
        self.scale = np.divide(gamma, std)
        # The scale multiplies every row here and in backward. NumPy runs a row-broadcast
        # operation as one inner loop per row (about twice the cost of a same-shape one),
        # so the scale is copied out to full size once and both products are same-shape.
        np.copyto(self._scale_rows, self.scale)
        out = centered * self._scale_rows
        out += beta
        return out

    def backward(self, dout: Array) -> Array:
        # With xhat = centered / std, scale = gamma / std and dxhat = dout * gamma, the
        # textbook dx = scale * (dout - mean(dout) - xhat * mean(dout * xhat)) becomes
        # dx = scale * dout - (scale / n) * (dbeta + centered * dgamma / std).
        std, scale_n = self.std, self.scale * self._inv_n
        dgamma, dbeta = self.grads["weight"], self.grads["bias"]
        self._ones.dot(dout * self.centered, dgamma)
        dgamma /= std
        self._ones.dot(dout, dbeta)
        dx = dout * self._scale_rows
        dx -= scale_n * dbeta
        coefficient = scale_n / std
        coefficient *= dgamma
        dx -= self.centered * coefficient
        return dx

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.size}, momentum={self.momentum})"


class LayerNorm(_Normalization):
    """Normalizes each example over its units; the same in training and eval."""

    def forward(self, x: Array, train: bool = True) -> Array:
        mean = x.mean(axis=1, keepdims=True)
        centered = x - mean
        var = np.einsum("ij,ij->i", centered, centered)[:, None] / x.shape[1]
        inv_std = var + self.eps
        np.sqrt(inv_std, out=inv_std)
        self.inv_std = np.divide(1.0, inv_std, out=inv_std)
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
        grad = self.activation.derivative(self.x, self.y)
        grad *= dout
        return grad

    def __repr__(self) -> str:
        return self.activation.name.capitalize() if self.activation.name != "leaky_relu" \
            else "LeakyReLU"


NORMS: dict[str, type[Layer] | None] = {"none": None, "batch": BatchNorm1d, "layer": LayerNorm}
"""Normalization after each hidden Linear layer, by its setting's value."""

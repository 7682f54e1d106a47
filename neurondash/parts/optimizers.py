"""Optimizers and learning-rate schedules over the model's flat parameter buffer.

``step`` returns the update it applied (parameters -= update), because update:data is
defined on the update actually applied, whichever optimizer produced it.
Buffers take the dtype and size of ``like`` (the flat parameter vector).
Weight decay applies only where ``decay_mask`` is 1 (weight and embedding matrices, not
biases or normalization parameters).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

MOMENTUM = 0.9
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


class Optimizer:
    """Base: plain SGD with optional L2 weight decay folded into the gradient."""

    name = "sgd"
    decoupled_decay = False

    def __init__(self, like: np.ndarray, wd: float = 0.0, decay_mask: np.ndarray | None = None):
        self.wd = wd
        self.decay_mask = decay_mask if decay_mask is not None else np.ones_like(like)
        self.update = np.zeros_like(like)
        self.t = 0

    def state(self) -> dict[str, np.ndarray | int]:
        return {"t": self.t}

    def load_state(self, state: dict) -> None:
        self.t = int(state["t"])
        for key, value in state.items():
            if key != "t":
                getattr(self, key)[...] = value

    def _decayed(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self.wd and not self.decoupled_decay:
            return grad + self.wd * self.decay_mask * params
        return grad

    def _direction(self, grad: np.ndarray) -> np.ndarray:
        return grad

    def step(self, params: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        self.t += 1
        direction = self._direction(self._decayed(params, grad))
        np.multiply(direction, lr, out=self.update)
        if self.wd and self.decoupled_decay:
            self.update += (lr * self.wd) * self.decay_mask * params
        params -= self.update
        return self.update

    def __repr__(self) -> str:
        return f"{type(self).__name__}(wd={self.wd})"


class Momentum(Optimizer):
    """Heavy-ball momentum as in PyTorch: v = 0.9 v + g; p -= lr v."""

    name = "momentum"

    def __init__(self, like: np.ndarray, wd: float = 0.0, decay_mask: np.ndarray | None = None):
        super().__init__(like, wd, decay_mask)
        self.velocity = np.zeros_like(like)

    def state(self) -> dict[str, np.ndarray | int]:
        return {"t": self.t, "velocity": self.velocity}

    def _direction(self, grad: np.ndarray) -> np.ndarray:
        self.velocity *= MOMENTUM
        self.velocity += grad
        return self.velocity


class Adam(Optimizer):
    """Adam with bias correction; L2 weight decay folded into the gradient."""

    name = "adam"

    def __init__(self, like: np.ndarray, wd: float = 0.0, decay_mask: np.ndarray | None = None):
        super().__init__(like, wd, decay_mask)
        self.m = np.zeros_like(like)
        self.v = np.zeros_like(like)

    def state(self) -> dict[str, np.ndarray | int]:
        return {"t": self.t, "m": self.m, "v": self.v}

    def _direction(self, grad: np.ndarray) -> np.ndarray:
        b1, b2 = ADAM_BETAS
        self.m *= b1
        self.m += (1 - b1) * grad
        self.v *= b2
        self.v += (1 - b2) * grad * grad
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        return m_hat / (np.sqrt(v_hat) + ADAM_EPS)


class AdamW(Adam):
    """Adam with decoupled weight decay (p -= lr * wd * p, separate from the gradient)."""

    name = "adamw"
    decoupled_decay = True


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (Optimizer, Momentum, Adam, AdamW)
}

Schedule = Callable[[float, int, int], float]
COSINE_FLOOR = 0.01
"""Cosine decays to 1% of the base rate (not 0) so that continued training still learns."""


def _cosine(lr: float, step: int, total: int) -> float:
    progress = min(step / max(total, 1), 1.0)
    return lr * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress)))


SCHEDULES: dict[str, Schedule] = {
    "constant": lambda lr, step, total: lr,
    "step": lambda lr, step, total: lr if step < 0.75 * total else lr * 0.1,
    "cosine": _cosine,
}

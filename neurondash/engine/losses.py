"""Softmax cross-entropy from logits.

Subtracting the row maximum before exponentiating (log-sum-exp) keeps it finite for any
init scale: logits of 1e6 give a large but exact loss instead of inf/NaN.
"""

from __future__ import annotations

import numpy as np

from .arrays import arange, ones


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient (softmax - onehot) / N."""
    n, classes = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    grad = np.exp(shifted)
    total = grad @ ones(classes, grad.dtype)  # row sums as one BLAS call
    rows = arange(n)
    loss = (np.log(total).sum() - shifted[rows, targets].sum()) / n
    grad *= (1.0 / (n * total))[:, None]
    grad[rows, targets] -= 1.0 / n
    return float(loss), grad


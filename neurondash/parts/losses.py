"""Softmax cross-entropy from logits.

Subtracting the row maximum before exponentiating (log-sum-exp) keeps it finite for any
init scale: logits of 1e6 give a large but exact loss instead of inf/NaN.
"""

from __future__ import annotations

import numpy as np

from .arrays import ones, row_starts


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient (softmax - onehot) / N.

    ``logits`` is left unchanged (the diagnostics keep it); the gradient is built in place
    in one new array.
    """
    n, classes = logits.shape
    target_index = row_starts(n, classes) + targets  # flat index of each target logit
    grad = logits - np.maximum.reduce(logits, axis=1, keepdims=True)
    flat = grad.reshape(-1)
    terms = flat[target_index]
    np.exp(grad, out=grad)
    total = grad.dot(ones(classes, grad.dtype))  # row sums as one BLAS call
    np.subtract(np.log(total), terms, out=terms)  # -log softmax at each target
    loss = np.add.reduce(terms) / n
    total *= n
    grad *= np.reciprocal(total, out=total)[:, None]
    flat[target_index] -= 1.0 / n
    return float(loss), grad

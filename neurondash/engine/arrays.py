"""Small constant arrays the hot paths reuse instead of re-creating on every step.

Callers must treat them as read-only: one object is shared by every caller. The caches are
bounded: a long-lived server sees many model sizes.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=32)
def ones(size: int, dtype: np.dtype) -> np.ndarray:
    return np.ones(size, dtype=dtype)


@functools.lru_cache(maxsize=32)
def mean_weights(size: int, dtype: np.dtype) -> np.ndarray:
    """1/size everywhere: ``mean_weights(n) @ x`` is the column mean as one BLAS call."""
    return np.full(size, 1.0 / size, dtype=dtype)


@functools.lru_cache(maxsize=32)
def row_starts(rows: int, width: int) -> np.ndarray:
    """Flat index of each row's first element in a C-ordered (rows, width) array: adding
    column indices gives flat indices, and flat fancy indexing is ~3x faster than 2-D."""
    return np.arange(rows) * width

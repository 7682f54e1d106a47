"""update:data of every weight matrix at a training step, from sums carried across steps
(the recorder's per-step series: ``diagnostics.Recorder.record_step``)."""

from __future__ import annotations

import math

import numpy as np

from ..parts import arrays


class MatrixSums:
    """Per-step update:data of every weight matrix, from sums carried across steps.

    std(W) needs the sum and the sum of squares of each matrix. Rather than re-reading
    every weight twice per step, both are carried forward through the update: with
    W' = W - dW, sum(W') = sum(W) - sum(dW) and sum(W'^2) = sum(W^2) - 2 W'.dW - sum(dW^2).
    A step then costs three BLAS dot products per matrix (dW.1, dW.dW, W'.dW) instead of
    four. The sums are recomputed from the weights on the first step, every ``RESYNC``
    steps after it and after every checkpoint, so float32 rounding cannot accumulate. The
    period is BatchNorm's pending block (``BatchNorm1d.PENDING``): both start afresh at
    the same steps, which is where a run can stop and be resumed exactly.
    """

    RESYNC = 64

    def __init__(self, slices: list[slice], dtype: np.dtype):
        self.slices = slices
        self.ones = [arrays.ones(sl.stop - sl.start, dtype) for sl in slices]
        self.sums = [0.0] * len(slices)
        self.squares = [0.0] * len(slices)
        self.age = self.RESYNC
        self._buffers: tuple[np.ndarray, np.ndarray] | None = None
        self._views: list[tuple] = []

    def resync_next(self) -> None:
        """Recompute the sums from the weights at the next step."""
        self.age = self.RESYNC

    def _bind(self, flat: np.ndarray, update: np.ndarray) -> list:
        """Per-matrix views of both buffers and their bound ``dot`` methods, made once: the
        buffers live as long as the run, and a bound method skips ``np.dot``'s dispatch."""
        if self._buffers is None or self._buffers[0] is not flat or self._buffers[1] is not update:
            self._buffers = (flat, update)
            self._views = []
            for sl, ones in zip(self.slices, self.ones, strict=True):
                weights, step = flat[sl], update[sl]
                self._views.append((weights, weights.dot, step, step.dot, ones, float(ones.size)))
        return self._views

    def update_data(self, flat: np.ndarray, update: np.ndarray, out: np.ndarray) -> bool:
        """Write log10 std(dW)/std(W) per matrix into ``out``, given the parameters after
        the update; returns False when they are no longer finite."""
        resync = self.age >= self.RESYNC
        self.age = 1 if resync else self.age + 1
        sums, squares = self.sums, self.squares
        views = self._bind(flat, update)
        for k, (weights, weights_dot, step, step_dot, ones, n) in enumerate(views):
            step_sum, step_square = float(step_dot(ones)), float(step_dot(step))
            if resync:
                sums[k], squares[k] = float(weights_dot(ones)), float(weights_dot(weights))
            else:
                sums[k] -= step_sum
                squares[k] -= 2.0 * float(weights_dot(step)) + step_square
            weight_var = squares[k] / n - (sums[k] / n) ** 2
            if not math.isfinite(weight_var):
                if not np.isfinite(weights).all():
                    out[:] = np.nan
                    return False
                # Finite weights above ~1e19 overflow a float32 sum of squares: that is no
                # divergence (a run without recording trains on), so measure in float64.
                wide = weights.astype(np.float64)
                sums[k], squares[k] = float(wide.sum()), float(wide.dot(wide))
                weight_var = squares[k] / n - (sums[k] / n) ** 2
                self.age = self.RESYNC
            out[k] = _log10_ratio(step_square / n - (step_sum / n) ** 2, weight_var)
        return True


def _log10_ratio(step_var: float, weight_var: float) -> float:
    """log10 of the ratio of standard deviations; a zero std gives -inf or +inf."""
    if step_var <= 0.0:
        return -math.inf if weight_var > 0.0 else math.nan
    if weight_var <= 0.0:
        return math.inf
    return 0.5 * math.log10(step_var / weight_var)

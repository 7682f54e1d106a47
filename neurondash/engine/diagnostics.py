"""What a run records: thin per-step series and rich snapshots, as DESIGN.md defines them.

Per step: the minibatch loss, the learning rate and update:data
(log10 std(dW)/std(W) of the update actually applied) for every weight matrix.
At each snapshot, on one fixed diagnostic batch: per hidden layer the pre-activation,
activation and activation-gradient statistics and histograms, saturation, dead units and
a saturation map; per weight matrix grad:data and weight/gradient histograms; logit
statistics and histograms. Histograms are pre-binned here so that memory and chart rows
stay bounded however long the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .losses import cross_entropy, softmax
from .model import Model

BINS = 40
PARAM_SNAPSHOT_BUDGET = 5_000_000
"""Parameters x snapshots up to which every snapshot keeps a copy of the weights (20 MB in
float32), so single neurons can be inspected as they were at that step."""
MAP_EXAMPLES = 48
MAP_UNITS = 256
"""The dead-unit map keeps 48 examples x the first 256 units, bit-packed (np.packbits)."""


def histogram(values: np.ndarray, low: float | None = None, high: float | None = None,
              bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """Density over ``bins`` equal bins from low to high (default: symmetric max |x|).

    Returns (edges, density) with density integrating to 1 over the range; values outside
    the range are clipped into the end bins so nothing silently disappears. Non-finite
    values are left out.
    """
    flat = values.ravel()
    if low is None or high is None:
        span = max(abs(float(flat.max())), abs(float(flat.min()))) if flat.size else 1.0
        if not np.isfinite(span):
            flat = flat[np.isfinite(flat)]
            span = float(np.abs(flat).max()) if flat.size else 1.0
        span = span if span > 0 else 1.0
        low, high = -span, span
    elif not np.isfinite(flat.sum()):
        flat = flat[np.isfinite(flat)]
    edges = np.linspace(low, high, bins + 1)
    width = (high - low) / bins
    index = ((flat - low) * (1.0 / width)).astype(np.intp)
    np.minimum(index, bins - 1, out=index)
    np.maximum(index, 0, out=index)
    counts = np.bincount(index, minlength=bins)
    return edges, counts / (max(flat.size, 1) * width)


def _std(values: np.ndarray) -> float:
    return float(values.std())


class Recorder:
    """Collects per-step series and snapshot tables for one run (appendable on continue)."""

    def __init__(self, model: Model, diag_x: np.ndarray, diag_y: np.ndarray, capacity: int):
        self.model = model
        self.diag_x, self.diag_y = diag_x, diag_y
        self.matrix_names = [model.names[k] for k in model.matrix_indices()]
        self._matrix_slices = [model.slices[k] for k in model.matrix_indices()]
        self._ones = [np.ones(sl.stop - sl.start, dtype=model.dtype)
                      for sl in self._matrix_slices]
        self.size = 0
        self.loss = np.zeros(capacity)
        self.lr = np.zeros(capacity)
        self.update_data = np.zeros((capacity, len(self.matrix_names)), dtype=np.float32)
        self.layer_rows: list[dict] = []
        self.weight_rows: list[dict] = []
        self.logit_rows: list[dict] = []
        self.hist_rows: list[tuple] = []
        self.dead_maps: dict[int, dict[str, np.ndarray]] = {}
        self.model_states: dict[int, dict] = {}
        self.keep_states = True

    def grow(self, extra: int) -> None:
        """Make room for ``extra`` more steps (continued training)."""
        need = self.size + extra
        if need <= len(self.loss):
            return
        pad = need - len(self.loss)
        self.loss = np.concatenate([self.loss, np.zeros(pad)])
        self.lr = np.concatenate([self.lr, np.zeros(pad)])
        self.update_data = np.concatenate(
            [self.update_data, np.zeros((pad, self.update_data.shape[1]), np.float32)])

    def matrix_stds(self, flat: np.ndarray) -> np.ndarray:
        """std of every weight matrix within a flat buffer.

        BLAS dot products (sum = x.1, sum of squares = x.x) are several times faster than
        ufunc reductions at these sizes, which keeps per-step recording cheap.
        """
        out = np.empty(len(self._matrix_slices))
        for k, (sl, ones) in enumerate(zip(self._matrix_slices, self._ones, strict=True)):
            part = flat[sl]
            mean = float(part @ ones) / ones.size
            out[k] = max(float(part @ part) / ones.size - mean * mean, 0.0)
        return np.sqrt(out)

    def record_step(self, loss: float, lr: float, update: np.ndarray | None) -> bool:
        """Store one step; returns False when the parameters are no longer finite."""
        i = self.size
        self.loss[i], self.lr[i] = loss, lr
        self.size += 1
        if update is None:
            return True
        param_std = self.matrix_stds(self.model.flat)
        if not np.all(np.isfinite(param_std)):
            self.update_data[i] = np.nan
            return False
        # Division by zero / log of 0 give -inf, recorded as such (the caller's errstate).
        self.update_data[i] = np.log10(self.matrix_stds(update) / param_std)
        return True

    def _hist(self, step: int, name: str, quantity: str, values: np.ndarray,
              low: float | None = None, high: float | None = None) -> None:
        edges, density = histogram(values, low, high)
        self.hist_rows.append((step, name, quantity, edges, density))

    def histogram_frame(self) -> pd.DataFrame:
        """All histograms as one tidy table (one row per bin), built once per Run."""
        columns = ["step", "name", "quantity", "bin_start", "bin_end", "density"]
        if not self.hist_rows:
            return pd.DataFrame(columns=columns)
        bins = len(self.hist_rows[0][4])
        repeat = lambda k: np.repeat([row[k] for row in self.hist_rows], bins)  # noqa: E731
        edges = np.stack([row[3] for row in self.hist_rows])
        return pd.DataFrame({
            "step": repeat(0).astype(np.int64),
            "name": pd.Categorical(repeat(1)), "quantity": pd.Categorical(repeat(2)),
            "bin_start": edges[:, :-1].ravel(), "bin_end": edges[:, 1:].ravel(),
            "density": np.concatenate([row[4] for row in self.hist_rows]),
        })

    def snapshot(self, step: int) -> None:
        """Measure everything on the diagnostic batch without changing the model."""
        model = self.model
        model.set_running_updates(False)
        try:
            logits = model.forward(self.diag_x, train=True)
            diag_loss, dlogits = cross_entropy(logits, self.diag_y)
            model.backward(dlogits)
        finally:
            model.set_running_updates(True)
        self._layers(step, model)
        self._weights(step, model)
        self._logits(step, logits, diag_loss)
        if self.keep_states:
            self.model_states[step] = {
                "params": model.flat.copy(),
                "buffers": {k: v.copy() for k, v in model.buffers().items()},
            }

    def _layers(self, step: int, model: Model) -> None:
        maps = {}
        for block in model.blocks:
            layer = model.layers[block.activation]
            act = layer.activation
            name = f"hidden {block.index + 1}"
            pre, out, grad = layer.x, layer.y, layer.grad_out
            saturated = act.saturated(pre, out) if act.saturated else np.zeros(out.shape, bool)
            dead = act.dead(pre, out).all(axis=0) if act.dead else np.zeros(out.shape[1], bool)
            maps[name] = np.packbits(saturated[:MAP_EXAMPLES, :MAP_UNITS], axis=1)
            self.layer_rows.append({
                "step": step, "layer": name, "units": block.width,
                "preact_mean": float(pre.mean()), "preact_std": _std(pre),
                "act_mean": float(out.mean()), "act_std": _std(out),
                "grad_mean": float(grad.mean()), "grad_std": _std(grad),
                "saturated_pct": 100.0 * float(saturated.mean()),
                "dead_units": int(dead.sum()),
            })
            low, high = act.output_range or (None, None)
            self._hist(step, name, "activation", out, low, high)
            self._hist(step, name, "preactivation", pre)
            self._hist(step, name, "gradient", grad)
        self.dead_maps[step] = maps

    def _weights(self, step: int, model: Model) -> None:
        params, grads = model.parameters(), model.gradients()
        for name in self.matrix_names:
            w, g = params[name], grads[name]
            w_std, g_std = _std(w), _std(g)
            self.weight_rows.append({
                "step": step, "param": name, "shape": "x".join(map(str, w.shape)),
                "weight_std": w_std, "grad_std": g_std,
                "grad_data": g_std / w_std if w_std > 0 else float("inf"),
            })
            self._hist(step, name, "weight", w)
            self._hist(step, name, "weight_grad", g)

    def _logits(self, step: int, logits: np.ndarray, loss: float) -> None:
        probs = softmax(logits)
        p_correct = probs[np.arange(len(self.diag_y)), self.diag_y]
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.sum(np.where(probs > 0, probs * np.log(probs), 0.0), axis=1)
        self.logit_rows.append({
            "step": step, "loss": loss, "mean": float(logits.mean()), "std": _std(logits),
            "max_abs": float(np.abs(logits).max()), "entropy": float(entropy.mean()),
            "p_correct": float(p_correct.mean()),
        })
        self._hist(step, "logits", "logits", logits)
        self._hist(step, "logits", "p_correct", p_correct, 0.0, 1.0)

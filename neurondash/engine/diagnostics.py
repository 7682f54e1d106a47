"""What a run records: thin per-step series and rich snapshots, as docs/DESIGN.md defines them.

Per step: the minibatch loss, the learning rate and update:data
(log10 std(dW)/std(W) of the update actually applied) for every weight matrix.
At each snapshot, on one fixed diagnostic batch: per hidden layer the pre-activation,
activation and activation-gradient statistics and histograms, saturation, dead units and
a saturation map; per weight matrix grad:data and weight/gradient histograms; logit
statistics and histograms. Histograms are pre-binned here so that memory and chart rows
stay bounded however long the run.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..parts.layers import Linear
from ..parts.losses import cross_entropy, softmax
from . import LONG_RUN_STEPS
from .matrix_sums import MatrixSums
from .model import Model

BINS = 40
PARAM_SNAPSHOT_BUDGET = 5_000_000
"""Parameters x snapshots up to which every snapshot keeps a copy of the weights (20 MB in
float32), so single neurons can be inspected as they were at that step."""
UPDATE_DATA_SHARE = 0.05
"""Estimated share of a training step's time that measuring update:data may add. Where one
measurement is estimated to cost more (small batches, narrow layers: the step does little
work while every matrix still needs its dot products), it is taken every few steps instead
(at most every 11th step over the sidebar's range), so that recording stays within ~10% at
every size the sidebar allows (benchmarks/bench_engine.py measures it). The default run is
measured every 5th step; batch 256 at width 512 every step."""
MEASURE_SECONDS = {"matrix": 3e-6, "entry": 4e-10}
"""One measurement's cost here (timed on MatrixSums.update_data): per matrix (three or four
BLAS calls) and per matrix entry (memory passes)."""
STEP_SECONDS = {"layer": 5.5e-6, "multiply_add": 2.2e-11, "parameter": 8.7e-10,
                "unit": 4e-10}
"""A training step's cost here: per layer object (embedding, linear, norm, activation: the
NumPy calls of its forward and backward; 70 us for the 12 of a 5-layer tanh net at batch
2), and, from neurondash/cost.py's calibration, per multiply-add of forward and backward,
per parameter (optimizer) and per example and hidden unit."""


def step_seconds(model: Model, batch: int) -> float:
    """A training step's estimated cost here (``STEP_SECONDS``): a fixed function of the
    shapes, never of timings."""
    weights = sum(sl.stop - sl.start for sl, role in zip(model.slices, model.roles,
                                                           strict=True) if role == "weight")
    units = sum(layer.fan_out for layer in model.layers if isinstance(layer, Linear))
    return (STEP_SECONDS["layer"] * len(model.layers)
            + STEP_SECONDS["multiply_add"] * 3 * batch * weights
            + STEP_SECONDS["parameter"] * model.flat.size
            + STEP_SECONDS["unit"] * batch * units)


UPDATE_DATA_POINTS = 4_000
"""A long run (``LONG_RUN_STEPS``) measures update:data at about this many steps, evenly
spread: its chart draws at most 4,000 points over all matrices, and every 4th step of
makemore's 200k-step lecture run was 965 KB of float32 values, 40% of its file (issue 27's
target for it: 1 MB). A run of 20,000 steps or fewer measures as the cost rule says."""


def update_data_stride(model: Model, batch: int, steps: int = 0) -> int:
    """Every how many steps update:data is measured for this model and batch size: 1 when a
    measurement costs at most ``UPDATE_DATA_SHARE`` of a step, else the smallest stride that
    brings its average cost down to that; a run of more than ``LONG_RUN_STEPS`` ``steps``
    at least every ``steps / UPDATE_DATA_POINTS``-th. A fixed function of the shapes and
    the Config's steps, never of timings, so the same Config always records the same steps."""
    matrices = [sl.stop - sl.start for sl, role in zip(model.slices, model.roles, strict=True)
                if role in ("weight", "embedding")]
    step = step_seconds(model, batch)
    measure = MEASURE_SECONDS["matrix"] * len(matrices) + MEASURE_SECONDS["entry"] * sum(matrices)
    stride = max(1, math.ceil(measure / (UPDATE_DATA_SHARE * step)))
    if steps > LONG_RUN_STEPS:
        stride = max(stride, math.ceil(steps / UPDATE_DATA_POINTS))
    return stride


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
    if flat.dtype.kind != "f":
        flat = flat.astype(np.float64)
    if low is None or high is None:
        span = max(abs(float(flat.max())), abs(float(flat.min()))) if flat.size else 1.0
        if not np.isfinite(span):
            flat = flat[np.isfinite(flat)]
            span = float(np.abs(flat).max()) if flat.size else 1.0
        span = span if span > 0 else 1.0
        low, high = -span, span
    elif not np.isfinite(flat.sum()):
        flat = flat[np.isfinite(flat)]
    width = (high - low) / bins
    edges = low + width * np.arange(bins + 1)
    edges[-1] = high
    # Bin index = floor(((x - center) / half_range + 1) * bins / 2), clipped into the end
    # bins: a few array passes where np.histogram takes several times longer. Dividing by
    # the half range (never below the largest |x - center|) stays finite for any values;
    # multiplying by 1 / width did not: for a span of denormals (a collapsed layer's
    # gradients) 1 / width overflows the dtype and 0 * inf made a NaN bin index.
    center, half_range = (low + high) / 2, (high - low) / 2
    scaled = flat - np.asarray(center, flat.dtype)
    scaled /= np.asarray(half_range, flat.dtype)
    scaled += np.asarray(1.0, flat.dtype)
    scaled *= np.asarray(bins / 2, flat.dtype)
    np.clip(scaled, 0, bins - 1, out=scaled)
    counts = np.bincount(scaled.astype(np.intp), minlength=bins)
    return edges, counts / (max(flat.size, 1) * width)


def value_range(values: np.ndarray) -> tuple[float | None, float | None]:
    """The finite values' own (low, high), for the activations of a function with no bounded
    range: a ReLU layer's lie in [0, max], and a range symmetric about 0 left half of its
    histogram empty and its spike at 0 squeezed into one bin at the middle. (None, None),
    the symmetric default, when there is no finite value or all are equal."""
    flat = values.ravel()
    low, high = (float(flat.min()), float(flat.max())) if flat.size else (0.0, 0.0)
    if not (np.isfinite(low) and np.isfinite(high)):
        finite = flat[np.isfinite(flat)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return (low, high) if high > low else (None, None)


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and (population) standard deviation in two passes: a plain reduction (np.mean's
    Python wrapper alone costs more), then the centered sum of squares as one BLAS dot
    product, several times faster than np.std at snapshot sizes."""
    flat = values.ravel()
    if flat.size == 0:
        return math.nan, math.nan
    mean = np.add.reduce(flat) / flat.size
    centered = flat - mean
    return float(mean), math.sqrt(float(np.dot(centered, centered)) / max(flat.size, 1))


class Recorder:
    """Collects per-step series and snapshot tables for one run (appendable on continue)."""

    def __init__(self, model: Model, diag_x: np.ndarray, diag_y: np.ndarray, capacity: int,
                 batch: int):
        self.model = model
        self.stride = update_data_stride(model, batch, capacity)  # capacity: steps
        """update:data is measured at steps 1, 1 + stride, ...; NaN at the others."""
        self.diag_x, self.diag_y = diag_x, diag_y
        self.matrix_names = [model.names[k] for k in model.matrix_indices()]
        self.matrix_sums = MatrixSums([model.slices[k] for k in model.matrix_indices()],
                                      model.dtype)
        self.size = 0
        self.loss = np.zeros(capacity)
        self.lr = np.zeros(capacity)
        # NaN until measured: a step that is not measured (see update_data_stride) or a run
        # recorded without diagnostics costs no write.
        self.update_data = np.full((capacity, len(self.matrix_names)), np.nan, np.float32)
        self.layer_rows: list[dict] = []
        self.weight_rows: list[dict] = []
        self.logit_rows: list[dict] = []
        self.hist_rows: list[tuple] = []
        self.dead_maps: dict[int, dict[str, np.ndarray]] = {}
        self.model_states: dict[int, dict] = {}
        self.keep_states = True

    def restore(self, loss: np.ndarray, lr: np.ndarray, update_data: np.ndarray,
                layer_rows: list[dict], weight_rows: list[dict], logit_rows: list[dict],
                hist_rows: list[tuple], dead_maps: dict, model_states: dict) -> None:
        """Take back what an earlier recording of this run held (a saved run continued)."""
        self.grow(len(loss))
        self.size = len(loss)
        self.loss[:self.size], self.lr[:self.size] = loss, lr
        self.update_data[:self.size] = update_data
        self.layer_rows, self.weight_rows, self.logit_rows = layer_rows, weight_rows, logit_rows
        self.hist_rows = hist_rows
        self.dead_maps = {step: dict(maps) for step, maps in dead_maps.items()}
        self.model_states = model_states.copy()  # a run's (lazy) mapping stays lazy

    def grow(self, extra: int) -> None:
        """Make room for ``extra`` more steps (continued training)."""
        need = self.size + extra
        if need <= len(self.loss):
            return
        pad = need - len(self.loss)
        self.loss = np.concatenate([self.loss, np.zeros(pad)])
        self.lr = np.concatenate([self.lr, np.zeros(pad)])
        self.update_data = np.concatenate(
            [self.update_data, np.full((pad, self.update_data.shape[1]), np.nan, np.float32)])

    def record_step(self, loss: float, lr: float, update: np.ndarray | None) -> bool:
        """Store one step; returns False when the parameters are no longer finite."""
        i = self.size
        self.loss[i], self.lr[i] = loss, lr
        self.size += 1
        if update is None:
            return True
        if i % self.stride:
            self.matrix_sums.age = MatrixSums.RESYNC  # the carried sums missed this update
            return True
        return self.matrix_sums.update_data(self.model.flat, update, self.update_data[i])

    def forget(self, step: int) -> None:
        """Drop everything the snapshot of ``step`` recorded."""
        self.layer_rows = [row for row in self.layer_rows if row["step"] != step]
        self.weight_rows = [row for row in self.weight_rows if row["step"] != step]
        self.logit_rows = [row for row in self.logit_rows if row["step"] != step]
        self.hist_rows = [row for row in self.hist_rows if row[0] != step]
        self.dead_maps.pop(step, None)
        self.model_states.pop(step, None)

    def sums_settled(self) -> bool:
        """Whether the next step would recompute the carried sums anyway (or not measure
        at all): stopping here and resuming, which recomputes them, changes no number."""
        return self.size % self.stride != 0 or self.matrix_sums.age >= MatrixSums.RESYNC

    def _hist(self, step: int, name: str, quantity: str, values: np.ndarray,
              low: float | None = None, high: float | None = None) -> None:
        edges, density = histogram(values, low, high)
        self.hist_rows.append((step, name, quantity, edges, density))

    def histogram_frame(self, rows: list[tuple] | None = None) -> pd.DataFrame:
        """All histograms (or the given ``hist_rows``) as one tidy table (one row per bin),
        built once per Run."""
        columns = ["step", "name", "quantity", "bin_start", "bin_end", "density"]
        rows = self.hist_rows if rows is None else rows
        if not rows:
            return pd.DataFrame(columns=columns)
        bins = len(rows[0][4])
        repeat = lambda k: np.repeat([row[k] for row in rows], bins)  # noqa: E731
        edges = np.stack([row[3] for row in rows])
        return pd.DataFrame({
            "step": repeat(0).astype(np.int64),
            "name": _categorical([row[1] for row in rows], bins),
            "quantity": _categorical([row[2] for row in rows], bins),
            "bin_start": edges[:, :-1].ravel(), "bin_end": edges[:, 1:].ravel(),
            "density": np.concatenate([row[4] for row in rows]),
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
            state = {"params": model.flat.copy(),
                     "buffers": {k: v.copy() for k, v in model.buffers().items()}}
            # A run on its way to diverging can hold a non-finite bias or BatchNorm
            # variance at a snapshot before training notices: no view can use that copy,
            # and a run file holding one is refused on import.
            if np.isfinite(state["params"]).all() and all(
                    np.isfinite(value).all() for value in state["buffers"].values()):
                self.model_states[step] = state

    def _layers(self, step: int, model: Model) -> None:
        maps = {}
        for block in model.blocks:
            layer = model.layers[block.activation]
            act = layer.activation
            name = block.name
            pre, out, grad = layer.x, layer.y, layer.grad_out
            saturated = act.saturated(pre, out) if act.saturated else np.zeros(out.shape, bool)
            dead = act.dead(pre, out).all(axis=0) if act.dead else np.zeros(out.shape[1], bool)
            maps[name] = np.packbits(saturated[:MAP_EXAMPLES, :MAP_UNITS], axis=1)
            (pre_mean, pre_std), (act_mean, act_std), (grad_mean, grad_std) = (
                _mean_std(pre), _mean_std(out), _mean_std(grad))
            self.layer_rows.append({
                "step": step, "layer": name, "units": block.width,
                "preact_mean": pre_mean, "preact_std": pre_std,
                "act_mean": act_mean, "act_std": act_std,
                "grad_mean": grad_mean, "grad_std": grad_std,
                "saturated_pct": 100.0 * np.count_nonzero(saturated) / max(saturated.size, 1),
                "dead_units": int(dead.sum()),
            })
            low, high = act.output_range or value_range(out)
            self._hist(step, name, "activation", out, low, high)
            self._hist(step, name, "preactivation", pre)
            self._hist(step, name, "gradient", grad)
        self.dead_maps[step] = maps

    def _weights(self, step: int, model: Model) -> None:
        params, grads = model.parameters(), model.gradients()
        for name in self.matrix_names:
            w, g = params[name], grads[name]
            w_std, g_std = _mean_std(w)[1], _mean_std(g)[1]
            self.weight_rows.append({
                "step": step, "param": name, "shape": "x".join(map(str, w.shape)),
                "weight_std": w_std, "grad_std": g_std,
                # All-equal weights (std 0): an infinite ratio only when the gradient
                # would move them; 0/0 (a zero init's stuck matrix) has no value.
                "grad_data": (g_std / w_std if w_std > 0
                              else float("inf") if g_std > 0 else float("nan")),
            })
            self._hist(step, name, "weight", w)
            self._hist(step, name, "weight_grad", g)

    def _logits(self, step: int, logits: np.ndarray, loss: float) -> None:
        probs = softmax(logits)
        logit_mean, logit_std = _mean_std(logits)
        p_correct = probs[np.arange(len(self.diag_y)), self.diag_y]
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.sum(np.where(probs > 0, probs * np.log(probs), 0.0), axis=1)
        self.logit_rows.append({
            "step": step, "loss": loss, "mean": logit_mean, "std": logit_std,
            "max_abs": float(np.abs(logits).max()), "entropy": float(entropy.mean()),
            "p_correct": float(p_correct.mean()),
        })
        self._hist(step, "logits", "logits", logits)
        self._hist(step, "logits", "p_correct", p_correct, 0.0, 1.0)


def _categorical(labels: list[str], repeats: int) -> pd.Categorical:
    """``pd.Categorical(np.repeat(labels, repeats))`` from the few distinct labels: that
    hashed every one of the rows x bins strings again, 10 ms per live redraw."""
    categories, codes = np.unique(np.array(labels, dtype=str), return_inverse=True)
    return pd.Categorical.from_codes(np.repeat(codes, repeats), categories=categories)

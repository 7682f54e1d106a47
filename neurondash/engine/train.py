"""The training loop: mini-batch steps with progress, stop requests and divergence handling.

The engine knows nothing of Runs (``neurondash.training`` turns a Trainer into one). Nothing
raises to the caller once training has started: a non-finite loss or parameter ends the
run with ``status='diverged'`` and the step and reason recorded, and everything recorded up
to then stays usable.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

from ..config import Config
from ..data import Dataset, data_rngs
from ..parts.arrays import distinct_rows
from ..parts.losses import log_softmax
from ..parts.optimizers import OPTIMIZERS, SCHEDULES, Optimizer
from . import queries
from .diagnostics import PARAM_SNAPSHOT_BUDGET, Recorder, step_seconds
from .model import Model, build_model

DIAG_BATCH = 512
VAL_SUBSET = 4096
EVAL_CHUNK = 16384
REPLAY_SECONDS = 2.0
"""Training a recorded run again to rebuild the weights at one of its snapshots (a run read
from a file keeps a digest of them, not a copy) should take about this long at most (by
``diagnostics.step_seconds``): longer runs keep the full training state at a few snapshots
to start from (``restart_steps``)."""
MAX_RESTARTS = 3
"""At most this many such states (each as large as the parameters and optimizer moments),"""
RESTART_BYTES = 2**17
"""and all of them together at most this large: float32 weights barely compress, so a
state costs a run file about its own size, and a long run's file is not doubled by them.
A default-size model (26k parameters) with SGD keeps one (105 KB), with Adam's moments
(316 KB) none; makemore's 200k-step lecture run (192 KB a state) none, which keeps its
file under issue 27's 1 MB: rebuilding its weights at a late snapshot then trains again
from step 0, which ``ui.cache.offer_rebuild`` offers with its time."""
BATCH_DRAWS = 256
"""Steps whose minibatch indices are drawn with one RNG call (one call per step costs more
than the gathering it feeds)."""


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """Finding the loaded BLAS libraries takes milliseconds: do it once per process."""
    return ThreadpoolController()


def deterministic_blas():
    """One BLAS thread: a multi-threaded matrix product may sum in a different order, so
    results would depend on the machine's core count (and single-threaded BLAS is faster
    at these sizes anyway)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def blas_description() -> str:
    """The BLAS library and kernel the engine's matrix products run on (benchmarks print
    it: an OPENBLAS_CORETYPE override picks another kernel, and other speeds)."""
    return ", ".join(f"{info.get('internal_api')} {info.get('version')} "
                     f"({info.get('architecture')})"
                     for info in _blas_controller().info() if info.get("user_api") == "blas")


class BatchDraws:
    """Minibatch indices drawn ``BATCH_DRAWS`` steps at a time, yet exactly the numbers (and
    the final RNG state) of one ``integers(0, n, batch)`` call per step: NumPy's bounded
    integers come out the same whether drawn in one call or several, and ``settle`` rewinds
    the RNG past a block that was only partly used (a stop or a divergence)."""

    def __init__(self, rng: np.random.Generator, n: int, batch: int):
        self.rng, self.n, self.batch = rng, n, batch
        self.block: np.ndarray | None = None
        self.used = 0
        self.state_before: dict | None = None

    def next(self, remaining: int) -> np.ndarray:
        """The next step's indices; ``remaining`` steps at most are drawn ahead."""
        if self.block is None or self.used == len(self.block):
            self.state_before = self.rng.bit_generator.state
            self.block = self.rng.integers(0, self.n, (min(BATCH_DRAWS, remaining), self.batch))
            self.used = 0
        self.used += 1
        return self.block[self.used - 1]

    def settled_state(self) -> dict:
        """The RNG state ``settle`` would leave, without touching the RNG."""
        if self.block is None or self.used == len(self.block):
            return self.rng.bit_generator.state
        copy = np.random.Generator(np.random.PCG64())
        copy.bit_generator.state = self.state_before
        copy.integers(0, self.n, (self.used, self.batch))
        return copy.bit_generator.state

    def settle(self) -> None:
        """Leave the RNG where one draw per used step would have left it."""
        if self.block is not None and self.used < len(self.block):
            self.rng.bit_generator.state = self.state_before
            self.rng.integers(0, self.n, (self.used, self.batch))
        self.block = None


@dataclass(frozen=True)
class Progress:
    """What a progress callback receives."""

    step: int
    total: int
    loss: float
    elapsed: float

    @property
    def fraction(self) -> float:
        return self.step / max(self.total, 1)


ProgressCallback = Callable[[Progress], None]
StopRequest = Callable[[], bool]


@dataclass(frozen=True)
class Mark:
    """How far the recording had got at one checkpoint, taken in the training thread: the
    recorder's lists only grow, so their first ``rows`` entries can be read from another
    thread while training goes on (a page drawing the run as it stood there)."""

    step: int
    rows: dict[str, int]
    """Entries of ``eval_rows`` and of the recorder's ``layer_rows``, ``weight_rows``,
    ``logit_rows`` and ``hist_rows``."""
    dead_maps: dict[int, dict[str, np.ndarray]]
    model_states: dict[int, dict]
    weights: dict
    """The model's params and buffers at the checkpoint (for views that run the model)."""


class Trainer:
    """Everything a run needs to take more steps: data, model, optimizer, RNG streams."""

    def __init__(self, config: Config, dataset: Dataset, record: bool = True,
                 dtype: type = np.float32):
        self.config, self.dataset, self.record = config, dataset, record
        rngs = data_rngs(config.seed)
        self.batch_rng = rngs["batches"]
        self.model: Model = build_model(config, dataset.n_inputs, dataset.n_classes,
                                        rngs["init"], dtype)
        self.optimizer: Optimizer = OPTIMIZERS[config.opt](
            self.model.flat, config.wd, self.model.decay_mask())
        self.schedule = SCHEDULES[config.sched]
        self.x, self.y = dataset.x["train"], dataset.y["train"]
        diag_rng = rngs["diagnostics"]
        diag = diag_rng.permutation(len(self.y))[:DIAG_BATCH]
        val = diag_rng.permutation(len(dataset.y["val"]))[:VAL_SUBSET]
        self.val_x, self.val_y = dataset.x["val"][val], dataset.y["val"][val]
        self.recorder = Recorder(self.model, self.x[diag], self.y[diag], config.steps,
                                 config.batch)
        self.recorder.keep_states = self._states_fit()
        self.eval_rows: list[dict] = []
        self.step = 0
        self.status = "running"
        self.message = ""
        self.diverged_step: int | None = None
        self.elapsed = 0.0
        self.on_checkpoint: Callable[[Mark], None] | None = None
        """Called in the training thread after every checkpoint (a page watching live)."""
        self.restarts: dict[int, dict] = {}
        """Full training states (step, params, buffers, optimizer, rng) that replaying this
        run's training may start from: where it was resumed from a saved run, and the
        snapshots of ``restart_steps``."""
        self.restart_steps = self._restart_steps()
        self._batches: BatchDraws | None = None

    def _states_fit(self) -> bool:
        """Whether every snapshot can keep a copy of the weights (PARAM_SNAPSHOT_BUDGET)."""
        return self.model.n_params() * self.config.snapshot_count() <= PARAM_SNAPSHOT_BUDGET

    def adopt(self, config: Config) -> None:
        """Take on a longer Config (more steps) for the steps still to come; the weight
        copies are dropped if its snapshots no longer fit, as a run trained in one go has
        none then."""
        self.config = config
        self.recorder.keep_states = self._states_fit()
        self.restart_steps = self._restart_steps()
        if not self.recorder.keep_states:
            self.recorder.model_states.clear()

    def _restart_steps(self) -> set[int]:
        """The snapshots where a recorded run keeps its full training state, so that a
        replay to any snapshot takes about ``REPLAY_SECONDS`` at most, as far as
        ``MAX_RESTARTS`` and ``RESTART_BYTES`` allow: evenly spread over the steps, a fixed
        function of the Config."""
        if not self.record:
            return set()
        total = self.config.total_steps
        count = math.ceil(step_seconds(self.model, self.config.batch) * total
                          / REPLAY_SECONDS) - 1
        count = min(MAX_RESTARTS, count, RESTART_BYTES // self._state_bytes())
        inner = [s for s in self.config.snapshot_steps() if 0 < s < total]
        if count < 1 or not inner:
            return set()
        return {min(inner, key=lambda s, k=k: abs(s - k * total / (count + 1)))
                for k in range(1, count + 1)}

    def _state_bytes(self) -> int:
        """Bytes of one restart state's arrays: parameters, buffers, optimizer state."""
        arrays = [self.model.flat, *self.model.buffers().values(),
                  *(v for v in self.optimizer.state().values() if isinstance(v, np.ndarray))]
        return sum(array.nbytes for array in arrays)

    def learning_rate(self, step: int) -> float:
        """Scheduled rate; steps past the configured total (continued runs) keep the last one."""
        total = self.config.steps
        return self.schedule(self.config.lr, min(step, total - 1), total)

    def _diverge(self, step: int, reason: str) -> None:
        self.status, self.diverged_step = "diverged", step
        self.message = f"Training diverged at step {step:,}: {reason}."

    def run(self, steps: int, on_progress: ProgressCallback | None = None,
            should_stop: StopRequest | None = None, checkpoint_last: bool = True) -> None:
        """Take up to ``steps`` more steps, snapshotting on the configured cadence.

        Floating-point warnings are silenced: overflow is detected and reported as divergence.
        ``checkpoint_last=False`` skips the end-of-call checkpoint (benchmarks time steps).
        """
        with np.errstate(all="ignore"), deterministic_blas():
            self._run(steps, on_progress, should_stop, checkpoint_last)

    def _run(self, steps: int, on_progress: ProgressCallback | None,
             should_stop: StopRequest | None, checkpoint_last: bool) -> None:
        start = time.perf_counter()
        recorder, model, optimizer = self.recorder, self.model, self.optimizer
        recorder.grow(steps)
        interval = self.config.snapshot_interval()
        end = self.step + steps
        report_every = max(1, steps // 200)
        self.status, self.message = "running", ""
        stopping = False
        if self.step == 0 and not self.eval_rows:
            self._checkpoint(0)
        x, y = self.x, self.y
        batches = self._batches = BatchDraws(self.batch_rng, len(y), self.config.batch)
        loss = float("nan")
        # A callback that raises (a page rerun stopping a replay) still leaves the RNG
        # settled, so the same Trainer can go on from its step exactly.
        try:
            while self.step < end:
                idx = batches.next(end - self.step)
                loss = model.loss_and_grad(x.take(idx, axis=0), y.take(idx))
                lr = self.learning_rate(self.step)
                if not math.isfinite(loss):
                    recorder.record_step(loss, lr, None)
                    self._diverge(self.step, f"the loss became {loss}")
                    break
                update = optimizer.step(model.flat, model.grad, lr)
                self.step += 1
                # Recording checks every matrix's std each step; without it a non-finite
                # parameter shows up in the next step's loss (NaN/inf propagate through the
                # forward pass), and the end of the run checks the parameters once more.
                finite = recorder.record_step(loss, lr, update if self.record else None)
                if not finite:
                    self._diverge(self.step, "a parameter became infinite or NaN")
                    break
                # The schedule's end is a snapshot too, so that a run continued from there (more)
                # has exactly the snapshots of one trained in one go.
                checkpointed = (self.step % interval == 0 or self.step == self.config.steps
                                or (self.step == end and checkpoint_last))
                if checkpointed:
                    self._checkpoint(self.step)
                if self.step % report_every == 0 or self.step == end:
                    if on_progress is not None:
                        on_progress(Progress(self.step, end, loss, self.elapsed
                                             + time.perf_counter() - start))
                    stopping = stopping or (should_stop is not None and should_stop())
                if stopping and self.step < end and self.resumes_exactly():
                    self.status = "stopped"
                    self.message = f"Stopped at step {self.step:,} of {end:,}."
                    if not checkpointed:
                        self._checkpoint(self.step)
                    break
        finally:
            batches.settle()
        if self.status == "running" and not math.isfinite(float(model.flat.sum())):
            self._diverge(self.step, "a parameter became infinite or NaN")
        if self.status == "running":
            self.status = "finished"
        self.elapsed += time.perf_counter() - start

    def resumes_exactly(self) -> bool:
        """Whether a run stopped after this step and resumed from its saved state takes
        the next steps exactly as an uninterrupted one: no BatchNorm block half full, no
        update:data sums carried into the next step. Both restart every 64 steps, so a
        stop request waits at most that long."""
        return self.model.running_stats_settled() and (
            not self.record or self.recorder.sums_settled())

    def forget_snapshot(self, step: int) -> None:
        """Drop the checkpoint of ``step`` (a stop's, which the resumed run does not take)."""
        self.eval_rows = [row for row in self.eval_rows if row["step"] != step]
        self.recorder.forget(step)

    def _checkpoint(self, step: int) -> None:
        """Validation loss (always) and a diagnostics snapshot (when recording)."""
        loss, accuracy = split_metrics(self.model, self.val_x, self.val_y)
        self.eval_rows.append({"step": step, "val_loss": loss, "val_acc": accuracy})
        if self.record:
            self.recorder.snapshot(step)
            # Recompute the carried weight sums after every checkpoint, where a continued run
            # starts afresh: its update:data then matches a run trained in one go, bit for bit.
            self.recorder.matrix_sums.resync_next()
            if step in self.restart_steps:
                self._keep_restart(step)
        if self.on_checkpoint is not None:
            self.on_checkpoint(self.mark(step))

    def _keep_restart(self, step: int) -> None:
        """Keep the full training state at ``step`` (``restart_steps``) where resuming
        from it is exact: after the checkpoint's flush BatchNorm's blocks are settled; the
        RNG as if one draw per step had been taken."""
        model = self.model
        if self._batches is None or not model.running_stats_settled() or not np.isfinite(
                model.flat).all():
            return
        self.restarts[step] = {
            "step": step, "params": model.flat.copy(),
            "buffers": {k: v.copy() for k, v in model.buffers().items()},
            "optimizer": {k: (np.array(v).copy() if not isinstance(v, int) else v)
                          for k, v in self.optimizer.state().items()},
            "rng": self._batches.settled_state()}

    def mark(self, step: int) -> Mark:
        """What a page may draw of this run as it stands at checkpoint ``step``."""
        rec, model = self.recorder, self.model
        kept = rec.model_states.get(step)
        weights = kept or {"params": model.flat.copy(),
                           "buffers": {k: v.copy() for k, v in model.buffers().items()}}
        return Mark(step, {"eval_rows": len(self.eval_rows), "layer_rows": len(rec.layer_rows),
                           "weight_rows": len(rec.weight_rows),
                           "logit_rows": len(rec.logit_rows), "hist_rows": len(rec.hist_rows)},
                    dict(rec.dead_maps), rec.model_states.copy(), weights)

    def evaluate(self) -> dict[str, float]:
        """Loss and accuracy on every full split, in eval mode (BatchNorm running stats)."""
        if self.status == "diverged":
            return {}
        # Silenced as in training: a finite model may still overflow an intermediate (GELU's
        # x**3 at a huge pre-activation) on the way to a finite result.
        with np.errstate(all="ignore"), deterministic_blas():
            return self._evaluate()

    def dead_units(self) -> dict[str, int] | None:
        """Units dead on the whole training split at the current weights (None for a
        diverged run, whose parameters are not finite)."""
        if self.status == "diverged":
            return None
        with np.errstate(all="ignore"), deterministic_blas():
            return queries.dead_on_split(self.model, self.dataset.x["train"])

    def _evaluate(self) -> dict[str, float]:
        result = {}
        for split in ("train", "val", "test"):
            xs, ys = self.dataset.x[split], self.dataset.y[split]
            if len(ys):
                result[f"{split}_loss"], result[f"{split}_acc"] = split_metrics(
                    self.model, xs, ys)
        return result


def split_metrics(model: Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean NLL and accuracy in eval mode, where the model is a fixed function of its input.

    Character contexts repeat (185k training examples of context 3 have ~5k distinct
    contexts), so each distinct input goes through the network once and its log
    probabilities are shared by every example that has it: the same numbers, many times
    faster.
    """
    inputs, row = distinct_rows(x) if x.dtype.kind in "iu" else (x, np.arange(len(y)))
    log_probs = np.concatenate([
        log_softmax(model.forward(inputs[lo:lo + EVAL_CHUNK], train=False))
        for lo in range(0, len(inputs), EVAL_CHUNK)])
    nll = -log_probs[row, y]
    correct = log_probs.argmax(axis=1)[row] == y
    return float(nll.mean(dtype=np.float64)), float(np.mean(correct))

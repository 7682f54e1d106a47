"""A Run: config, history, snapshots and the trained state, serialisable to exact JSON.

Arrays, histograms and snapshot weights travel as ``run_encoding`` writes them, so a JSON
round trip is bit-exact and never executes anything (no pickle). The trained state
(parameters, BatchNorm buffers, optimizer moments, batch RNG) is included, so an
imported run can be queried and continued exactly as if it had never left memory.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import runfile
from .config import Config, ConfigError
from .engine.train import ProgressCallback
from .kept_states import KeptStates, as_kept_states
from .replay import Replay, latest_kept
from .run_encoding import (
    decode_array,
    encode_array,
    frame_from_json,
    frame_to_json,
    histograms_from_json,
    histograms_to_json,
    state_to_json,
)
from .runfile import FORMAT, MAX_IMPORT_BYTES, VERSION, RunFormatError

__all__ = ["FORMAT", "MAX_IMPORT_BYTES", "VERSION", "Run", "RunFormatError"]

MIN_MATRIX = 64
"""Weight matrices smaller than this are left out of the typical update:data when larger
ones exist (see ``Run.typical_update_data``)."""
LR_CUT = 2.0
"""A learning rate falling by this factor or more from one step to the next is a cut."""
UPDATE_WINDOW = (0.05, 0.5)
"""Shares of the recorded steps between which ``Run.typical_update_data`` looks."""
TABLES = ("evals", "layers", "weights", "logits", "histograms")

def _source_words(blob: runfile.RunFile, config: Config) -> tuple[str, ...] | None:
    """The word list as the user gave it. Files of version 1 kept it split (train, val,
    test words in turn), which a new split under the same seed would deal out anew: put
    those back in the order that the seed's split deals out as they were."""
    if blob.words is None:
        return None
    words = tuple(blob.words)
    if blob.version == 1:
        from .data import word_order

        order = word_order(len(words), config.split_seed)
        given = [""] * len(words)
        for position, index in enumerate(order):
            given[index] = words[position]
        words = tuple(given)
    return words


@dataclass
class Run:
    """Everything one training run produced. Tables are tidy DataFrames (one row per
    observation); ``history`` has one row per step with update:data per weight matrix."""

    config: Config
    steps_done: int
    status: str
    message: str
    history: pd.DataFrame
    evals: pd.DataFrame
    layers: pd.DataFrame
    weights: pd.DataFrame
    logits: pd.DataFrame
    histograms: pd.DataFrame
    dead_maps: dict[int, dict[str, np.ndarray]]
    """step -> layer -> bit-packed (np.packbits, axis 1) examples x units saturation map."""
    model_states: KeptStates
    """step -> {"params", "buffers"} of the model at that snapshot (small models only; a
    plain dict given here becomes ``KeptStates``)."""
    final: dict[str, float]
    baselines: dict[str, float]
    vocab: str | None
    state: dict[str, Any]
    elapsed: float = 0.0
    diverged_step: int | None = None
    words: tuple[str, ...] | None = None
    matrix_names: list[str] = field(default_factory=list)
    diagnostic_examples: int | None = None
    numpy_version: str | None = None
    """The NumPy that trained the run: recorded and shown, not part of its key (files from
    before it was recorded have none)."""
    """Examples in the fixed diagnostic batch every snapshot measures (None in older files)."""
    dead_units: dict[str, int] | None = None
    """Per hidden layer, units dead on the whole training split after training (eval mode;
    None for a diverged run, or a file from before it was recorded). The snapshots' own
    ``dead_units`` column counts units dead on the diagnostic sample only."""
    checkpoints: dict[int, dict] = field(default_factory=dict)
    """step -> full training state (as ``state``) where this run's training was resumed:
    replaying a kept snapshot starts from the latest one before it (or from step 0)."""

    def __post_init__(self) -> None:
        states = self.model_states
        self.model_states = (states.copy() if isinstance(states, KeptStates)
                             else KeptStates(states))
        self.model_states.replay = self._replay_state

    def __getstate__(self) -> dict:
        """A pickled Run (a sweep's worker sends it back) leaves its replay behind: the
        replaying Trainer is rebuilt when needed."""
        state = dict(self.__dict__)
        state.pop("_replay", None)
        state.pop("_replay_progress", None)
        return state

    @contextlib.contextmanager
    def replay_progress(self, on_progress: ProgressCallback):
        """Tell ``on_progress`` how any replay done meanwhile goes (a view that waits for
        the weights at a snapshot: a long run trains again for up to a minute)."""
        self.__dict__["_replay_progress"] = on_progress
        try:
            yield
        finally:
            self.__dict__.pop("_replay_progress", None)

    def replay_start(self, step: int) -> int:
        """The step a replay to snapshot ``step`` would train from (``Replay.start``)."""
        replay = self.__dict__.get("_replay")
        if replay is not None:
            return replay.start(step)
        return latest_kept(self.checkpoints, step)

    def _replay_state(self, step: int) -> dict:
        """The model state at snapshot ``step``, trained again (``replay.Replay``)."""
        if step == self.steps_done or step in self.checkpoints:
            state = self.state if step == self.steps_done else self.checkpoints[step]
            return {"params": state["params"], "buffers": state["buffers"]}
        replay = self.__dict__.get("_replay")
        if replay is None:
            replay = self.__dict__["_replay"] = Replay(
                self.config, self.words, self.checkpoints, self.state["params"].dtype)
        return replay.state(step, self.__dict__.get("_replay_progress"))

    @classmethod
    def from_trainer(cls, trainer, mark=None) -> Run:
        """The trainer's run. With ``mark`` (an ``engine.train.Mark``, read from another
        thread while training goes on): the run as it stood at that checkpoint, with the
        loss series up to the latest step, status 'running' and no final metrics."""
        rec = trainer.recorder
        n = rec.size
        rows = mark.rows if mark is not None else {}
        upto = lambda name, items: items[:rows[name]] if rows else items  # noqa: E731
        history = pd.DataFrame({"step": np.arange(1, n + 1), "loss": rec.loss[:n].copy(),
                                "lr": rec.lr[:n].copy()})
        for k, name in enumerate(rec.matrix_names):
            history[name] = rec.update_data[:n, k].copy()
        dataset = trainer.dataset
        tables = {name: runfile.with_columns(name, frame) for name, frame in (
            ("evals", pd.DataFrame(upto("eval_rows", trainer.eval_rows))),
            ("layers", pd.DataFrame(upto("layer_rows", rec.layer_rows))),
            ("weights", pd.DataFrame(upto("weight_rows", rec.weight_rows))),
            ("logits", pd.DataFrame(upto("logit_rows", rec.logit_rows))),
            ("histograms", rec.histogram_frame(upto("hist_rows", rec.hist_rows))))}
        common = dict(config=trainer.config, history=history, **tables,
                      baselines=dict(dataset.baselines), vocab=dataset.vocab,
                      words=dataset.source_words if dataset.task == "words" else None,
                      matrix_names=list(rec.matrix_names), diagnostic_examples=len(rec.diag_y),
                      numpy_version=np.__version__)
        if mark is not None:
            return cls(steps_done=mark.step, status="running", message="",
                       dead_maps=mark.dead_maps,
                       model_states=as_kept_states(mark.model_states), final={},
                       state={"step": mark.step, **mark.weights}, elapsed=trainer.elapsed,
                       **common)
        model = trainer.model
        state = {
            "step": trainer.step,
            "params": model.flat.copy(),
            "buffers": {k: v.copy() for k, v in model.buffers().items()},
            "optimizer": {k: (np.array(v).copy() if not isinstance(v, int) else v)
                          for k, v in trainer.optimizer.state().items()},
            "rng": trainer.batch_rng.bit_generator.state,
        }
        return cls(
            steps_done=trainer.step, status=trainer.status, message=trainer.message,
            dead_maps={s: {k: v.copy() for k, v in m.items()} for s, m in rec.dead_maps.items()},
            model_states=as_kept_states(rec.model_states), final=trainer.evaluate(), state=state,
            elapsed=trainer.elapsed, diverged_step=trainer.diverged_step,
            dead_units=trainer.dead_units(), checkpoints=dict(trainer.restarts), **common)

    # -- derived views -------------------------------------------------------------
    @property
    def snapshot_steps(self) -> list[int]:
        """Steps with diagnostics (none when the run was trained with record=False)."""
        return sorted(int(s) for s in self.logits["step"].unique()) if len(self.logits) else []

    @property
    def sample_name(self) -> str:
        """The diagnostic batch, as labels name it ('512 sampled examples')."""
        count = self.diagnostic_examples
        return f"{count:,} sampled examples" if count else "the sampled examples"

    @property
    def initial_loss(self) -> float:
        """Loss at step 0 on the diagnostic batch (first minibatch loss if not recorded)."""
        if len(self.logits):
            return float(self.logits["loss"].iloc[0])
        return float(self.history["loss"].iloc[0]) if len(self.history) else float("nan")

    @property
    def expected_initial_loss(self) -> float:
        return self.baselines["uniform"]

    @property
    def single_weights(self) -> list[str]:
        """Weight matrices of one weight (1x1, width 1): their spread is 0 by definition,
        so update:data and a ratio to the init's std say nothing about them."""
        shapes = dict(zip(self.weights["param"], self.weights["shape"], strict=False))
        return [name for name in self.matrix_names if shapes.get(name) == "1x1"]

    @functools.cached_property
    def histograms_by_step(self) -> dict[tuple[int, str], pd.DataFrame]:
        """(step, quantity) -> that snapshot's histogram rows, grouped once: the dashboard
        looks one up on every rerun, and filtering the whole table each time costs ms."""
        return {key: group for key, group in self.histograms.groupby(["step", "quantity"],
                                                                      observed=True)}

    def lr_cuts(self) -> list[tuple[int, float]]:
        """(step, factor) of every sudden cut of the learning rate (a fall of ``LR_CUT``
        or more in one step: a step schedule's), read off the run's own series; a schedule
        that glides down (cosine) has none."""
        steps, lrs = self.history["step"].to_numpy(), self.history["lr"].to_numpy()
        before, after = lrs[:-1], lrs[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = np.flatnonzero((after > 0) & (before >= LR_CUT * after))
        return [(int(steps[i + 1]), float(before[i] / after[i])) for i in cut]

    def typical_update_data(self, min_steps: int = 1) -> float | None:
        """Median update:data over the weight matrices in early and mid training (the
        steps of ``UPDATE_WINDOW``); None with fewer than ``min_steps`` steps or no finite
        value.

        That is where the learning rate shows: the first steps are a transient, and late in
        a run a converged model (SGD's gradient shrinks with the loss) or a decayed
        schedule (the step schedule's cut at 75%) rightly takes smaller steps, which says
        nothing about the configured rate. Matrices under ``MIN_MATRIX`` entries (a 2-D
        input or output layer) are left out when larger ones exist: the std of a handful of
        weights says little, and their ratio swings widely.
        """
        columns = [c for c in self.matrix_names if c in self.history]
        sizes = {param: math.prod(int(n) for n in shape.split("x")) for param, shape in
                 zip(self.weights.get("param", []), self.weights.get("shape", []), strict=True)}
        large = [c for c in columns if sizes.get(c, MIN_MATRIX) >= MIN_MATRIX] or columns
        if not large or len(self.history) < min_steps:
            return None
        start, end = (math.floor(len(self.history) * share) for share in UPDATE_WINDOW)
        values = self.history[large].iloc[start:max(end, start + 1)].to_numpy()
        finite = values[np.isfinite(values)]
        return float(np.median(finite)) if finite.size else None

    def dead_map(self, step: int, layer: str) -> np.ndarray:
        """The boolean examples x units saturation map of one layer at one snapshot."""
        units = int(self.layers.loc[self.layers["layer"] == layer, "units"].iloc[0])
        packed = self.dead_maps[step][layer]
        return np.unpackbits(packed, axis=1, count=min(units, packed.shape[1] * 8)).astype(bool)

    def model(self, step: int | None = None, dtype: type | None = None):
        """The model after training, or as it was at snapshot ``step`` when that was kept
        (see ``model_states``: held in memory, or for a run read from a file trained
        again from the nearest checkpoint on first use, then held); cheap for
        dashboard-size nets.
        ``dtype`` (default: the training precision) gives e.g. a float64 copy for checks."""
        from .engine.model import build_model

        classes = len(self.vocab) if self.vocab is not None else 2
        model = build_model(self.config, classes, classes, np.random.default_rng(0),
                            dtype or self.state["params"].dtype)
        state = self.model_states.get(step) if step is not None else None
        state = state if state is not None else self.state
        model.flat[...] = state["params"]
        for name, value in state["buffers"].items():
            model.buffers()[name][...] = value
        return model

    # -- JSON ----------------------------------------------------------------------
    def to_json_dict(self, compact: bool = True) -> dict[str, Any]:
        """The run file's fields. ``compact=False`` writes every array as its plain bytes
        and the histograms as a table (the same run, a larger file: tests that mutate a
        file's tables field by field use it)."""
        state_json = functools.partial(state_to_json, compact=compact)
        return {
            "format": FORMAT, "version": VERSION,
            "config": self.config.to_dict(),
            "steps_done": self.steps_done, "status": self.status, "message": self.message,
            "diverged_step": self.diverged_step, "elapsed": self.elapsed,
            "final": {k: runfile.dump_number(v) for k, v in self.final.items()},
            "baselines": self.baselines, "vocab": self.vocab,
            "words": list(self.words) if self.words is not None else None,
            "matrix_names": self.matrix_names, "dead_units": self.dead_units,
            "diagnostic_examples": self.diagnostic_examples,
            "numpy": self.numpy_version,
            "history": frame_to_json(self.history, compact),
            **{name: frame_to_json(getattr(self, name), compact)
               for name in TABLES if name != "histograms"},
            "histograms": (histograms_to_json(self.histograms) if compact
                           else frame_to_json(self.histograms)),
            "dead_maps": {str(s): {k: encode_array(v, compact) for k, v in m.items()}
                          for s, m in self.dead_maps.items()},
            "replay": {str(s): digest for s, digest in self.model_states.digests().items()},
            "checkpoints": {str(s): state_json(c) for s, c in sorted(self.checkpoints.items())},
            "state": state_json(self.state),
        }

    def to_json(self, compact: bool = True) -> str:
        """Standard JSON (no NaN or Infinity tokens, which strict parsers refuse)."""
        return json.dumps(self.to_json_dict(compact), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Run:
        """Parse a run file written by this program (its own exports, the store's bodies):
        anything malformed raises RunFormatError with the reason, and nothing of it is used.

        A file from anybody else goes through ``runchecks.read_run_file``, which also
        compares its parts with a Trainer the engine builds for its Config."""
        blob = runfile.parse(text)
        try:
            config = Config.from_dict(blob.config)
        except ConfigError as err:
            raise RunFormatError(f"the run's config is invalid: {err}") from None
        def model_state(saved) -> dict:
            return {"params": decode_array(saved.params),
                    "buffers": {k: decode_array(v) for k, v in saved.buffers.items()}}

        def trained_state(saved: runfile.TrainedState) -> dict:
            return {**model_state(saved), "step": saved.step,
                    "optimizer": {k: (v if isinstance(v, int) else decode_array(v))
                                  for k, v in saved.optimizer.items()},
                    "rng": saved.rng.model_dump()}

        tables = {name: frame_from_json(getattr(blob, name), name, blob.steps_done)
                  for name in ("history", *TABLES) if name != "histograms"}
        tables["histograms"] = (
            histograms_from_json(blob.histograms, blob.steps_done)
            if isinstance(blob.histograms, runfile.HistogramCounts)
            else frame_from_json(blob.histograms, "histograms", blob.steps_done))

        run = cls(
            config=config, steps_done=blob.steps_done, status=blob.status,
            message=blob.message,
            **{name: tables[name] for name in ("history", *TABLES)},
            dead_maps={int(s): {k: decode_array(v) for k, v in m.items()}
                       for s, m in blob.dead_maps.items()},
            model_states=KeptStates({int(s): model_state(m) for s, m in blob.model_states.items()},
                                    {int(s): d for s, d in blob.replay.items()}),
            checkpoints={int(s): trained_state(c) for s, c in blob.checkpoints.items()},
            final={k: (float("nan") if v is None else v) for k, v in blob.final.items()},
            baselines=dict(blob.baselines), vocab=blob.vocab, elapsed=blob.elapsed,
            diverged_step=blob.diverged_step,
            words=_source_words(blob, config),
            matrix_names=list(blob.matrix_names),
            dead_units=dict(blob.dead_units) if blob.dead_units is not None else None,
            diagnostic_examples=blob.diagnostic_examples, numpy_version=blob.numpy,
            state=trained_state(blob.state),
        )
        return run

    def __repr__(self) -> str:
        final = ", ".join(f"{k}={v:.4f}" for k, v in self.final.items() if k.endswith("loss"))
        return f"Run({self.status}, steps={self.steps_done}, {final})"

"""A Run: config, history, snapshots and the trained state, serialisable to exact JSON.

Arrays travel as base64 of their raw little-endian bytes with dtype and shape, so a
JSON round trip is bit-exact and never executes anything (no pickle). The trained state
(parameters, BatchNorm buffers, optimizer moments, batch RNG) is included, so an
imported run can be queried and continued exactly as if it had never left memory.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from . import runfile
from .config import Config, ConfigError
from .runfile import FORMAT, MAX_IMPORT_BYTES, VERSION, RunFormatError

__all__ = ["FORMAT", "MAX_IMPORT_BYTES", "VERSION", "Run", "RunFormatError"]

MIN_MATRIX = 64
"""Weight matrices smaller than this are left out of the typical update:data when larger
ones exist (see ``Run.typical_update_data``)."""
UPDATE_WINDOW = (0.05, 0.5)
"""Shares of the recorded steps between which ``Run.typical_update_data`` looks."""
TABLES = ("evals", "layers", "weights", "logits", "histograms")

NARROWER = {"<f8": ("<f4",), "<i8": ("|u1", "<u2", "<i4"), "<i4": ("|u1", "<u2")}
"""The narrower dtypes a compact array may be stored in, tried in turn (only where every
value converts there and back exactly, bit for bit)."""


def encode_array(array: np.ndarray, compact: bool = False) -> dict[str, Any]:
    """The file form of an array: base64 of its little-endian bytes; ``compact`` (version
    3) also tries an arithmetic range, a narrower dtype that holds every value exactly,
    and byte planes (see ``runfile.ArrayBlob``). Each compact form is checked to decode to
    the same bytes before it is used."""
    array = np.ascontiguousarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot encode dtype {array.dtype}")
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    if not compact:
        return {"dtype": little.dtype.str, "shape": list(array.shape),
                "b64": base64.b64encode(little.tobytes()).decode("ascii")}
    blob = _range_blob(little)
    if blob is not None:
        return blob
    values, missing = little.reshape(-1), None
    if values.dtype.kind == "f" and values.size:
        nan = np.isnan(values)
        if nan.any() and (values[nan].view(f"u{values.dtype.itemsize}")
                          == np.array(np.nan, values.dtype).view(f"u{values.dtype.itemsize}")
                          ).all():
            values, missing = values[~nan], np.packbits(nan)
    stored = values
    for narrow in NARROWER.get(little.dtype.str, ()):
        candidate = values.astype(narrow)
        if candidate.astype(little.dtype).tobytes() == values.tobytes():
            stored = candidate
            break
    raw = stored
    planes = stored.dtype.itemsize > 1 and stored.size > 1
    if planes:
        raw = raw.view(np.uint8).reshape(-1, stored.dtype.itemsize).T
    blob = {"dtype": little.dtype.str, "shape": list(array.shape),
            "b64": base64.b64encode(np.ascontiguousarray(raw).tobytes()).decode("ascii")}
    if stored.dtype != little.dtype:
        blob["stored"] = stored.dtype.str
    if planes:
        blob["planes"] = True
    if missing is not None:
        blob["missing"] = base64.b64encode(missing.tobytes()).decode("ascii")
    return blob


def _range_blob(array: np.ndarray) -> dict[str, Any] | None:
    """The range form of a 1-D integer array that is one (a step column), else None."""
    if array.dtype.str not in ("<i8", "<i4") or array.ndim != 1 or len(array) < 2:
        return None
    start, step = int(array[0]), int(array[1]) - int(array[0])
    last = start + step * (len(array) - 1)
    if not all(-(2**31) <= value < 2**31 for value in (start, step, last)):
        return None
    if not np.array_equal(array, start + step * np.arange(len(array), dtype=np.int64)):
        return None
    return {"dtype": array.dtype.str, "shape": [len(array)], "start": start, "step": step}


def decode_array(blob: runfile.ArrayBlob | runfile.RangeBlob | dict) -> np.ndarray:
    """An array from its file form; the bytes must fill the shape exactly."""
    if isinstance(blob, dict):
        try:
            blob = (runfile.RangeBlob if "start" in blob else runfile.ArrayBlob
                    ).model_validate(blob)
        except ValueError as err:  # pydantic's ValidationError
            raise RunFormatError(f"an array in the file is malformed: {err}") from None
    dtype = np.dtype(blob.dtype)
    if isinstance(blob, runfile.RangeBlob):
        size = blob.shape[0]
        return (blob.start + blob.step * np.arange(size, dtype=np.int64)).astype(dtype)
    stored = np.dtype(blob.stored) if blob.stored is not None else dtype
    if stored.kind not in ("f" if dtype.kind == "f" else "iub") or (
            stored.itemsize > dtype.itemsize) or (stored.kind == "f") != (dtype.kind == "f"):
        raise RunFormatError(f"an array in the file is malformed ({dtype} stored as {stored})")
    total = size = math.prod(blob.shape)
    try:
        data = base64.b64decode(blob.b64, validate=True)
        nan = None
        if blob.missing is not None:
            flags = np.frombuffer(base64.b64decode(blob.missing, validate=True), np.uint8)
            if dtype.kind != "f" or len(flags) != (total + 7) // 8:
                raise RunFormatError("an array in the file is malformed (its NaN flags do "
                                     "not fit it)")
            nan = np.unpackbits(flags, count=total).astype(bool)
            size = total - int(nan.sum())
    except ValueError as err:
        if isinstance(err, RunFormatError):
            raise
        raise RunFormatError("an array in the file is malformed (not base64)") from None
    if len(data) != size * stored.itemsize:
        raise RunFormatError(f"an array in the file is malformed ({len(data):,} bytes for "
                             f"shape {tuple(blob.shape)} of {stored})")
    raw = np.frombuffer(data, dtype=np.uint8)
    if blob.planes:
        raw = np.ascontiguousarray(raw.reshape(stored.itemsize, size).T)
    values = raw.reshape(-1).view(stored).astype(dtype)
    if nan is not None:
        whole = np.full(total, np.nan, dtype)
        whole[~nan] = values
        values = whole
    return values.reshape(blob.shape)


def frame_to_json(frame: pd.DataFrame, compact: bool = False) -> dict[str, Any]:
    columns = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype.kind in "biuf":
            columns[name] = encode_array(values, compact)
        else:
            columns[name] = [str(v) for v in values]
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return {"columns": list(frame.columns), "data": columns, "categorical": categorical}


def frame_from_json(table: runfile.Table, name: str | None = None,
                    steps_done: int = 0) -> pd.DataFrame:
    """A table from its file form: every listed column present, all of one length; with a
    ``name``, also the columns ``runfile.TABLE_COLUMNS`` declares for it."""
    where = f"the {name} table" if name else "a table in the file"
    if set(table.data) != set(table.columns) or len(set(table.columns)) != len(table.columns):
        raise RunFormatError(f"{where} lists columns {table.columns} but holds "
                             f"{sorted(table.data)}")
    unknown = sorted(set(table.categorical) - set(table.columns))
    if unknown:
        raise RunFormatError(f"{where} marks column {unknown[0]!r} as categorical, which it "
                             "does not have")
    data = {}
    for column in table.columns:
        values = table.data[column]
        data[column] = (np.array(values, dtype=object) if isinstance(values, list)
                        else decode_array(values))
        if data[column].ndim != 1:
            raise RunFormatError(f"column {column!r} of {where} is not 1-D")
    if len({len(values) for values in data.values()}) > 1:
        raise RunFormatError(f"the columns of {where} differ in length")
    for column in table.categorical:
        data[column] = pd.Categorical(data[column])
    frame = pd.DataFrame(data, columns=table.columns)
    return frame if name is None else runfile.check_table(name, frame, steps_done)


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


HISTOGRAM_KEYS = ("step", "name", "quantity")
MAX_TOTAL = 2**25
"""The most values one histogram may count for its counts to be read back from its
densities (a snapshot's largest: 512 examples x 1,024 units)."""


def histograms_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    """The histograms table as integer counts (``runfile.HistogramCounts``) when that
    rebuilds it bit for bit, else as a table."""
    counts = _histogram_counts(frame)
    if counts is None:
        return frame_to_json(frame, compact=True)
    keys, bins, low, high, table = counts
    return {"keys": frame_to_json(keys, compact=True), "bins": bins,
            "low": encode_array(low, True), "high": encode_array(high, True),
            "counts": encode_array(table, True)}


def _histogram_counts(frame: pd.DataFrame):
    """(keys, bins, low, high, counts) of a histograms table whose every histogram is
    ``bins`` consecutive rows that ``_rebuild_histograms`` makes again exactly; else None."""
    n = len(frame)
    if not n or list(frame.columns) != list(runfile.TABLE_COLUMNS["histograms"]):
        return None
    keys = frame[list(HISTOGRAM_KEYS)]
    codes = np.stack([np.asarray(frame["step"], np.int64),
                      *(pd.Categorical(frame[c]).codes.astype(np.int64)
                        for c in HISTOGRAM_KEYS[1:])], axis=1)
    change = np.flatnonzero((codes[1:] != codes[:-1]).any(axis=1))
    bins = int(change[0]) + 1 if len(change) else n
    if n % bins or not (codes.reshape(-1, bins, 3) == codes[::bins, None, :]).all():
        return None
    low = frame["bin_start"].to_numpy(np.float64)[::bins].copy()
    high = frame["bin_end"].to_numpy(np.float64)[bins - 1::bins].copy()
    density = frame["density"].to_numpy(np.float64).reshape(-1, bins)
    found = _counts(density, low, high)
    if found is None:
        return None
    starts, ends = _edges(low, high, bins)
    if (starts.ravel().view(np.uint64) != frame["bin_start"].to_numpy(np.float64).view(
            np.uint64)).any() or (ends.ravel().view(np.uint64) != frame["bin_end"].to_numpy(
            np.float64).view(np.uint64)).any():
        return None
    return keys.iloc[::bins].reset_index(drop=True), bins, low, high, found


def _counts(density: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray | None:
    """The integer counts behind each row of densities, or None where one row has none.

    Each density is count / (total * width): times the width, a fraction whose
    denominator divides the total. The fractions' least common denominator (exact
    rationals, from each float's nearest fraction of denominator at most ``MAX_TOTAL``)
    is the total, or a divisor of it when every count shares a factor: its multiples are
    tried in turn, and only counts that give the very same floats are kept."""
    width = (high - low) / density.shape[1]
    with np.errstate(all="ignore"):
        shares = density * width[:, None]
    found = np.zeros(density.shape, np.int64)
    totals: dict[int, None] = {}  # those found so far, most recent last

    def fits(row: int, total: int) -> bool:
        counts = np.rint(shares[row] * total).astype(np.int64)
        if counts.sum() != total or (_densities(counts[None], low[row:row + 1],
                                                high[row:row + 1]).view(np.uint64)
                                     != density[row].view(np.uint64)).any():
            return False
        found[row] = counts
        totals.pop(total, None)
        totals[total] = None
        return True

    for row, (values, share) in enumerate(zip(density, shares, strict=True)):
        positive = share[share > 0]
        if not len(positive):
            if values.any():
                return None
            continue  # no values: every density 0
        if not np.isfinite(positive).all():
            return None
        # Histograms of one quantity count as many values at every snapshot: try those
        # totals before working one out.
        if any(fits(row, total) for total in reversed(list(totals)[-8:])):
            continue
        denominator = 1
        for value in np.unique(positive):
            fraction = Fraction(float(value)).limit_denominator(MAX_TOTAL)
            denominator = math.lcm(denominator, fraction.denominator)
            if denominator > MAX_TOTAL:
                return None
        if not any(fits(row, total) for total in range(
                denominator, min(16 * denominator, MAX_TOTAL) + 1, denominator)):
            return None
    return found


def _edges(low: np.ndarray, high: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin starts and ends per histogram, as ``engine.diagnostics.histogram`` makes them."""
    width = (high - low) / bins
    edges = low[:, None] + width[:, None] * np.arange(bins + 1)
    edges[:, -1] = high
    return edges[:, :-1], edges[:, 1:]


def _densities(counts: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Densities per histogram, as ``engine.diagnostics.histogram`` computes them."""
    width = (high - low) / counts.shape[1]
    total = np.maximum(counts.sum(axis=1), 1)
    return counts / (total * width)[:, None]


def histograms_from_json(blob: runfile.HistogramCounts, steps_done: int) -> pd.DataFrame:
    """The histograms table from its counts (``runfile.HistogramCounts``)."""
    keys = frame_from_json(blob.keys)
    low, high, counts = (decode_array(b) for b in (blob.low, blob.high, blob.counts))
    histograms = len(keys)
    if list(keys.columns) != list(HISTOGRAM_KEYS) or low.shape != (histograms,) \
            or high.shape != (histograms,) or counts.shape != (histograms, blob.bins) \
            or low.dtype.kind != "f" or high.dtype.kind != "f" or counts.dtype.kind not in "iu":
        raise RunFormatError("the histograms' counts do not fit their keys")
    if not (np.isfinite(low).all() and np.isfinite(high).all() and (high > low).all()
            and (counts >= 0).all()):
        raise RunFormatError("the histograms hold bins that are not finite, ordered and "
                             "non-negative")
    counts = counts.astype(np.int64)
    starts, ends = _edges(low.astype(np.float64), high.astype(np.float64), blob.bins)
    with np.errstate(all="ignore"):
        density = _densities(counts, low.astype(np.float64), high.astype(np.float64))
    frame = pd.DataFrame({
        "step": np.repeat(keys["step"].to_numpy(), blob.bins),
        **{c: pd.Categorical(np.repeat(keys[c].to_numpy(dtype=object), blob.bins))
           for c in HISTOGRAM_KEYS[1:]},
        "bin_start": starts.ravel(), "bin_end": ends.ravel(), "density": density.ravel()})
    return runfile.check_table("histograms", frame, steps_done)


def state_digest(state: dict) -> str:
    """BLAKE2b digest of a model state: its parameters' bytes, then each buffer's name and
    bytes in name order (``runfile.Digest``)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(state["params"]).tobytes())
    for name in sorted(state["buffers"]):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(state["buffers"][name]).tobytes())
    return digest.hexdigest()


class KeptStates(Mapping):
    """Snapshot step -> {"params", "buffers"} of the model there: copies held in memory (a
    run just trained) or, for a run read from a file, rebuilt on first use by replaying
    its training (``training.replay_state``) and checked against the digest the file
    keeps, then held. A replay that does not give that digest (another BLAS kernel) leaves
    the step out, with a warning: the views then show the weights after training, as for
    a run whose weights were not kept."""

    def __init__(self, states: dict[int, dict] | None = None,
                 digests: dict[int, str] | None = None, replay=None):
        self._states = dict(states or {})
        self._digests = dict(digests or {})
        self.replay = replay
        """step -> state, from training again (set by the Run that owns these states)."""

    def __getitem__(self, step: int) -> dict:
        if step in self._states:
            return self._states[step]
        if step not in self._digests or self.replay is None:
            raise KeyError(step)
        state = self.replay(step)
        if state_digest(state) != self._digests[step]:
            del self._digests[step]
            warnings.warn(f"replaying training to step {step} did not give the weights the "
                          "run file describes (another BLAS kernel or NumPy?): the views "
                          "show the weights after training there", RuntimeWarning,
                          stacklevel=2)
            raise KeyError(step)
        self._states[step] = state
        return state

    def get(self, step, default=None):
        try:
            return self[step]
        except KeyError:
            return default

    def __contains__(self, step) -> bool:
        return step in self._states or step in self._digests

    def __iter__(self):
        return iter(sorted({*self._states, *self._digests}))

    def __len__(self) -> int:
        return len({*self._states, *self._digests})

    def __setitem__(self, step: int, state: dict) -> None:
        self._states[step] = state
        self._digests.pop(step, None)

    def pop(self, step: int, default=None):
        self._digests.pop(step, None)
        return self._states.pop(step, default)

    def clear(self) -> None:
        self._states.clear()
        self._digests.clear()

    def held(self) -> dict[int, dict]:
        """The states in memory now (no replay)."""
        return dict(self._states)

    def digests(self) -> dict[int, str]:
        """Every step's digest, without replaying any."""
        known = {step: state_digest(state) for step, state in self._states.items()}
        return dict(sorted({**self._digests, **known}.items()))

    def copy(self) -> KeptStates:
        return KeptStates(self._states, self._digests, self.replay)

    def __eq__(self, other) -> bool:
        if isinstance(other, Mapping):
            other = other if isinstance(other, KeptStates) else KeptStates(dict(other))
            return self.digests() == other.digests()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"KeptStates({len(self._states)} held, "
                f"{len(set(self._digests) - set(self._states))} to replay)")


def _kept(states: dict | KeptStates) -> KeptStates:
    return states.copy() if isinstance(states, KeptStates) else KeptStates(states)


def _state_json(state: dict, compact: bool = True) -> dict[str, Any]:
    """A full training state's file form (``runfile.TrainedState``)."""
    return {"step": state["step"], "params": encode_array(state["params"], compact),
            "buffers": {k: encode_array(v, compact) for k, v in state["buffers"].items()},
            "optimizer": {k: (v if isinstance(v, int) else encode_array(v, compact))
                          for k, v in state["optimizer"].items()},
            "rng": state["rng"]}


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
        return state

    def _replay_state(self, step: int) -> dict:
        """The model state at snapshot ``step``, trained again (``training.Replay``)."""
        if step == self.steps_done or step in self.checkpoints:
            state = self.state if step == self.steps_done else self.checkpoints[step]
            return {"params": state["params"], "buffers": state["buffers"]}
        replay = self.__dict__.get("_replay")
        if replay is None:
            from .training import Replay

            replay = self.__dict__["_replay"] = Replay(self)
        return replay.state(step)

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
                       dead_maps=mark.dead_maps, model_states=_kept(mark.model_states), final={},
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
            model_states=_kept(rec.model_states), final=trainer.evaluate(), state=state,
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

    @functools.cached_property
    def histograms_by_step(self) -> dict[tuple[int, str], pd.DataFrame]:
        """(step, quantity) -> that snapshot's histogram rows, grouped once: the dashboard
        looks one up on every rerun, and filtering the whole table each time costs ms."""
        return {key: group for key, group in self.histograms.groupby(["step", "quantity"],
                                                                      observed=True)}

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
        state_json = functools.partial(_state_json, compact=compact)
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

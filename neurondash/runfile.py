"""The run file's schema: what an exported run may hold, checked before a Run is built.

A run file is untrusted input (anyone can hand one to the dashboard or the CLI). This
schema checks every field's type, range and size while the JSON is parsed (pydantic's
parser: huge numbers, ``NaN``/``Infinity`` tokens and deep nesting are refused, never
raised), so the code that builds the Run only ever sees well-formed values. Whether the
values also fit together (array shapes against the Config's model, the word list against
the task, finiteness by status) is checked against the engine in ``runchecks.read_run_file``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT = "neurondash-run"
VERSION = 3
READS = (1, 2, 3)
"""Version 1 kept a word list split into its train, val and test words. Version 2 kept a
copy of the weights at every snapshot (``model_states``) and every histogram bin's edges
and density as floats; version 3 keeps, for the same snapshots, a digest of the weights
that training replays exactly (``replay``, from ``checkpoints``), histograms as integer
counts over their range (``HistogramCounts``), and arrays in a compact exact form (a
narrower dtype that holds every value, byte planes, an arithmetic range)."""
MAX_IMPORT_BYTES = 50_000_000
MAX_DECODED_BYTES = 4 * MAX_IMPORT_BYTES
"""The most bytes a file's arrays may take decoded (``decoded_bytes``): a version-2 file
took at most 3/4 of its own size, a version-3 file of this engine a few times that."""
MAX_STEPS = 400_000
"""``steps + more`` can reach twice the 200k cap of each."""
MAX_NAME = 200
MAX_MESSAGE = 1_000

DTYPES = ("<f4", "<f8", "<i8", "<i4", "<u2", "|u1", "|b1")
"""The dtypes the engine writes (arrays of any other dtype are refused)."""

Count = Annotated[int, Field(ge=0, le=MAX_STEPS)]
Name = Annotated[str, Field(max_length=MAX_NAME)]
StepKey = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]{0,5})$")]
"""A snapshot step as a JSON object key."""
U128 = Annotated[int, Field(ge=0, lt=2**128)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


Shape = Annotated[list[Annotated[int, Field(ge=0, le=MAX_IMPORT_BYTES)]], Field(max_length=4)]


class ArrayBlob(_Strict):
    """A NumPy array of ``dtype`` as base64 of little-endian bytes: of the array itself, or
    (version 3) of the same values in the narrower dtype ``stored``, which holds each of
    them exactly; with ``planes``, byte k of every element comes before byte k + 1 of any
    (the sign and exponent bytes of floats then sit together, where gzip finds them); with
    ``missing``, of the elements that are not NaN."""

    dtype: Literal[DTYPES]  # type: ignore[valid-type]
    shape: Shape
    b64: str = Field(max_length=2 * MAX_IMPORT_BYTES)
    stored: Literal[DTYPES] | None = None  # type: ignore[valid-type]
    planes: bool = False
    missing: str | None = Field(default=None, max_length=2 * MAX_IMPORT_BYTES)
    """Version 3, float arrays: base64 of the bit-packed (``np.packbits``) flags of the
    elements that are NaN (NumPy's own NaN, ``np.nan``); ``b64`` then holds the others
    alone (update:data, measured every few steps and NaN between)."""


class RangeBlob(_Strict):
    """An integer array that is an arithmetic range: ``start + step * arange(size)``
    (version 3; a step column)."""

    dtype: Literal["<i8", "<i4"]
    shape: Annotated[list[Annotated[int, Field(ge=0, le=MAX_IMPORT_BYTES)]],
                     Field(min_length=1, max_length=1)]
    start: Annotated[int, Field(ge=-(2**31), lt=2**31)]
    step: Annotated[int, Field(ge=-(2**31), lt=2**31)]


Array = ArrayBlob | RangeBlob


class Table(_Strict):
    """A tidy DataFrame: numeric columns as arrays, text columns as lists of strings."""

    columns: list[Name] = Field(max_length=200)
    data: dict[Name, Array | list[Annotated[str, Field(max_length=MAX_NAME)]]]
    categorical: list[Name] = Field(default_factory=list, max_length=200)


class HistogramCounts(_Strict):
    """The histograms table (version 3), one entry per histogram: its step, name and
    quantity (``keys``, a table of one row per histogram), the range ``low`` to ``high``,
    and the count of values in each of its ``bins`` equal bins (``counts``: histograms x
    bins). The table's rows are rebuilt with the recorder's own arithmetic
    (``engine.diagnostics.histogram``): width = (high - low) / bins, edges low + width * k
    with the last edge high, density = counts / (max(total, 1) * width), total the
    histogram's count of values. The rebuilt table equals the recorded one bit for bit; a
    writer checks that before it writes this form, and writes the table otherwise."""

    keys: Table
    bins: Annotated[int, Field(ge=1, le=10_000)]
    low: ArrayBlob
    high: ArrayBlob
    counts: ArrayBlob


class ModelState(_Strict):
    params: ArrayBlob
    buffers: dict[Name, ArrayBlob]


class PCG64Inner(_Strict):
    state: U128
    inc: U128


class RngState(_Strict):
    """NumPy's PCG64 bit-generator state, the only generator the engine uses."""

    bit_generator: Literal["PCG64"]
    state: PCG64Inner
    has_uint32: Literal[0, 1]
    uinteger: Annotated[int, Field(ge=0, lt=2**32)]


class TrainedState(_Strict):
    step: Count
    params: ArrayBlob
    buffers: dict[Name, ArrayBlob]
    optimizer: dict[Name, Count | ArrayBlob]
    rng: RngState


Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
"""BLAKE2b (16 bytes, hex) of a model state: its parameters' bytes, then each buffer's name
and bytes in name order (``kept_states.state_digest``)."""


Setting = bool | int | float | Annotated[str, Field(max_length=10_000)] | None
FinalKey = Literal["train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"]
Word = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]


class RunFile(_Strict):
    """Everything a run file holds, field by field."""

    format: Literal["neurondash-run"]
    version: Literal[READS]  # type: ignore[valid-type]
    config: dict[Name, Setting] = Field(max_length=100)
    steps_done: Count
    status: Literal["finished", "stopped", "diverged"]
    message: str = Field(max_length=MAX_MESSAGE)
    diverged_step: Count | None
    elapsed: Annotated[float, Field(ge=0)]
    final: dict[FinalKey, Annotated[float, Field(ge=0)] | None]
    """A loss or accuracy that is not a finite number is written as null (standard JSON)."""
    baselines: dict[Literal["uniform", "unigram", "bigram"], Annotated[float, Field(ge=0)]]
    vocab: Annotated[str, Field(min_length=2, max_length=65)] | None
    words: list[Word] | None = Field(max_length=200_000)
    matrix_names: list[Name] = Field(max_length=100)
    dead_units: dict[Name, Annotated[int, Field(ge=0, le=1024)]] | None = None
    """Units dead on the whole training split per hidden layer (absent in older files)."""
    diagnostic_examples: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    numpy: Annotated[str, Field(max_length=40, pattern=r"^[0-9A-Za-z.+-]+$")] | None = None
    """The NumPy version that trained the run (absent in older files)."""
    history: Table
    evals: Table
    layers: Table
    weights: Table
    logits: Table
    histograms: Table | HistogramCounts
    dead_maps: dict[StepKey, dict[Name, ArrayBlob]] = Field(max_length=1_000)
    model_states: dict[StepKey, ModelState] = Field(default_factory=dict, max_length=1_000)
    """The weights at snapshots, copied out (versions 1 and 2)."""
    replay: dict[StepKey, Digest] = Field(default_factory=dict, max_length=1_000)
    """The snapshots whose weights training replays (version 3), with their digest: the
    Config's training from step 0, or from the latest of ``checkpoints`` before the step,
    run to that step, ends with weights of exactly this digest."""
    checkpoints: dict[StepKey, TrainedState] = Field(default_factory=dict, max_length=100)
    """Full training states the replay may start from (version 3): where a run was
    resumed (a continued run), and in long runs a few snapshots between."""
    state: TrainedState


class RunFormatError(ValueError):
    """A file is not a neurondash run this version can read; the message says why."""


def parse(text: str | bytes) -> RunFile:
    """Parse and check a run file's JSON; RunFormatError names the first field that fails."""
    if len(text) > MAX_IMPORT_BYTES:
        raise RunFormatError(f"the file has {len(text):,} bytes; at most "
                             f"{MAX_IMPORT_BYTES:,} are accepted")
    try:
        blob = RunFile.model_validate_json(text)
    except ValidationError as err:
        raise RunFormatError(_first_problem(err)) from None
    except (ValueError, RecursionError) as err:  # e.g. bytes that are not UTF-8
        raise RunFormatError(f"the file is not valid JSON ({type(err).__name__})") from None
    expanded = decoded_bytes(blob)
    if expanded > MAX_DECODED_BYTES:
        raise RunFormatError(f"the file's arrays would take {expanded:,} bytes; at most "
                             f"{MAX_DECODED_BYTES:,} are accepted")
    return blob


def decoded_bytes(value) -> int:
    """Bytes the arrays of a parsed file take once decoded (a histogram's count: its six
    table cells), summed before any is decoded: compact forms (a range, NaN flags, a
    narrower dtype) hold more values than bytes, so the file's size alone bounds nothing."""
    if isinstance(value, ArrayBlob | RangeBlob):
        return math.prod(value.shape) * np.dtype(value.dtype).itemsize
    if isinstance(value, HistogramCounts):
        return decoded_bytes(value.keys) + 6 * 8 * math.prod(value.counts.shape)
    if isinstance(value, BaseModel):
        return sum(decoded_bytes(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, dict):
        return sum(decoded_bytes(item) for item in value.values())
    if isinstance(value, list):
        return sum(decoded_bytes(item) for item in value) if value and isinstance(
            value[0], BaseModel | dict | list) else 0
    return 0


def _first_problem(err: ValidationError) -> str:
    """One readable line: where in the file, and what is wrong there (the format and
    version first: a foreign file's other fields say nothing useful)."""
    problems = err.errors(include_url=False, include_input=False)
    first = problems[0]
    if first["type"] == "json_invalid":
        return f"the file is not valid JSON ({first['msg'].removeprefix('Invalid JSON: ')})"
    tops = {problem["loc"][0] if problem["loc"] else None for problem in problems}
    if "format" in tops or (first["type"] == "model_type" and not first["loc"]):
        return f"the file is not a neurondash run (no 'format': '{FORMAT}' field)"
    if "version" in tops:
        return ("this run format version is not supported (this version reads "
                f"{', '.join(map(str, READS))})")
    where = ".".join(str(part) for part in first["loc"])
    what = {"missing": "is missing", "extra_forbidden": "is not part of a run file"}.get(
        first["type"], f"is malformed: {first['msg']}")
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return f"field {where} {what}{more}"


@dataclass(frozen=True)
class Column:
    """What one column of a run file's table holds."""

    kind: Literal["step", "count", "number", "text"]
    """step: an integer snapshot or training step, from ``low`` to the run's steps_done;
    count: a non-negative integer; number: a float (NaN or infinite where the engine writes
    them, as after a divergence, unless ``finite``); text: strings."""
    finite: bool = False
    low: float | None = None
    high: float | None = None
    past: int = 0
    """For steps: how far past steps_done they may go (the history also keeps the step a
    run diverged at)."""


STEP, COUNT, TEXT = Column("step", low=0), Column("count", low=0), Column("text")
NUMBER, FINITE = Column("number"), Column("number", finite=True)
SHARE = Column("number", low=0, high=1)
TABLE_COLUMNS: dict[str, dict[str, Column]] = {
    "history": {"step": Column("step", low=1, past=1), "loss": NUMBER,
                "lr": Column("number", finite=True, low=0)},
    "evals": {"step": STEP, "val_loss": NUMBER, "val_acc": SHARE},
    "layers": {"step": STEP, "layer": TEXT, "units": Column("count", low=1),
               "preact_mean": NUMBER, "preact_std": NUMBER, "act_mean": NUMBER,
               "act_std": NUMBER, "grad_mean": NUMBER, "grad_std": NUMBER,
               "saturated_pct": Column("number", low=0, high=100), "dead_units": COUNT},
    "weights": {"step": STEP, "param": TEXT, "shape": TEXT, "weight_std": NUMBER,
                "grad_std": NUMBER, "grad_data": NUMBER},
    "logits": {"step": STEP, "loss": NUMBER, "mean": NUMBER, "std": NUMBER,
               "max_abs": NUMBER, "entropy": NUMBER, "p_correct": SHARE},
    "histograms": {"step": STEP, "name": TEXT, "quantity": TEXT, "bin_start": FINITE,
                   "bin_end": FINITE, "density": Column("number", finite=True, low=0)},
}
"""Every table of a run file and the columns it must have, in order. A table without rows
may also come without columns (a model with no hidden layer has no layer rows)."""
EXTRA_COLUMNS: dict[str, Column] = {"history": NUMBER}
"""Tables that hold further columns, and what those hold: the history's update:data of
each weight matrix (NaN at the steps where it was not measured)."""


def check_table(name: str, frame: pd.DataFrame, steps_done: int) -> pd.DataFrame:
    """The table ``name`` as declared in ``TABLE_COLUMNS`` (integers in a number column
    become floats), or RunFormatError naming the table and column that differ: checked
    before any consistency check or view reads it."""
    declared = TABLE_COLUMNS[name]
    frame = with_columns(name, frame)
    columns = list(frame.columns)
    if columns[:len(declared)] != list(declared):
        missing = [c for c in declared if c not in columns]
        raise RunFormatError(f"the {name} table lacks its column {missing[0]!r}" if missing
                             else f"the {name} table's columns are not in the order "
                                  f"{', '.join(declared)}")
    extra = columns[len(declared):]
    if extra and name not in EXTRA_COLUMNS:
        raise RunFormatError(f"the {name} table has a column {extra[0]!r}, which is not "
                             "part of it")
    typed = {}
    for column in columns:
        spec = declared.get(column) or EXTRA_COLUMNS[name]
        problem = _column_problem(frame[column], spec, steps_done)
        if problem:
            raise RunFormatError(f"the {name} table's column {column!r} {problem}")
        if spec.kind == "number" and frame[column].dtype.kind != "f":
            typed[column] = "float64"
    # Readers get the declared kinds: integers written into a number column are numbers.
    return frame.astype(typed) if typed else frame


_EMPTY_DTYPES = {"step": "int64", "count": "int64", "number": "float64", "text": object}


def with_columns(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, or for a table without rows the empty table with its declared columns and
    types (and the further columns it names), so that every reader finds them."""
    if len(frame):
        return frame
    declared = TABLE_COLUMNS[name]
    extra = [c for c in frame.columns if c not in declared] if name in EXTRA_COLUMNS else []
    return pd.DataFrame({**{column: pd.Series(dtype=_EMPTY_DTYPES[spec.kind])
                            for column, spec in declared.items()},
                         **{column: pd.Series(dtype="float64") for column in extra}})


def _column_problem(values: pd.Series, spec: Column, steps_done: int) -> str | None:
    """What is wrong with one column's values, or None."""
    if spec.kind == "text":
        if not all(isinstance(v, str) for v in values):
            return "holds numbers where text belongs"
        return None
    array = values.to_numpy()
    if array.dtype.kind not in ("iu" if spec.kind in ("step", "count") else "iuf"):
        wanted = "integers" if spec.kind in ("step", "count") else "numbers"
        return f"holds {'text' if array.dtype.kind == 'O' else array.dtype} where {wanted} belong"
    array = array.astype(np.float64)
    high = steps_done + spec.past if spec.kind == "step" else spec.high
    if spec.finite and not np.all(np.isfinite(array)):
        return "holds values that are not finite"
    known = array[~np.isnan(array)]
    if spec.low is not None and np.any(known < spec.low) or (
            high is not None and np.any(known > high)):
        bounds = (f"{spec.low:g} to {high:g}" if high is not None
                  else f"{spec.low:g} and up")
        return f"holds values outside {bounds}"
    return None


def dump_number(value: float) -> float | None:
    """A float for the file: non-finite values become null (strict JSON has no NaN)."""
    return value if value == value and abs(value) != float("inf") else None


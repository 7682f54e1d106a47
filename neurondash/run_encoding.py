"""How a run file's arrays and tables are written and read back, bit for bit.

Arrays are base64 of their little-endian bytes, in a narrower dtype, as byte planes or as
an arithmetic range only where that decodes to the very same bytes; histograms are integer
counts rebuilt with the recorder's own arithmetic; snapshot weights are kept as digests and
rebuilt by replay (``KeptStates``). Never pickle: a file is untrusted input.
"""

from __future__ import annotations

import base64
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from . import runfile
from .runfile import RunFormatError

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


def state_to_json(state: dict, compact: bool = True) -> dict[str, Any]:
    """A full training state's file form (``runfile.TrainedState``)."""
    return {"step": state["step"], "params": encode_array(state["params"], compact),
            "buffers": {k: encode_array(v, compact) for k, v in state["buffers"].items()},
            "optimizer": {k: (v if isinstance(v, int) else encode_array(v, compact))
                          for k, v in state["optimizer"].items()},
            "rng": state["rng"]}

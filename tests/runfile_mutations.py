"""Structural mutations of valid run files, generated from the schema itself: the fields of
``runfile.RunFile`` and the tables and columns of ``runfile.TABLE_COLUMNS``. Each mutation
drops, empties, retypes, duplicates or reorders a field, table or column, truncates arrays,
puts values out of range, or swaps a part with a run of another architecture. A new field
or column is mutated without a new line here.

Shared by the property tests (``tests/test_runfile_fuzz.py``) and the long fuzz run
(``benchmarks/fuzz_run_files.py``).
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import numpy as np
from hypothesis import strategies as st

from neurondash.runfile import DTYPES, TABLE_COLUMNS, RunFile

FIELDS = tuple(RunFile.model_fields)
TABLES = tuple(TABLE_COLUMNS)
OTHER_TYPES = (None, True, 0, -1, 2**70, 1.5, "", "x", [], {}, [1, 2], {"a": 1})
FIELD_OPS = ("drop", "empty", "retype", "duplicate", "reorder", "swap")
TABLE_OPS = ("drop_column", "empty_table", "retype_column", "duplicate_column",
             "reorder_columns", "reverse_rows", "truncate_column", "truncate_table",
             "text_column", "out_of_range", "swap_table", "rename_column")


def _empty_like(value: Any) -> Any:
    if isinstance(value, dict):
        return {"columns": [], "data": {}, "categorical": []} if "columns" in value else {}
    return {list: [], str: "", int: 0, float: 0.0, bool: False}.get(type(value))


def _decode(blob: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(blob["b64"]), dtype=blob["dtype"])


def _encode(values: np.ndarray) -> dict:
    values = np.ascontiguousarray(values)
    return {"dtype": values.dtype.str, "shape": list(values.shape),
            "b64": base64.b64encode(values.tobytes()).decode("ascii")}


def _columns(table: dict) -> list[str]:
    return list(table.get("columns", []))


@st.composite
def field_mutation(draw, blob: dict, other: dict) -> str:
    name = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(FIELD_OPS))
    if op == "drop":
        blob.pop(name, None)
    elif op == "empty":
        blob[name] = _empty_like(blob.get(name))
    elif op == "retype":
        blob[name] = draw(st.sampled_from(OTHER_TYPES))
    elif op == "duplicate":
        blob[name] = copy.deepcopy(blob.get(draw(st.sampled_from(FIELDS))))
    elif op == "reorder":
        value = blob.get(name)
        if isinstance(value, list):
            blob[name] = value[::-1]
        elif isinstance(value, dict):
            blob[name] = dict(reversed(list(value.items())))
    else:
        blob[name] = copy.deepcopy(other.get(name))
    return f"{op} field {name}"


@st.composite
def table_mutation(draw, blob: dict, other: dict) -> str:
    name = draw(st.sampled_from(TABLES))
    table = blob.get(name)
    if not (isinstance(table, dict) and isinstance(table.get("data"), dict)
            and isinstance(table.get("columns"), list)):  # an earlier mutation replaced it
        blob[name] = copy.deepcopy(other[name])
        return f"swap_table {name}"
    columns = _columns(table) or list(TABLE_COLUMNS[name])
    column = draw(st.sampled_from(columns))
    op = draw(st.sampled_from(TABLE_OPS))
    data = table.get("data", {})
    values = data.get(column)
    if op == "drop_column" and column in data:
        table["columns"] = [c for c in columns if c != column]
        del data[column]
    elif op == "empty_table":
        blob[name] = {"columns": [], "data": {}, "categorical": []}
    elif op == "retype_column" and isinstance(values, dict):
        dtype = draw(st.sampled_from([d for d in DTYPES if d != values["dtype"]]))
        with np.errstate(all="ignore"):
            data[column] = _encode(_decode(values).astype(dtype))
    elif op == "duplicate_column" and column in data:
        target = draw(st.sampled_from(columns))
        data[target] = copy.deepcopy(data[column])
    elif op == "reorder_columns":
        table["columns"] = columns[::-1]
    elif op == "reverse_rows":
        for key, column_values in data.items():
            data[key] = (column_values[::-1] if isinstance(column_values, list)
                         else _encode(_decode(column_values)[::-1]))
    elif op == "truncate_column" and values is not None:
        keep = draw(st.integers(0, 3))
        data[column] = (values[:keep] if isinstance(values, list)
                        else _encode(_decode(values)[:keep]))
    elif op == "truncate_table":
        keep = draw(st.integers(0, 3))
        for key, column_values in data.items():
            data[key] = (column_values[:keep] if isinstance(column_values, list)
                         else _encode(_decode(column_values)[:keep]))
    elif op == "text_column" and isinstance(values, dict):
        data[column] = [str(v) for v in _decode(values)]
    elif op == "out_of_range" and isinstance(values, dict):
        bad = draw(st.sampled_from([-1, 10**9, float("nan"), float("inf"), 101, 2]))
        array = _decode(values).copy()
        if len(array):
            where = draw(st.integers(0, len(array) - 1))
            try:
                array[where] = bad
            except (OverflowError, ValueError):  # NaN or -1 in an integer column: as floats
                array = array.astype(np.float64)
                array[where] = bad
            data[column] = _encode(array)
    elif op == "swap_table":
        blob[name] = copy.deepcopy(other[name])
    elif op == "rename_column" and column in data:
        new = draw(st.sampled_from(["step ", "Step", "layer", "x", *TABLE_COLUMNS[name]]))
        table["columns"] = [new if c == column else c for c in columns]
        data[new] = data.pop(column)
    return f"{op} {name}.{column}"


@st.composite
def structural_mutations(draw, exports: dict[str, str]) -> tuple[str, str]:
    """A valid export mutated one to three times; the text and what was done."""
    names = sorted(exports)
    source = draw(st.sampled_from(names))
    blob = json.loads(exports[source])
    other = json.loads(exports[draw(st.sampled_from([n for n in names if n != source]
                                                    or names))])
    done = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([field_mutation, table_mutation, table_mutation]))
        done.append(draw(kind(blob, other)))
    return json.dumps(blob), f"{source}: " + "; ".join(done)

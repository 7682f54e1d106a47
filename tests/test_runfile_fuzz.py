"""Mutated run files (property-based): each is refused with RunFormatError, or accepted and
then usable by every view's data and by Continue. Nothing else may happen.

CI runs a bounded number of mutations with a fixed seed; run more locally with
``NEURONDASH_FUZZ_IMPORTS=200 python -m pytest tests/test_runfile_fuzz.py``.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurondash import Config, Run, RunFormatError, train
from neurondash.charts import prepare
from neurondash.diagnosis import diagnose
from neurondash.runchecks import read_run_file
from neurondash.runfile import TABLE_COLUMNS
from neurondash.sweep import summarize
from neurondash.training import continue_training

from .runfile_mutations import structural_mutations

EXAMPLES = int(os.environ.get("NEURONDASH_FUZZ_IMPORTS", "60"))
CONFIGS = {
    "names": Config(depth=2, width="8", norm="batch", opt="adam", lr=0.01, steps=12),
    "moons": Config(task="moons", depth=1, width="4", points=200, steps=12),
}


@pytest.fixture(scope="module")
def exports() -> dict[str, str]:
    return {name: train(config).to_json(compact=False) for name, config in CONFIGS.items()}


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON tree (dict keys and list items), depth-first."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            found += paths(value, (*prefix, index))
    return found


def set_at(tree: Any, path: tuple, value: Any, delete: bool = False) -> None:
    for part in path[:-1]:
        tree = tree[part]
    if delete:
        del tree[path[-1]]
    else:
        tree[path[-1]] = value


ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    st.just([]), st.just({}), st.lists(st.integers(), max_size=3),
    st.sampled_from([-1, 0, 1, 10**18, 1e300, "NaN", "[x](http://127.0.0.1:9)"]))
TEXT_EDITS = st.sampled_from(["nan", "inf", "-inf", "1e999", "deep", "truncate", "b64"])


@st.composite
def mutations(draw, exports: dict[str, str]) -> tuple[str, str]:
    """A mutated file and a description of the mutation."""
    name = draw(st.sampled_from(sorted(exports)))
    text = exports[name]
    blob = json.loads(text)
    kind = draw(st.sampled_from(["delete", "replace", "text"]))
    if kind == "text":
        edit = draw(TEXT_EDITS)
        if edit == "truncate":
            cut = draw(st.integers(0, len(text) - 1))
            return text[:cut], f"{name}: truncated at {cut}"
        if edit == "deep":
            return text[:-1] + ', "deep": ' + "[" * 20_000 + "]" * 20_000 + "}", "deep"
        if edit == "b64":
            where = draw(st.sampled_from([p for p in paths(blob) if p[-1] == "b64"]))
            set_at(blob, where, draw(st.text(max_size=12)))
            return json.dumps(blob), f"{name}: b64 at {where}"
        number = draw(st.sampled_from(["steps_done", "elapsed", "diverged_step"]))
        token = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity", "1e999": "1e999"}[edit]
        blob[number] = "TOKEN"
        return json.dumps(blob).replace('"TOKEN"', token), f"{name}: {number}={token}"
    where = draw(st.sampled_from(paths(blob)))
    if kind == "delete":
        set_at(blob, where, None, delete=True)
        return json.dumps(blob), f"{name}: delete {where}"
    value = draw(ODD_VALUES)
    if where[-1] == "shape":
        value = draw(st.lists(st.integers(-2, 10**6), max_size=3))
    set_at(blob, where, value)
    return json.dumps(blob), f"{name}: {where} = {value!r:.60}"


def exercise(run: Run) -> None:
    """What the views and Continue do with a run (the data behind every chart)."""
    prepare.loss_curves(run)
    prepare.loss_references(run)
    prepare.update_data_frame(run)
    for step in run.snapshot_steps:
        prepare.compare_snapshots(run, step, "logits", "logits")
        prepare.compare_snapshots(run, step, "logits", "p_correct")
        prepare.histograms_at(run, step, "weight_grad")
        prepare.weight_table(run, step)
        if len(run.layers):
            prepare.layer_table(run, step)
            for quantity in ("activation", "gradient"):
                prepare.histograms_at(run, step, quantity)
            for layer in run.dead_maps[step]:
                prepare.dead_map_frame(run.dead_map(step, layer))
    if len(run.layers):
        prepare.distribution_over_steps(run, "activation")
    diagnose(run)
    summarize(run)
    if run.status != "diverged":
        for step in [None, *run.model_states]:
            assert np.all(np.isfinite(run.model(step).flat))
        continued = continue_training(run, 3)
        assert continued.steps_done == run.steps_done + 3


def test_the_unmutated_files_are_accepted_and_usable(exports):
    for text in exports.values():
        exercise(read_run_file(text))


def refused_or_usable(text: str, what: str) -> str:
    """'refused' (with a message) or 'accepted' (and every view's data and Continue work);
    any other outcome raises."""
    try:
        run = read_run_file(text)
    except RunFormatError as err:
        assert str(err), what
        return "refused"
    exercise(run)
    return "accepted"


def test_mutated_files_are_refused_or_usable(exports):
    outcomes = {"refused": 0, "accepted": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutations(exports))
    def check(mutation: tuple[str, str]) -> None:
        outcomes[refused_or_usable(*mutation)] += 1

    check()
    assert outcomes["refused"] > 0, outcomes


STRUCTURAL = int(os.environ.get("NEURONDASH_FUZZ_STRUCTURE", "150"))


@pytest.fixture(scope="module")
def architectures() -> dict[str, str]:
    """Runs of different architectures and states, for mutations to swap parts between."""
    configs = {**CONFIGS,
               "flat": Config(task="moons", depth=0, points=200, steps=6),
               "diverged": Config(act="relu", init_scale=10, depth=2, width="8", steps=20),
               "unrecorded": Config(task="circles", depth=1, width="3", points=200, steps=5,
                                    snap_every=5)}
    return {name: train(config).to_json(compact=False) for name, config in configs.items()}


def test_the_empty_tables_file_is_refused_naming_what_is_wrong(architectures):
    """Issue 28's file: every snapshot table emptied passed the schema and then crashed."""
    blob = json.loads(architectures["names"])
    for table in ("layers", "logits", "histograms", "evals", "weights"):
        blob[table] = {"columns": [], "data": {}, "categorical": []}
    with pytest.raises(RunFormatError, match="table|maps|snapshot"):
        read_run_file(json.dumps(blob))


@pytest.mark.parametrize("table, column", [
    (table, column) for table, columns in TABLE_COLUMNS.items() for column in columns])
def test_a_missing_or_mistyped_column_is_named(architectures, table, column):
    blob = json.loads(architectures["names"])
    data = blob[table]["data"]
    blob[table]["columns"].remove(column)
    categorical = blob[table]["categorical"]
    blob[table]["categorical"] = [c for c in categorical if c != column]
    kept = data.pop(column)
    with pytest.raises(RunFormatError, match=f"{table} table lacks its column '{column}'"):
        Run.from_json(json.dumps(blob))
    blob[table]["columns"].insert(list(TABLE_COLUMNS[table]).index(column), column)
    rows = kept["shape"][0] if isinstance(kept, dict) else len(kept)
    data[column] = (["x"] * rows if isinstance(kept, dict) else
                    {"dtype": "<f8", "shape": [rows],
                     "b64": base64.b64encode(np.zeros(rows).tobytes()).decode()})
    with pytest.raises(RunFormatError, match=f"{table} table's column '{column}' holds"):
        Run.from_json(json.dumps(blob))


def test_structural_mutations_are_refused_by_name_or_usable(architectures):
    outcomes = {"refused": 0, "accepted": 0}

    @settings(max_examples=STRUCTURAL, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(structural_mutations(architectures))
    def check(mutation: tuple[str, str]) -> None:
        outcomes[refused_or_usable(*mutation)] += 1

    check()
    assert outcomes["refused"] > 0 and outcomes["accepted"] > 0, outcomes


def test_integers_in_a_number_column_are_read_as_numbers(architectures):
    """Found by the long fuzz run: a histogram density written as integers passed the schema
    and broke the views' arithmetic; the schema now hands readers the declared types."""
    blob = json.loads(architectures["moons"])
    column = blob["histograms"]["data"]["density"]
    values = np.frombuffer(base64.b64decode(column["b64"]), dtype=column["dtype"])
    blob["histograms"]["data"]["density"] = {
        "dtype": "<i4", "shape": [len(values)],
        "b64": base64.b64encode(values.astype("<i4").tobytes()).decode()}
    run = read_run_file(json.dumps(blob))
    assert run.histograms["density"].dtype == np.float64
    exercise(run)

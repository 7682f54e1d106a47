"""Run JSON: exact round trip, and clear rejection of anything else."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neurondash import Config, Run, RunFormatError, train
from neurondash.run import TABLES
from neurondash.runchecks import read_run_file


@pytest.fixture(scope="module")
def run() -> Run:
    return train(Config(depth=2, width="16", norm="batch", opt="adam", lr=0.01, steps=120))


def test_json_round_trip_is_exact(run):
    text = run.to_json()
    back = Run.from_json(text)
    assert back.config == run.config and back.final == run.final
    for name in ("history", *TABLES):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(run, name), check_exact=True)
    assert np.array_equal(back.state["params"], run.state["params"])
    for key, value in run.state["optimizer"].items():
        assert np.array_equal(back.state["optimizer"][key], value)
    for step, maps in run.dead_maps.items():
        for layer, packed in maps.items():
            assert np.array_equal(back.dead_maps[step][layer], packed)
    assert set(back.model_states) == set(run.snapshot_steps)
    for step, state in run.model_states.items():
        assert np.array_equal(back.model_states[step]["params"], state["params"])
    assert back.to_json() == text


def test_a_file_from_before_a_setting_existed_reads_with_its_default(run):
    """Files exported before `fuse` and `more` existed have no such keys: they mean the
    flat MLP, trained for its scheduled steps only."""
    blob = json.loads(run.to_json())
    del blob["config"]["fuse"], blob["config"]["more"]
    back = Run.from_json(json.dumps(blob))
    assert back.config == run.config and back.config.fuse == back.config.more == 0
    assert np.array_equal(back.state["params"], run.state["params"])


@pytest.mark.parametrize(("config", "record"), [
    (Config(depth=0, steps=30), True),  # no hidden layer: empty dead-unit maps
    (Config(task="moons", depth=1, width="4", steps=30), False),  # no diagnostics at all
])
def test_json_round_trip_is_exact_for_runs_without_layers_or_diagnostics(config, record):
    run = train(config, record=record)
    text = run.to_json()
    assert Run.from_json(text).to_json() == text


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda blob: "not json at all", "not valid JSON"),
    (lambda blob: json.dumps({"hello": 1}), "not a neurondash run"),
    (lambda blob: json.dumps(blob | {"version": 99}), "version"),
    (lambda blob: json.dumps(blob | {"config": blob["config"] | {"lr": 99}}), "config"),
    (lambda blob: json.dumps({k: v for k, v in blob.items() if k != "history"}), "missing"),
    (lambda blob: json.dumps(blob | {"state": blob["state"] | {"params": {"dtype": "<f8",
                                                                          "b64": "!!"}}}),
     "state.params.shape is missing"),
    (lambda blob: json.dumps(blob | {"matrix_names": [True] + blob["matrix_names"][1:]}),
     "matrix_names.0 is malformed"),
    (lambda blob: json.dumps(blob | {"matrix_names": ["layers.9.weight"]}),
     "does not match its weight matrices"),
    (lambda blob: json.dumps(blob | {"layers": blob["layers"] | {"data": blob["layers"]["data"]
                                                                 | {"layer": [[1]]}}}),
     "layers.data.layer"),
    (lambda blob: json.dumps(blob | {"config": blob["config"] | {"depth": 1}}),
     "does not match its weight matrices"),
    (lambda blob: json.dumps(blob | {"dead_maps": blob["dead_maps"] | {"0": {}}}),
     "dead-unit maps"),
    (lambda blob: json.dumps(blob | {"dead_maps": {}}), "dead-unit maps"),
])
def test_malformed_files_are_rejected_clearly(run, mutate, message):
    blob = json.loads(run.to_json())
    with pytest.raises(RunFormatError, match=message):
        read_run_file(mutate(blob))


def test_object_arrays_are_refused():
    with pytest.raises(RunFormatError, match="dtype"):
        from neurondash.run_encoding import decode_array
        decode_array({"dtype": "|O", "shape": [1], "b64": ""})


def test_a_word_list_run_keeps_its_list_and_a_version_1_file_still_reads():
    """Version 1 wrote a word list as its train, val and test words in turn; splitting
    that again under the seed dealt other words to validation, so an imported run was
    continued on another split. Version 2 keeps the list as given."""
    words = [f"{a}{b}{c}" for a in "abcd" for b in "xyz" for c in "eo"]
    run = train(Config(task="words", depth=1, width="12", steps=60), words=words)
    assert run.words == tuple(words)
    back = Run.from_json(run.to_json())
    assert back.words == tuple(words) and back.baselines == run.baselines
    blob = json.loads(run.to_json())
    from neurondash.data import load_dataset

    dealt = load_dataset(run.config, words).words
    blob |= {"version": 1, "words": [w for split in ("train", "val", "test")
                                     for w in dealt[split]]}
    old = read_run_file(json.dumps(blob))
    assert old.words == tuple(words)
    assert old.to_json() == run.to_json()

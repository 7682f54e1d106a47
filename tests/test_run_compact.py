"""Run files of version 3: every view draws from a file's run exactly what it draws from the
run in memory (histograms rebuilt from counts, snapshot weights replayed), and files of
version 2 still open."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurondash import Config, Run, train
from neurondash.data import load_dataset
from neurondash.engine import queries
from neurondash.kept_states import KeptStates
from neurondash.report import report_builders
from neurondash.run import TABLES
from neurondash.runchecks import read_run_file
from neurondash.store import RunStore
from neurondash.training import continue_training

V2_BODY = Path(__file__).parent / "files" / "run_v2.json.gz"
V2_CONFIG = Config(task="moons", depth=2, width="4", norm="batch", opt="adam", lr=0.05,
                   steps=40, snap_every=10)
"""The run in ``V2_BODY``: a store body written by version 2 (weights copied out at every
snapshot, histograms as float columns)."""


def stopped_run() -> Run:
    seen = []
    return train(Config(task="circles", depth=2, width="8", steps=300, sched="constant"),
                 on_progress=seen.append, should_stop=lambda: seen[-1].step >= 100)


RUNS = {
    "names relu momentum": lambda: train(Config(depth=2, width="12", act="relu",
                                                opt="momentum", steps=60)),
    "names batchnorm adam": lambda: train(Config(depth=2, width="12", norm="batch",
                                                 opt="adam", lr=0.01, steps=130)),
    "names layernorm gelu adamw": lambda: train(Config(depth=1, width="10", norm="layer",
                                                       act="gelu", opt="adamw", wd=0.01,
                                                       steps=50)),
    "words": lambda: train(Config(task="words", depth=1, width="12", steps=60),
                           words=[f"{a}{b}{c}" for a in "abcd" for b in "xyz" for c in "eo"]),
    "moons sigmoid": lambda: train(Config(task="moons", depth=2, width="8", act="sigmoid",
                                          steps=80)),
    "diverged": lambda: train(Config(act="relu", init="normal", lr=10.0, steps=200)),
    "stopped": stopped_run,
    "continued mid-block with batchnorm": lambda: continue_training(
        train(Config(depth=2, width="12", norm="batch", steps=100)), 70),
}


def chart_data(run: Run, step: int) -> dict[str, str]:
    """Every record-based view's chart at ``step`` (the report's), as Vega-Lite JSON."""
    return {title: build().to_json() for title, build in report_builders(run, step).items()}


def model_views(run: Run, step: int) -> dict[str, object]:
    """What the model-based views compute from the weights at ``step``: the neuron trace,
    the dead units on the training split, the 2-D decision surface."""
    if run.status == "diverged" and step not in run.model_states:
        return {}
    model = run.model(step if step in run.model_states else None)
    data = load_dataset(run.config, run.words)
    found: dict[str, object] = {"params": model.flat.copy(),
                                "dead": queries.dead_on_split(model, data.x["train"])}
    if model.blocks:
        trace = queries.trace_neuron(model, data.x["val"][:16], 0, 0, 3)
        found["trace"] = (trace.inputs, trace.weights, trace.linear, trace.output)
    if not data.is_chars:
        found["grid"] = queries.grid_probs(model, (-2, 2, -2, 2), resolution=12)[2]
    return found


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("name", list(RUNS))
def test_every_view_draws_the_same_numbers_from_the_file(name):
    run = RUNS[name]()
    text = run.to_json()
    back = read_run_file(text)
    assert "model_states" not in json.loads(text), "no weight copies in the file"
    for table in ("history", *TABLES):
        pd.testing.assert_frame_equal(getattr(back, table), getattr(run, table),
                                      check_exact=True, obj=table)
    assert list(back.model_states) == list(run.model_states)
    assert back.model_states.held() == {}, "nothing replayed before a view asks"
    # Every table is equal bit for bit above; the charts drawn from them, at three steps
    # (each costs Altair a fraction of a second).
    middle = run.snapshot_steps[len(run.snapshot_steps) // 2]
    for step in (0, middle, run.snapshot_steps[-1]):
        assert chart_data(back, step) == chart_data(run, step), step
    for step in reversed(list(run.model_states)):  # replayed backwards: restarts from step 0
        state, kept = back.model_states[step], run.model_states[step]
        assert same(state["params"], kept["params"]) and same(state["buffers"],
                                                              kept["buffers"]), step
    for step in (middle, run.steps_done):
        assert same(model_views(back, step), model_views(run, step)), step
    assert back.to_json() == text
    plain = Run.from_json(run.to_json(compact=False))
    for table in ("history", *TABLES):
        pd.testing.assert_frame_equal(getattr(plain, table), getattr(run, table),
                                      check_exact=True, obj=table)


def test_a_continued_file_keeps_where_it_was_resumed():
    """Resuming mid-block starts BatchNorm's blocks afresh: replay starts there too."""
    first = train(Config(depth=1, width="8", norm="batch", steps=100))
    more = continue_training(Run.from_json(first.to_json()), 70)
    assert list(more.checkpoints) == [100]
    back = Run.from_json(more.to_json())
    assert list(back.checkpoints) == [100]
    for step in more.model_states:
        assert same(back.model_states[step]["buffers"], more.model_states[step]["buffers"])


def test_a_replay_that_differs_from_the_digest_leaves_the_step_out():
    run = train(Config(task="moons", depth=1, width="4", steps=30))
    blob = json.loads(run.to_json())
    blob["replay"]["6"] = "0" * 32
    back = Run.from_json(json.dumps(blob))
    assert 6 in back.model_states
    with pytest.warns(RuntimeWarning, match="replaying training to step 6"):
        assert back.model_states.get(6) is None
    assert 6 not in back.model_states
    assert np.array_equal(back.model(6).flat, run.state["params"])  # the final weights


def test_kept_states_compare_by_content():
    state = {"params": np.arange(3, dtype=np.float32), "buffers": {}}
    assert KeptStates({0: state}) == {0: {"params": state["params"].copy(), "buffers": {}}}
    assert KeptStates({0: state}) != {0: {"params": state["params"] + 1, "buffers": {}}}


def test_a_version_2_store_body_still_opens(tmp_path):
    text = gzip.decompress(V2_BODY.read_bytes())
    assert json.loads(text)["version"] == 2
    old = read_run_file(text)
    fresh = train(V2_CONFIG)
    assert old.config == V2_CONFIG and old.to_json() != fresh.to_json()
    for table in ("history", *TABLES):
        pd.testing.assert_frame_equal(getattr(old, table), getattr(fresh, table),
                                      check_exact=True, obj=table)
    assert old.model_states.held().keys() == set(fresh.snapshot_steps)
    assert old.model_states == fresh.model_states
    for step in (0, fresh.steps_done):
        assert chart_data(old, step) == chart_data(fresh, step)
    # Written again, it is a version-3 file of the same run.
    again = Run.from_json(old.to_json())
    assert json.loads(old.to_json())["version"] == 3 and again.model_states == old.model_states
    # And as a store's body: the index row of the same key, the old bytes on disk.
    store = RunStore(tmp_path)
    key = store.put(fresh)
    (tmp_path / "runs" / key[:2] / f"{key}.json.gz").write_bytes(V2_BODY.read_bytes())
    stored = RunStore(tmp_path).get(key)
    assert stored is not None and stored.model_states == fresh.model_states
    pd.testing.assert_frame_equal(stored.histograms, fresh.histograms, check_exact=True)


def test_the_default_run_is_stored_in_a_tenth_of_version_2():
    run = train(Config())
    body = gzip.compress(run.to_json().encode(), compresslevel=6, mtime=0)
    assert len(body) <= 320_000, len(body)


def test_a_long_run_keeps_a_few_states_to_replay_from(monkeypatch):
    """Runs whose replay would take long keep the full training state at a few snapshots;
    the replay starts at the latest one before the step it rebuilds."""
    from neurondash.engine import train as engine

    monkeypatch.setattr(engine, "REPLAY_SECONDS", 1e-4)
    run = train(Config(depth=2, width="12", norm="batch", opt="adam", lr=0.01, steps=300))
    assert len(run.checkpoints) == engine.MAX_RESTARTS
    back = read_run_file(run.to_json())
    assert back.checkpoints.keys() == run.checkpoints.keys()
    last = max(run.checkpoints)
    after = min(s for s in run.model_states if s > last)
    assert same(back.model_states[after], run.model_states[after])
    assert back.__dict__["_replay"].trainer.step == after
    assert back.__dict__["_replay"].states == {}, "started at the kept state, not at 0"
    for step in run.model_states:
        assert same(back.model_states[step], run.model_states[step]), step
    more = continue_training(back, 100)
    assert np.array_equal(more.state["params"], train(more.config).state["params"])
    assert set(more.checkpoints) == {*run.checkpoints, 300}


def test_restart_states_stay_within_their_byte_budget(monkeypatch):
    """A model whose state is larger than RESTART_BYTES keeps none, so its file is not
    doubled by them; its snapshots are then rebuilt from step 0, exactly."""
    from neurondash.data import load_dataset
    from neurondash.engine import train as engine

    config = Config(depth=2, width="12", norm="batch", opt="adam", lr=0.01, steps=300)
    one_state = engine.Trainer(config, load_dataset(config))._state_bytes()
    monkeypatch.setattr(engine, "REPLAY_SECONDS", 1e-4)
    monkeypatch.setattr(engine, "RESTART_BYTES", 2 * one_state)
    assert len(train(config).checkpoints) == 2 < engine.MAX_RESTARTS
    monkeypatch.setattr(engine, "RESTART_BYTES", one_state - 1)
    run = train(config)
    assert run.checkpoints == {}
    back = read_run_file(run.to_json())
    for step in run.model_states:
        assert same(back.model_states[step], run.model_states[step]), step


def test_a_replay_reports_its_progress_and_a_stopped_one_leaves_nothing_wrong():
    """A view waiting for a replay draws a bar from its progress; a page that reruns
    interrupts it from that callback, and the next replay goes on from there to the very
    weights the file describes."""
    run = train(Config(task="moons", depth=1, width="4", steps=400))
    back = Run.from_json(run.to_json())
    step = max(s for s in run.model_states if s < run.steps_done)
    seen = []

    def stop_midway(progress) -> None:
        seen.append(progress.step)
        if progress.step >= step // 2:
            raise KeyboardInterrupt  # as Streamlit's rerun exception would

    with pytest.raises(KeyboardInterrupt), back.replay_progress(stop_midway):
        back.model_states[step]
    assert seen == sorted(seen) and 0 < seen[-1] < step
    stopped = seen[-1]
    assert back.replay_start(step) == stopped, "the time a rebuild would take counts from here"
    with back.replay_progress(lambda progress: seen.append(progress.step)):
        assert same(back.model_states[step], run.model_states[step])
    assert seen[-1] == step and "_replay_progress" not in back.__dict__
    assert min(seen[seen.index(stopped) + 1:]) > stopped, "went on from where it stopped"


def test_a_run_that_replayed_still_pickles():
    """Sweep workers send Runs back pickled; the replaying Trainer stays behind."""
    import pickle

    run = train(Config(task="moons", depth=1, width="4", steps=30))
    back = Run.from_json(run.to_json())
    assert same(back.model_states[12], run.model_states[12])
    again = pickle.loads(pickle.dumps(back))
    assert again.model_states == run.model_states
    assert same(again.model_states[18], run.model_states[18])


@pytest.mark.parametrize(("column", "message"), [
    ({"dtype": "<i8", "shape": [40_000_000], "start": 0, "step": 1}, "would take"),
    ({"dtype": "<f8", "shape": [30], "b64": "AAAA", "stored": "<f4", "planes": True},
     "malformed"),
    ({"dtype": "<f8", "shape": [30], "b64": "", "missing": "AA=="}, "NaN flags"),
    ({"dtype": "<f4", "shape": [30], "b64": "", "stored": "<f8"}, "stored as"),
    ({"dtype": "<f8", "shape": [30], "b64": "", "stored": "|u1"}, "stored as"),
])
def test_malformed_compact_arrays_are_refused_by_name(column, message):
    """A compact form may hold more values than bytes: what it would expand to is bounded
    before anything is decoded, and every form must fill its shape exactly."""
    from neurondash import RunFormatError

    blob = json.loads(train(Config(task="moons", depth=1, width="4", steps=30)).to_json())
    blob["history"]["data"]["loss"] = column
    with pytest.raises(RunFormatError, match=message):
        read_run_file(json.dumps(blob))

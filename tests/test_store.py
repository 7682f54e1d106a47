"""The run store: exact round trips, keys that change with everything that changes a
number, concurrent writers and readers, eviction, damaged files."""

from __future__ import annotations

import dataclasses
import gzip
import multiprocessing
import sqlite3
import threading

import numpy as np
import pytest

from neurondash import Config, identity, train
from neurondash import run as run_module
from neurondash.identity import run_key
from neurondash.store import RunStore

SMALL = Config(depth=1, width="8", steps=20)


def numbers(run) -> dict:
    """A run's file without its wall-clock training time (the one field that differs
    between two trainings of a Config)."""
    blob = run.to_json_dict()
    blob.pop("elapsed")
    return blob


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "store")


@pytest.fixture(scope="module")
def runs():
    return [train(SMALL.replace(seed=seed)) for seed in range(4)]


def test_a_stored_run_comes_back_bit_for_bit_in_a_new_process_object(store, runs):
    key = store.put(runs[0])
    assert key == run_key(runs[0].config)
    fresh = RunStore(store.root)  # nothing decoded in memory: read from disk
    back = fresh.get(key)
    assert back is not None and back.to_json() == runs[0].to_json()
    assert fresh.get(run_key(SMALL.replace(seed=99))) is None
    (listed,) = fresh.list()
    assert listed.key == key and listed.config == runs[0].config
    assert listed.summary["final"]["val_loss"] == runs[0].final["val_loss"]


def test_the_key_changes_with_config_words_and_numbers_version(monkeypatch):
    words = ["anna", "bob"]
    keys = {run_key(SMALL), run_key(SMALL.replace(lr=0.2)), run_key(SMALL, words),
            run_key(SMALL, words[:1])}
    assert len(keys) == 4 and run_key(SMALL) == run_key(Config(depth=1, width="8",
                                                                   steps=20))
    before = run_key(SMALL)
    monkeypatch.setattr(identity, "NUMBERS_VERSION", identity.NUMBERS_VERSION + 1)
    assert run_key(SMALL) != before


def test_an_activation_revision_changes_only_its_own_runs_keys(monkeypatch):
    """A change to one activation's rounding (gelu's x**3) re-keys its runs alone."""
    from neurondash.parts.activations import ACTIVATIONS

    before = {name: run_key(SMALL.replace(act=name)) for name in ACTIVATIONS}
    for name, activation in ACTIVATIONS.items():
        monkeypatch.setitem(ACTIVATIONS, name, dataclasses.replace(
            activation, revision=activation.revision + 1))
        after = {other: run_key(SMALL.replace(act=other)) for other in ACTIVATIONS}
        assert {other for other in ACTIVATIONS if after[other] != before[other]} == {name}
        monkeypatch.setitem(ACTIVATIONS, name, activation)


def test_a_long_run_revision_changes_only_long_runs_keys(monkeypatch):
    """Thinning a long run's update:data re-keys runs of more than LONG_RUN_STEPS alone:
    every link to a run of 20,000 steps or fewer stays valid."""
    from neurondash.engine import LONG_RUN_STEPS

    configs = [SMALL.replace(steps=steps) for steps in (20, LONG_RUN_STEPS, LONG_RUN_STEPS + 1,
                                                        200_000)]
    before = [run_key(config) for config in configs]
    monkeypatch.setattr(identity, "LONG_RUN_REVISION", identity.LONG_RUN_REVISION + 1)
    assert [run_key(c) != key for c, key in zip(configs, before, strict=True)] == [
        False, False, True, True]


def test_a_new_setting_with_a_default_leaves_every_key_as_it_was(monkeypatch):
    """Adding a setting (a scratch row, as dropout would be) keeps old keys, so stored runs
    and the links handed out stay valid; so do NumPy and run-file format changes."""
    from neurondash.config import SETTINGS, Setting, make_config_class

    configs = [SMALL, SMALL.replace(lr=0.0137, act="relu"), Config(task="moons", depth=0)]
    before = [run_key(config) for config in configs]
    extended = make_config_class((*SETTINGS, Setting("scratch_dropout", float, 0.0, "scratch",
                                                     0.0, 0.9)))
    assert [run_key(extended(**config.to_dict())) for config in configs] == before
    assert run_key(extended(**configs[0].to_dict(), scratch_dropout=0.5)) not in before
    monkeypatch.setattr(np, "__version__", "9.9.9")
    monkeypatch.setattr(run_module, "VERSION", 99)
    assert [run_key(config) for config in configs] == before


def test_partial_runs_are_not_stored_and_diverged_ones_are(store):
    stopped = train(SMALL.replace(steps=200), should_stop=lambda: True)
    assert stopped.status == "stopped" and stopped.config.until == stopped.steps_done
    assert store.get(store.put(stopped)).status == "stopped", "whole for its until"
    partial = dataclasses.replace(stopped, config=SMALL.replace(steps=200))  # an old file's
    assert store.put(partial) is None
    diverged = train(Config(lr=10, init="normal", act="relu", steps=200))
    assert diverged.status == "diverged"
    assert store.get(store.put(diverged)).status == "diverged"


def _write_many(root: str, seeds: list[int], repeats: int) -> None:
    store = RunStore(root)
    for _ in range(repeats):
        for seed in seeds:
            store.put(train(SMALL.replace(seed=seed)))


def test_concurrent_writers_in_several_processes_leave_whole_runs(store, runs):
    """Four processes write overlapping keys at once: every key ends up stored once, whole,
    and equal to the run trained here; no temporary file is left."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(str(store.root), [0, 1, 2, 3], 2))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    assert len(store.list()) == 4 and not list((store.root / "tmp").iterdir())
    fresh = RunStore(store.root)
    for run in runs:
        assert numbers(fresh.get(run_key(run.config))) == numbers(run)


def test_a_reader_during_writes_gets_a_whole_run_or_none(store, runs):
    context = multiprocessing.get_context("fork")
    writer = context.Process(target=_write_many, args=(str(store.root), [0], 6))
    seen, errors = [], []

    def read() -> None:
        reader = RunStore(store.root)
        while writer.is_alive():
            try:
                reader._loaded.clear()  # read the body from disk every time
                got = reader.get(run_key(runs[0].config))
                seen.append(None if got is None else numbers(got) == numbers(runs[0]))
            except Exception as err:  # noqa: BLE001 - the point is that none happens
                errors.append(err)

    writer.start()
    thread = threading.Thread(target=read)
    thread.start()
    writer.join(120)
    thread.join(30)
    assert not errors and False not in seen and True in seen
    assert numbers(RunStore(store.root).get(run_key(runs[0].config))) == numbers(runs[0])


def test_the_least_recently_used_run_is_evicted_at_the_size_cap(tmp_path, runs):
    probe = RunStore(tmp_path / "probe")
    probe.put(runs[0])
    size = probe.total_bytes()
    store = RunStore(tmp_path / "store", max_bytes=int(size * 3.5))
    keys = [store.put(run) for run in runs[:3]]
    store._loaded.clear()
    store.get(keys[0])  # used: now the second is the least recent
    store.put(runs[3])
    stored = {row.key for row in store.list()}
    assert stored == {keys[0], keys[2], run_key(runs[3].config)}
    assert store.total_bytes() <= store.max_bytes
    assert not (store.root / "runs" / keys[1][:2] / f"{keys[1]}.json.gz").exists()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "bad json"])
def test_a_damaged_or_foreign_body_is_reported_dropped_and_stored_again(store, runs, damage):
    key = store.put(runs[0])
    body = store.root / "runs" / key[:2] / f"{key}.json.gz"
    data = body.read_bytes()
    body.write_bytes({"garbage": b"\x00not a run" * 10, "truncated": data[: len(data) // 2],
                      "foreign": gzip.compress(runs[1].to_json().encode()),
                      "bad json": gzip.compress(b'{"format": "neurondash-run", "version"')}
                     [damage])
    fresh = RunStore(store.root)
    assert fresh.get(key) is None
    assert key in fresh.problems[-1] and key not in fresh
    assert fresh.put(runs[0]) == key and fresh.get(key) is not None


def test_gc_tidies_orphans_stale_temporaries_and_rows_without_bodies(store, runs):
    kept, lost = store.put(runs[0]), store.put(runs[1])
    (store.root / "runs" / lost[:2] / f"{lost}.json.gz").unlink()
    (store.root / "runs" / "zz").mkdir()
    (store.root / "runs" / "zz" / "stray.json.gz").write_bytes(b"x")
    (store.root / "tmp" / "half-written").write_bytes(b"x")
    found = store.gc(older_than=0.0)
    assert found == {"missing bodies": 1, "indexed again": 0, "orphan files": 1,
                     "stale temporary files": 1, "evicted": 0}
    assert [row.key for row in store.list()] == [kept]


def test_a_store_body_that_breaks_the_schema_is_dropped(store, runs):
    """Store reads skip the engine cross-check (the body was checked on the way in), never
    the schema: a well-formed gzip of a run whose arrays do not parse is still refused."""
    import json

    key = store.put(runs[0])
    body = store.root / "runs" / key[:2] / f"{key}.json.gz"
    blob = json.loads(gzip.decompress(body.read_bytes()))
    blob["state"]["params"]["b64"] = "not base64!"
    body.write_bytes(gzip.compress(json.dumps(blob).encode()))
    fresh = RunStore(store.root)
    assert fresh.get(key) is None and key in fresh.problems[-1]


def test_a_store_keyed_the_old_way_is_rekeyed_and_its_runs_open(tmp_path):
    store = RunStore(tmp_path / "old")
    run = train(SMALL)
    key = store.put(run)
    with sqlite3.connect(store.root / "index.sqlite") as db:
        db.execute("UPDATE runs SET key = ? WHERE key = ?", ("0" * 32, key))
        db.execute("PRAGMA user_version = 0")
    assert RunStore(store.root).get(key) is not None, "re-keyed when opened"
    assert "0" * 32 not in RunStore(store.root)


def test_a_backup_taken_while_a_writer_writes_opens_with_whole_runs(store, runs, tmp_path):
    """The documented backup (``runs backup``): a copy taken during writes opens as a
    consistent store of the same runs, bit for bit; it never overwrites a directory."""
    store.put(runs[0])
    context = multiprocessing.get_context("fork")
    writer = context.Process(target=_write_many, args=(str(store.root), [1, 2, 3], 3))
    writer.start()
    copied = store.backup(tmp_path / "copy")
    writer.join(120)
    copy = RunStore(tmp_path / "copy")
    assert copied == len(copy.list()) >= 1 and not copy.problems
    for row in copy.list():
        assert numbers(copy.get(row.key)) == numbers(store.get(row.key))
    assert {p.name for p in (copy.root / "runs").glob("*/*")} == {
        f"{row.key}.json.gz" for row in copy.list()}
    with pytest.raises(FileExistsError):
        store.backup(tmp_path / "copy")


def test_a_run_deleted_by_another_process_is_gone_here_too(store, runs):
    """A server holds a few runs decoded in memory; the operator's dashboard or ``runs
    delete`` (another process, another store object) deleting one must not leave this one
    answering its link from memory."""
    key = store.put(runs[1])
    assert store.get(key) is not None  # now held in memory
    assert RunStore(store.root).delete(key)
    assert store.get(key) is None
    assert key not in store
    store.put(runs[1])  # trained again by whoever opened the link: stored again
    assert store.get(key).to_json() == runs[1].to_json()

"""The session's shelf of runs: only the newest in memory, the rest read back from the store;
imported and partial runs stay in memory; a store that fails costs memory, not runs."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from neurondash import Config, train
from neurondash.identity import run_key
from neurondash.store import RunStore
from neurondash.ui.shelf import RunShelf

SMALL = Config(depth=1, width="8", steps=20)


@pytest.fixture(scope="module")
def runs():
    return [train(SMALL.replace(seed=seed)) for seed in range(4)]


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "store")


def shelve(shelf: RunShelf, store: RunStore, runs) -> list[str]:
    keys = []
    for run in runs:
        store.put(run)
        keys.append(run_key(run.config, None))
        shelf[keys[-1]] = run
    return keys


def in_memory(shelf: RunShelf) -> list[str]:
    return [key for key, entry in shelf.entries() if entry.run is not None]


def test_only_the_newest_stored_run_is_held_and_the_others_come_back_from_the_store(
        store, runs):
    shelf = RunShelf(lambda: store)
    keys = shelve(shelf, store, runs)
    assert in_memory(shelf) == keys[-1:]
    fresh = RunStore(store.root)  # nothing decoded in memory: the runs are read from disk
    shelf._store = lambda: fresh
    for key, run in zip(keys, runs, strict=True):
        assert shelf[key].history.equals(run.history)
    assert in_memory(shelf) == [keys[-1]], "reading back does not hold the run again"
    shelf.move_to_end(keys[0])
    assert in_memory(shelf) == [keys[0]], "the newest, the one shown, is held"
    assert [entry.config.seed for _, entry in shelf.entries()] == [1, 2, 3, 0]


def test_a_run_gone_from_the_store_leaves_the_listing_and_is_counted(store, runs):
    shelf = RunShelf(lambda: store)
    keys = shelve(shelf, store, runs[:3])
    store.delete(run_key(runs[0].config))
    assert [run.config.seed for run in shelf.values()] == [1, 2]
    assert list(shelf) == keys[1:] and shelf.dropped == 1
    assert shelf.get(keys[0]) is None


def test_imported_and_partial_runs_stay_in_memory(store, runs):
    shelf = RunShelf(lambda: store)
    store.put(runs[0])
    shelf.hold("imported", runs[0])
    stopped = train(SMALL.replace(seed=9), should_stop=lambda: True)
    assert stopped.status == "stopped" and stopped.config.until == stopped.steps_done
    assert store.put(stopped) == run_key(stopped.config), "whole for its until: stored"
    # An older file's stopped run is short of its Config: partial, held in memory only.
    partial = dataclasses.replace(stopped, config=SMALL.replace(seed=9))
    assert store.put(partial) is None
    shelf["stopped"] = partial
    shelve(shelf, store, runs[1:])
    assert in_memory(shelf) == ["imported", "stopped", run_key(runs[-1].config, None)]
    assert shelf.latest().config == runs[-1].config


def test_a_failing_store_keeps_every_run_in_memory(runs):
    def broken() -> RunStore:
        raise sqlite3.OperationalError("disk I/O error")

    shelf = RunShelf(broken)
    for seed, run in enumerate(runs):
        shelf[str(seed)] = run
    assert in_memory(shelf) == ["0", "1", "2", "3"]
    assert [run.config.seed for run in shelf.values()] == [0, 1, 2, 3]


def test_the_limit_drops_the_oldest(store, runs):
    shelf = RunShelf(lambda: store, limit=2)
    keys = shelve(shelf, store, runs)
    assert list(shelf) == keys[-2:] and shelf.dropped == 2

"""Eviction on a shared server: a search filling the store past its cap evicts its own
worst runs first and leaves runs somebody opened by link; the policy's order holds for
any mix of runs (property tests of ``store_policy``)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash import Config, store_policy, train
from neurondash.charts import runs_table
from neurondash.cli import main
from neurondash.identity import run_key
from neurondash.store import RunStore
from neurondash.store_policy import EXTRA, PINNED, TOP, Entry, eviction_order, to_evict

NOW = 1_000_000_000.0
DAY = 86400.0
TINY = Config(task="moons", depth=1, width="4", steps=5, points=100)


@pytest.fixture(scope="module")
def tiny_runs():
    """Runs of distinct keys and validation losses: seed 0 is opened by link, the rest are
    a search's trials."""
    return [train(TINY.replace(seed=seed, lr=0.02 * (seed + 1))) for seed in range(10)]


def test_a_search_past_the_cap_evicts_its_own_worst_runs_and_not_a_linked_one(
        tmp_path, tiny_runs, monkeypatch, capsys):
    monkeypatch.setattr(store_policy, "SEARCH_TOP", 3)
    store = RunStore(tmp_path / "store")
    linked = store.put(tiny_runs[0])  # as a page does for a link it trained
    store.max_bytes = int(store.total_bytes() * 5.5)  # it, the search's top 3 and one more
    searched = tiny_runs[1:]
    for run in searched:
        store.put(run, search="search:1")
    kept = {row.key: row for row in store.list()}
    assert store.total_bytes() <= store.max_bytes
    assert linked in kept and kept[linked].kept == PINNED
    best = sorted(searched, key=lambda run: run.final["val_loss"])
    for run in best[:3]:
        assert kept[run_key(run.config)].kept == TOP, "a search's best are kept"
    for run in best[5:]:
        assert run_key(run.config) not in kept, "its worst went first"
    assert [row.kept for row in kept.values()].count(EXTRA) == len(kept) - 4
    shown = runs_table.runs_frame(store.list())  # the Runs view's table
    assert dict(zip(shown["key"], shown["kept"], strict=True)) == {
        key: row.kept for key, row in kept.items()}
    assert main(["runs", "list", "--store", str(store.root)]) == 0
    listed = capsys.readouterr().out
    assert f"{linked[:12]}  " in listed and "pinned" in listed and "search top" in listed


def test_opening_a_search_run_by_link_pins_it(tmp_path, tiny_runs, monkeypatch):
    monkeypatch.setattr(store_policy, "SEARCH_TOP", 1)
    store = RunStore(tmp_path / "store")
    keys = [store.put(run, search="search:1") for run in tiny_runs[1:4]]
    worst = max(keys, key=lambda key: store.metrics([key])[key]["val_loss"])
    assert {row.key: row.kept for row in store.list()}[worst] == EXTRA
    store.get(worst, opened=False)  # the search continuing it is no visitor
    assert {row.key: row.kept for row in store.list()}[worst] == EXTRA
    store.get(worst)
    assert {row.key: row.kept for row in store.list()}[worst] == PINNED
    store.put(tiny_runs[1], search="search:2")  # another search's write unpins nothing
    assert {row.key: row.kept for row in store.list()}[worst] == PINNED


def test_an_older_store_counts_its_runs_as_opened_when_last_used(tmp_path, tiny_runs):
    store = RunStore(tmp_path / "store")
    key = store.put(tiny_runs[0], search="search:1")
    with sqlite3.connect(store.root / "index.sqlite") as db:
        for column in ("opened", "search", "score"):
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    (row,) = RunStore(store.root).list()
    assert row.key == key and row.kept == PINNED and row.opened == row.last_used


entries = st.lists(st.builds(
    Entry, key=st.uuids().map(str), bytes=st.integers(1, 100),
    last_used=st.floats(NOW - 60 * DAY, NOW),
    opened=st.one_of(st.none(), st.floats(NOW - 60 * DAY, NOW)),
    search=st.sampled_from([None, "a", "b"]),
    score=st.one_of(st.none(), st.floats(0, 5))), max_size=40)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(entries, st.integers(0, 2000))
def test_eviction_takes_extras_first_and_pinned_runs_last(runs, cap):
    standing = store_policy.standings(runs, NOW)
    order = eviction_order(runs, NOW)
    assert sorted(e.key for e in order) == sorted(e.key for e in runs)
    tiers = [{EXTRA: 0, PINNED: 2}.get(standing[e.key], 1) for e in order]
    assert tiers == sorted(tiers)
    for search in ("a", "b"):
        mine = [e for e in runs if e.search == search and e.opened is None]
        tops = [e for e in mine if standing[e.key] == TOP]
        extras = [e for e in order if e in mine and standing[e.key] == EXTRA]
        assert len(tops) == min(len(mine), store_policy.SEARCH_TOP)
        worst_top = max((store_policy._quality(e) for e in tops), default=None)
        assert all(store_policy._quality(e) >= worst_top for e in extras)
        qualities = [store_policy._quality(e) for e in extras]
        assert qualities == sorted(qualities, reverse=True), "the worst extra goes first"
    for entry in runs:
        recent = entry.opened is not None and NOW - entry.opened <= store_policy.PINNED_DAYS * DAY
        assert (standing[entry.key] == PINNED) == recent
    dropped = to_evict(runs, cap, NOW)
    assert dropped == order[:len(dropped)]
    total = sum(e.bytes for e in runs)
    assert total - sum(e.bytes for e in dropped) <= cap
    assert not dropped or total - sum(e.bytes for e in dropped[:-1]) > cap, "no more than needed"

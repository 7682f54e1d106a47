"""The run store after ``kill -9`` of a writer in the middle of writes: opening it again
leaves every index row with a readable body and every body file with an index row."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from neurondash import Config, train
from neurondash.store import RunStore

TINY = Config(task="moons", depth=1, width="4", steps=5, points=100)
WRITER = """
import itertools, random, sys
from neurondash import Config, train
from neurondash.store import RunStore
root, cap, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store, rng = RunStore(root, max_bytes=cap), random.Random(seed)
tiny = Config(task="moons", depth=1, width="4", steps=5, points=100)
print("ready", flush=True)
for n in itertools.count(seed * 100_000):  # puts, evictions, deletes and reads, for ever
    store.put(train(tiny.replace(seed=n)), search="search:kill" if n % 2 else None)
    rows = store.list()
    if rows and rng.random() < 0.3:
        store.delete(rng.choice(rows).key)
    if rows:
        store.get(rng.choice(rows).key)
"""
KILLS = 5


def _files(root: Path) -> set[str]:
    return {body.relative_to(root).as_posix() for body in (root / "runs").glob("*/*")}


def _rows(root: Path) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(root / "index.sqlite") as db:
        return {key: (path, size) for key, path, size in
                db.execute("SELECT key, path, bytes FROM runs")}


def test_a_store_whose_writer_was_killed_mid_write_is_consistent_when_opened(tmp_path):
    root = tmp_path / "store"
    RunStore(root).put(train(TINY))
    cap = RunStore(root).total_bytes() * 12  # small: evictions run all the time
    rng = random.Random(27)
    out_of_step = 0
    for attempt in range(1, KILLS + 1):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(cap),
                                   str(attempt)], stdout=subprocess.PIPE, text=True,
                                  cwd=Path(__file__).resolve().parents[1])
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 0.8))
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(10) == -signal.SIGKILL, "killed while writing, not finished"
        writer.stdout.close()
        rows = _rows(root)  # as the kill left it, before a store repairs it
        out_of_step += len({path for path, _ in rows.values()} ^ _files(root))
    store = RunStore(root)  # opening repairs
    rows = _rows(root)
    assert rows and {path for path, _ in rows.values()} == _files(root), (
        f"{out_of_step} files and rows were out of step after the kills")
    for key, (path, size) in rows.items():
        assert (root / path).stat().st_size == size
        run = store.get(key, opened=False)
        assert run is not None, store.problems
    assert not store.problems
    assert store.get(store.put(train(TINY.replace(seed=999_999_999)))) is not None

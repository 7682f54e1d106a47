"""The run store: finished runs kept on disk under a key that names exactly what they are,
so that a link anyone opens, a sweep cell or a command-line run is trained once per server.

Layout of the store directory (``paths.store_root()``, ``NEURONDASH_STORE`` moves it)::

    index.sqlite            one row per run: key, body file, size, times, a summary;
                            per search: what it ran (its link's record), the latest
                            and each version a link may name ("key#version")
    runs/ab/abcdef....json.gz  the run file (the export format), gzip-compressed
    tmp/                    bodies being written; renamed into runs/ when complete

The key is the run's identity (``identity.run_key``): the settings that differ from their
defaults, the word list (task ``words``) and the engine's ``NUMBERS_VERSION``, so a stored
run is never served for numbers it does not have, and a new setting or a NumPy upgrade
orphans none. SQLite runs in WAL mode,
so readers never wait for a writer; a body is written to ``tmp/`` and renamed into place
(atomic on one filesystem) before its row is committed, so nobody reads half a run, and two
writers of one key write the same bytes. A body that cannot be read back (damaged, foreign,
deleted underneath) is reported, dropped from the index and trained again. A writer killed
between a body and its row leaves the two out of step; opening the store puts them back
(``repair``): a row without its body is dropped, a whole body without a row is indexed
again, anything else in ``runs/`` is deleted. The store stays under ``max_bytes`` by evicting
in the order of ``store_policy``: a search's unopened runs beyond its best first, runs
somebody opened recently last.

Keep the directory on a local disk: SQLite's locking is unsafe on network filesystems.
Sweep workers on other machines return their runs to the process that writes the store.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

from .config import Config
from .identity import run_key
from .paths import store_root, write_atomically
from .run import Run, RunFormatError
from .store_index import (
    SCHEMA,
    STALE_SECONDS,
    StoredRun,
    repair,
    score,
    storable,
    summarize,
)
from .store_policy import Entry, standings, to_evict
from .store_upgrade import upgrade

DEFAULT_MAX_BYTES = 1_000_000_000
LOADED_RUNS = 4
"""Runs kept decoded in memory per process (the rest is read from disk on demand)."""

log = logging.getLogger(__name__)


def max_bytes_setting() -> int:
    """``NEURONDASH_STORE_MAX_MB`` (megabytes) if set to a positive number, else 1 GB."""
    text = os.environ.get("NEURONDASH_STORE_MAX_MB", "")
    try:
        megabytes = float(text)
    except ValueError:
        if text:
            log.warning("NEURONDASH_STORE_MAX_MB=%r is not a number; using 1000", text)
        return DEFAULT_MAX_BYTES
    return int(megabytes * 1e6) if megabytes > 0 else DEFAULT_MAX_BYTES


_SHARED: dict[Path, RunStore] = {}
_SHARED_LOCK = threading.Lock()


def search_version(record_text: str) -> str:
    """A search record's version: its content's digest (12 hex digits), as a link holds it."""
    return hashlib.sha256(record_text.encode()).hexdigest()[:12]


def shared_store() -> RunStore:
    """The process's store at ``store_root()`` (one object, shared by every session, so
    its in-memory LRU is too)."""
    root = store_root()
    with _SHARED_LOCK:
        if root not in _SHARED:
            _SHARED[root] = RunStore(root, max_bytes_setting())
        return _SHARED[root]


class RunStore:
    """Finished runs by ``identity.run_key``, shared by every session and process of a server."""

    def __init__(self, root: Path | str | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = Path(root) if root is not None else store_root()
        self.max_bytes = max_bytes
        self.problems: list[str] = []
        """What was skipped and why (damaged bodies, unreadable files), newest last."""
        self._loaded: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        (self.root / "runs").mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            upgrade(db, self.root, self._report)
        self.repair()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r}, max_bytes={self.max_bytes:,})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation, committed at the end (one per call: sessions run
        in threads, sweeps in processes, and a connection must not cross either)."""
        with closing(sqlite3.connect(self.root / "index.sqlite", timeout=30.0)) as db, db:
            yield db

    # -- reading ----------------------------------------------------------------------
    def get(self, key: str, opened: bool = True) -> Run | None:
        """The stored run of ``key``, or None (never stored, evicted, or unreadable).
        ``opened``: somebody asked to see it (which pins it); a search reading its own
        runs to continue them passes False."""
        with self._lock:
            held = self._loaded.get(key)
        # A copy held in memory counts only while the index still has the run: another
        # process (the operator's dashboard, `runs delete`, an eviction) may have dropped it.
        if held is not None:
            if self._touch(key, opened):
                with self._lock:
                    if key in self._loaded:
                        self._loaded.move_to_end(key)
                return held
            with self._lock:
                self._loaded.pop(key, None)
            return None
        with self._connect() as db:
            row = db.execute("SELECT path FROM runs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        path = self.root / row[0]
        try:
            run = Run.from_json(gzip.decompress(path.read_bytes()))
        except FileNotFoundError:
            self._forget(key, None)  # evicted or deleted by another process meanwhile
            return None
        except (OSError, EOFError, zlib.error, RunFormatError, ValueError) as err:
            self._report(f"stored run {key} ({path.name}) could not be read and was "
                         f"dropped: {err}")
            self._forget(key, path)
            return None
        if run_key(run.config, run.words) != key:
            self._report(f"stored run {key} holds another run ({run.config.to_query()!r}) "
                         "and was dropped")
            self._forget(key, path)
            return None
        self._touch(key, opened)
        self._remember(key, run)
        return run

    def metrics(self, keys: Sequence[str]) -> dict[str, dict]:
        """The ``summary.summarize`` numbers of the stored runs among ``keys``, from the
        index alone (a search's table needs no run read). Rows written before the index
        kept them are left out: read those runs with ``get``."""
        found: dict[str, dict] = {}
        keys = list(dict.fromkeys(keys))
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = db.execute("SELECT key, summary FROM runs WHERE key IN "
                                  f"({','.join('?' * len(chunk))})", chunk).fetchall()
                for key, text in rows:
                    metrics = json.loads(text).get("metrics")
                    if metrics is not None:
                        found[key] = metrics
        return found

    def longest_cut(self, config: Config, words: Sequence[str] | None = None) -> str | None:
        """The key of the longest stored run of ``config`` cut at an earlier step (a run
        stopped there, a search's shorter rung): continuing it gives ``config``'s run
        exactly. Found by the settings, so the whole run's link offers it in any session
        (a closed tab's stopped run was trained again from step 0)."""
        whole = run_key(config, words)
        with self._connect() as db:
            rows = db.execute("SELECT key, query FROM runs WHERE query LIKE '%until=%'"
                              ).fetchall()
        found: tuple[int, str] | None = None
        for key, query in rows:
            cut, problems = Config.from_query(query)
            if (problems or not 0 < cut.until < config.total_steps
                    or run_key(cut, words) != key
                    or run_key(cut.replace(until=config.until), words) != whole):
                continue
            if found is None or cut.until > found[0]:
                found = (cut.until, key)
        return found[1] if found else None

    def __contains__(self, key: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM runs WHERE key = ?", (key,)).fetchone() is not None

    def list(self) -> list[StoredRun]:
        """Every stored run, most recently used first, with its standing for eviction."""
        with self._connect() as db:
            rows = db.execute("SELECT key, bytes, last_used, opened, search, score, query, "
                              "created, summary FROM runs ORDER BY last_used DESC").fetchall()
        kept = standings((Entry(*row[:6]) for row in rows), time.time())
        return [StoredRun(key, query, size, created, used, json.loads(summary), opened,
                          kept[key], search)
                for key, size, used, opened, search, _, query, created, summary in rows]

    def total_bytes(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COALESCE(SUM(bytes), 0) FROM runs").fetchone()[0])

    # -- writing ----------------------------------------------------------------------
    def put(self, run: Run, metrics: dict | None = None, search: str | None = None
            ) -> str | None:
        """Store a finished (or diverged) run; returns its key, None for a partial run.
        ``metrics``: the run's ``summary.summarize``, if the caller computed it already.
        ``search``: the key of the search that trained it, which nobody opened yet (else
        whoever asked for it sees it: it is pinned)."""
        if not storable(run):
            return None
        key = run_key(run.config, run.words)
        body = gzip.compress(run.to_json().encode(), compresslevel=6, mtime=0)
        relative = Path("runs") / key[:2] / f"{key}.json.gz"
        final = self.root / relative
        final.parent.mkdir(exist_ok=True)
        write_atomically(final, body, scratch=self.root / "tmp")
        now = time.time()
        summarized = summarize(run, metrics)
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO "
                "UPDATE SET bytes = excluded.bytes, last_used = excluded.last_used, "
                "opened = COALESCE(excluded.opened, opened), "
                "search = COALESCE(search, excluded.search), "
                "score = COALESCE(score, excluded.score)",
                (key, relative.as_posix(), len(body), now, now, run.config.to_query(),
                 json.dumps(summarized), None if search else now, search,
                 score(summarized)))
        self._remember(key, run)
        self.evict()
        return key

    def put_search(self, key: str, record: dict) -> str:
        """Keep what a search ran (``search.SearchLog.record``): its link shows exactly that,
        whatever order parallel workers finished in. Kept twice: as the search's latest,
        and under its version (returned), which a link shared before the search ran on
        keeps showing."""
        text = json.dumps(record, sort_keys=True)
        version = search_version(text)
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO searches VALUES (?, ?, ?)",
                           [(key, time.time(), text),
                            (f"{key}#{version}", time.time(), text)])
        return version

    def get_search(self, key: str, version: str | None = None) -> dict | None:
        """The search's latest record, or the one of ``version`` (None when not kept)."""
        wanted = f"{key}#{version}" if version else key
        with self._connect() as db:
            row = db.execute("SELECT record FROM searches WHERE key = ?",
                             (wanted,)).fetchone()
        return json.loads(row[0]) if row is not None else None

    def delete(self, key: str) -> bool:
        """Remove one run; False when it was not stored. The body goes before the row is
        committed, so a kill in between leaves a row without a body (dropped on open), never
        a body another process's ``repair`` would index again."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT path FROM runs WHERE key = ?", (key,)).fetchone()
            if row is not None:
                (self.root / row[0]).unlink(missing_ok=True)
                db.execute("DELETE FROM runs WHERE key = ?", (key,))
        with self._lock:
            self._loaded.pop(key, None)
        return row is not None

    def evict(self) -> list[str]:
        """Drop runs in ``store_policy``'s order until the store is within ``max_bytes``."""
        dropped = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            total = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM runs").fetchone()[0]
            if total > self.max_bytes:
                rows = db.execute("SELECT key, bytes, last_used, opened, search, score, path "
                                  "FROM runs").fetchall()
                paths = {row[0]: row[-1] for row in rows}
                for entry in to_evict([Entry(*row[:6]) for row in rows], self.max_bytes,
                                      time.time()):
                    db.execute("DELETE FROM runs WHERE key = ?", (entry.key,))
                    (self.root / paths[entry.key]).unlink(missing_ok=True)
                    dropped.append(entry.key)
        with self._lock:
            for key in dropped:
                self._loaded.pop(key, None)
        return dropped

    def gc(self, older_than: float = STALE_SECONDS) -> dict[str, int]:
        """Tidy the directory (``repair``, temporary files older than ``older_than``
        seconds included); then evict."""
        return {**self.repair(older_than), "evicted": len(self.evict())}

    def repair(self, older_than: float = STALE_SECONDS) -> dict[str, int]:
        """Put the index and the body files back in step after a writer died between them
        (run on every open): drop rows whose body is gone, index again a whole run file no
        row names (its writer was killed before committing it), delete any other file in
        ``runs/`` and temporary files older than ``older_than`` seconds. Under the write
        lock, so a live writer's body is indexed once, by whichever commits first."""
        with self._connect() as db:
            found = repair(db, self.root, older_than)
        if any(found.values()):
            log.info("run store %s repaired: %s", self.root, found)
        return found

    def backup(self, destination: Path | str) -> int:
        """Copy the store into the new directory ``destination`` while it is in use (to back
        it up or move it): the index through SQLite's online backup, then the run files. A
        run written or evicted in between is put in step when the copy is opened
        (``repair``). Returns the number of runs the copy holds."""
        destination = Path(destination)
        if destination.exists():
            raise FileExistsError(f"{destination} exists: back up into a new directory")
        (destination / "runs").mkdir(parents=True)
        with closing(sqlite3.connect(destination / "index.sqlite")) as copy, \
                self._connect() as db:
            db.backup(copy)
        for body in (self.root / "runs").glob("*/*"):
            target = destination / body.relative_to(self.root)
            target.parent.mkdir(exist_ok=True)
            try:
                shutil.copy2(body, target)
            except FileNotFoundError:  # evicted meanwhile: the copy drops its row
                continue
        return len(RunStore(destination, self.max_bytes).list())

    # -- internals --------------------------------------------------------------------
    def _touch(self, key: str, opened: bool) -> bool:
        """Mark ``key`` used (and opened); whether the index still has it."""
        now = time.time()
        with self._connect() as db:
            return db.execute("UPDATE runs SET last_used = ?, opened = CASE WHEN ? THEN ? "
                              "ELSE opened END WHERE key = ?",
                              (now, opened, now, key)).rowcount > 0

    def _forget(self, key: str, path: Path | None) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE key = ?", (key,))
        with self._lock:
            self._loaded.pop(key, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def _remember(self, key: str, run: Run) -> None:
        with self._lock:
            self._loaded[key] = run
            self._loaded.move_to_end(key)
            while len(self._loaded) > LOADED_RUNS:
                self._loaded.popitem(last=False)

    def _report(self, problem: str) -> None:
        log.warning(problem)
        self.problems.append(problem)


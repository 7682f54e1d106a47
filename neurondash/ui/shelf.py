"""The session's runs, held by key: the newest run (and runs the store cannot give back) in
memory, every other one in the server's run store, read back through its small LRU when a
view asks for it. A session used to hold up to 12 whole runs; a server of many sessions then
held many copies of big runs.

No Streamlit here: the shelf is a mapping ``run_key -> Run`` that the session keeps.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass

from ..config import Config
from ..identity import run_key
from ..run import Run
from ..store import RunStore, shared_store, storable
from ..training import continues_exactly

KEPT_RUNS = 12
"""Runs a session lists (Compare, Continue); older ones are dropped from the session."""

log = logging.getLogger(__name__)


@dataclass
class Shelved:
    """What the session knows of one run without reading it: enough to list it, label it
    and decide whether it can be continued."""

    config: Config
    words: tuple[str, ...] | None
    steps_done: int
    status: str
    continues_exactly: bool
    store_key: str | None
    """The key to read it back by; None when only memory holds it (an imported file, a
    stopped run): such a run is never handed to the shared store by the shelf."""
    run: Run | None
    """The run itself while held in memory."""
    uploaded: bool = False
    """From an uploaded file (or continued from one): its numbers are the file's, never
    the store's or a shared training's (``ui.app``)."""


class RunShelf(MutableMapping):
    """``run_key -> Run``, newest last, at most ``limit`` runs."""

    def __init__(self, store: Callable[[], RunStore] = shared_store, limit: int = KEPT_RUNS,
                 owned: set[str] | None = None):
        self._store, self.limit = store, limit
        self.owned: set[str] = set() if owned is None else owned
        """Store keys of every run shelved that the store may hold, kept past ``limit``: the
        runs this session made or opened, which its Runs view lists (``ui.ownership``)."""
        self._entries: OrderedDict[str, Shelved] = OrderedDict()
        self.dropped = 0
        """Runs dropped for the limit, or lost from the store (evicted, deleted)."""

    def __repr__(self) -> str:
        held = sum(entry.run is not None for entry in self._entries.values())
        return f"RunShelf({len(self._entries)} runs, {held} in memory)"

    # -- the mapping ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __getitem__(self, key: str) -> Run:
        entry = self._entries[key]
        if entry.run is not None:
            return entry.run
        run = self._read(entry.store_key)
        if run is None:
            del self._entries[key]
            self.dropped += 1
            raise KeyError(key)
        return run

    def __setitem__(self, key: str, run: Run) -> None:
        """Shelve a run the server trained or its store gave: it may go back to the store."""
        self._put(key, run, run_key(run.config, run.words) if storable(run) else None)

    def __delitem__(self, key: str) -> None:
        del self._entries[key]

    def hold(self, key: str, run: Run) -> None:
        """Shelve a run only memory may keep: an imported file is checked but its training
        was not redone here, so it never stands in for the store's run of its Config."""
        self._put(key, run, None, uploaded=True)

    def uploaded(self, run: Run) -> bool:
        """Whether ``run`` is one the shelf holds from an uploaded file (held runs stay in
        memory, so they are found by identity)."""
        return any(entry.run is run and entry.uploaded for entry in self._entries.values())

    def values(self) -> list[Run]:  # type: ignore[override]
        """The runs still to be had, oldest first (one lost from the store is dropped)."""
        return [run for _, run in self.items()]

    def items(self) -> list[tuple[str, Run]]:  # type: ignore[override]
        found = []
        for key in self:
            try:
                found.append((key, self[key]))
            except KeyError:
                continue
        return found

    # -- without reading runs ---------------------------------------------------------
    def entries(self) -> list[tuple[str, Shelved]]:
        """Every shelved run's description, oldest first."""
        return list(self._entries.items())

    def latest(self) -> Shelved | None:
        return self._entries[next(reversed(self._entries))] if self._entries else None

    def move_to_end(self, key: str, run: Run | None = None) -> None:
        """Make ``key`` the newest: the run shown (``run``, if already read), so the one held
        in memory."""
        if next(reversed(self._entries)) != key:
            entry = self._entries[key]
            if entry.run is None:
                entry.run = run if run is not None else self[key]
            self._entries.move_to_end(key)
            self._release()

    # -- internals --------------------------------------------------------------------
    def _put(self, key: str, run: Run, key_in_store: str | None,
             uploaded: bool = False) -> None:
        if key_in_store is not None:
            self.owned.add(key_in_store)
        self._entries[key] = Shelved(
            config=run.config, words=tuple(run.words) if run.words else None,
            steps_done=run.steps_done, status=run.status,
            continues_exactly=continues_exactly(run), store_key=key_in_store, run=run,
            uploaded=uploaded)
        self._entries.move_to_end(key)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)
            self.dropped += 1
        self._release()

    def _release(self) -> None:
        """Let go of every run but the newest that the store holds (it reads them back)."""
        newest = next(reversed(self._entries))
        for key, entry in self._entries.items():
            if key != newest and entry.run is not None and entry.store_key is not None \
                    and self._in_store(entry.store_key):
                entry.run = None

    def _in_store(self, key: str) -> bool:
        try:
            return key in self._store()
        except (OSError, sqlite3.Error) as err:
            log.warning("run store unavailable, the session keeps its runs: %s", err)
            return False

    def _read(self, key: str | None) -> Run | None:
        if key is None:
            return None
        try:
            return self._store().get(key)
        except (OSError, sqlite3.Error) as err:
            log.warning("run store unavailable: %s", err)
            return None

"""Which stored runs the run store evicts first, so that one search cannot flush a shared
server: a run somebody opened (by link, on a page, from the command line) recently is worth
more than a run a search trained and nobody looked at, and a search's runs beyond its best
few are worth least of all.

Three tiers, evicted in this order until the store is within its cap:

1. ``EXTRA``: trained by a search, never opened, and not among that search's best
   ``SEARCH_TOP`` runs by validation loss: the worst first.
2. ``TOP`` and ``PLAIN``: a search's best unopened runs, and runs opened longer than
   ``PINNED_DAYS`` ago: the least recently used first.
3. ``PINNED``: opened within ``PINNED_DAYS``: the least recently opened first (only when
   pinned runs alone exceed the cap, which is a hard limit on the disk).

Pure: the store passes its index rows in and applies the order; the Runs view and
``runs list`` show each run's tier from the same function.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

PINNED_DAYS = 14.0
"""A run opened within this many days is pinned (evicted last)."""
SEARCH_TOP = 10
"""A search's best runs (by validation loss) kept with the ordinary runs; the rest go first."""
PINNED, TOP, PLAIN, EXTRA = "pinned", "search top", "", "goes first"
"""A run's standing, as the Runs view and ``runs list`` show it."""
_TIER = {EXTRA: 0, TOP: 1, PLAIN: 1, PINNED: 2}


@dataclass(frozen=True)
class Entry:
    """What eviction needs of one index row."""

    key: str
    bytes: int
    last_used: float
    opened: float | None
    """When somebody last opened it (None: only a search ever read it)."""
    search: str | None
    """The key of the search that trained it (None: a page or the command line did)."""
    score: float | None
    """Its validation loss (lower is better; None when not finite)."""


def standings(entries: Iterable[Entry], now: float) -> dict[str, str]:
    """Each run's standing by key: ``PINNED``, ``TOP``, ``EXTRA`` or ``PLAIN``."""
    entries = list(entries)
    found: dict[str, str] = {}
    unopened: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.opened is not None:
            recent = now - entry.opened <= PINNED_DAYS * 86400
            found[entry.key] = PINNED if recent else PLAIN
        elif entry.search is not None:
            unopened[entry.search].append(entry)
        else:
            found[entry.key] = PLAIN
    for group in unopened.values():
        for rank, entry in enumerate(sorted(group, key=_quality)):
            found[entry.key] = TOP if rank < SEARCH_TOP else EXTRA
    return found


def eviction_order(entries: Iterable[Entry], now: float) -> list[Entry]:
    """Every entry, the first to evict first (see the module's tiers)."""
    entries = list(entries)
    standing = standings(entries, now)

    def order(entry: Entry) -> tuple:
        tier = _TIER[standing[entry.key]]
        if tier == 0:  # the worst score first, then the least recently used
            score, recency = _quality(entry)
            return (tier, -score, -recency, entry.key)
        when = (entry.opened or 0.0) if tier == 2 else entry.last_used
        return (tier, when, 0.0, entry.key)

    return sorted(entries, key=order)


def to_evict(entries: Iterable[Entry], max_bytes: int, now: float) -> list[Entry]:
    """The entries to drop, in order, to bring their total within ``max_bytes``."""
    entries = list(entries)
    total = sum(entry.bytes for entry in entries)
    dropped = []
    for entry in eviction_order(entries, now):
        if total <= max_bytes:
            break
        dropped.append(entry)
        total -= entry.bytes
    return dropped


def _quality(entry: Entry) -> tuple[float, float]:
    """Best first: lower validation loss, then more recently used (no score is worst)."""
    score = entry.score if entry.score is not None and math.isfinite(entry.score) else math.inf
    return (score, -entry.last_used)

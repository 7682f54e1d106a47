"""What the run store's index holds of a run, and how it is put back in step with the run
files after a writer died between writing a body and committing its row (``repair``).

No Streamlit, no store object: ``store.RunStore`` opens the connections."""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import summary
from .config import Config
from .identity import run_key
from .run import Run, RunFormatError

STORED_STATUSES = ("finished", "stopped", "diverged")
"""Stored when whole for its Config: a stopped run is the run of its first k steps
(``until``); an older file's stopped run, short of its Config, is partial and is not."""


def storable(run: Run) -> bool:
    """Whether the store keeps ``run`` under its Config's key: whole for that Config, or
    diverged (its steps past the blow-up would only repeat it)."""
    return run.status in STORED_STATUSES and (
        run.status == "diverged" or run.steps_done == run.config.total_steps)


STALE_SECONDS = 3600.0
"""A temporary file older than this is a dead writer's (deleted on open and by ``gc``)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL,
    query TEXT NOT NULL,
    summary TEXT NOT NULL
    -- and store_upgrade.ADDED_COLUMNS
);
CREATE TABLE IF NOT EXISTS searches (
    key TEXT PRIMARY KEY,
    updated REAL NOT NULL,
    record TEXT NOT NULL
)"""


@dataclass(frozen=True)
class StoredRun:
    """One index row: what lists and filters show without reading the run itself."""
    key: str
    query: str
    bytes: int
    created: float
    last_used: float
    summary: dict
    opened: float | None = None
    """When somebody last opened it (None: only a search read it)."""
    kept: str = ""
    """Its standing for eviction (``store_policy``: pinned, search top, goes first)."""
    search: str | None = None
    """The key of the search that first trained it (None: a page trained it)."""

    @property
    def config(self) -> Config:
        return Config.from_dict(self.summary["config"])


def summarize(run: Run, metrics: dict | None = None) -> dict:
    """The index's summary of a run: settings, status, losses, its warnings and the
    numbers a sweep or search ranks by (``metrics``, ``summary.summarize``'s, passed in
    when the caller has them: read later without reading the run)."""
    metrics = {k: (v.item() if isinstance(v, np.generic) else v)
               for k, v in (metrics or summary.summarize(run)).items()}
    findings = [name for name in metrics["findings"].split("; ") if name]
    return {"config": run.config.to_dict(), "status": run.status,
            "steps_done": run.steps_done, "elapsed": run.elapsed,
            "final": {k: v for k, v in run.final.items() if np.isfinite(v)},
            "findings": findings, "words": len(run.words) if run.words else 0,
            "metrics": metrics}


def score(summarized: dict) -> float | None:
    """What a search ranks a run by (validation loss), None when not finite."""
    value = summarized["metrics"].get("val_loss")
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None


def repair(db: sqlite3.Connection, root: Path, older_than: float) -> dict[str, int]:
    """Put the index ``db`` and the files of the store at ``root`` back in step (see
    ``RunStore.repair``); what was found, by kind."""
    found = {"missing bodies": 0, "indexed again": 0, "orphan files": 0}
    db.execute("BEGIN IMMEDIATE")
    rows = db.execute("SELECT key, path FROM runs").fetchall()
    for key, path in rows:
        if not (root / path).exists():
            db.execute("DELETE FROM runs WHERE key = ?", (key,))
            found["missing bodies"] += 1
    named = {path for _, path in rows}
    for body in sorted((root / "runs").glob("*/*")):
        relative = body.relative_to(root).as_posix()
        if relative in named:
            continue
        row = _index_row(body, relative)
        if row is not None and db.execute(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row).rowcount:
            found["indexed again"] += 1
        else:
            body.unlink(missing_ok=True)
            found["orphan files"] += 1
    found["stale temporary files"] = 0
    for leftover in (root / "tmp").iterdir():
        if time.time() - leftover.stat().st_mtime > older_than:
            leftover.unlink(missing_ok=True)
            found["stale temporary files"] += 1
    return found


def _index_row(body: Path, relative: str) -> tuple | None:
    """The index row of a run file no row names, or None when it is no whole stored run
    (a stray file, a partial run, another key's duplicate)."""
    try:
        data = body.read_bytes()
        run = Run.from_json(gzip.decompress(data))
    except (OSError, EOFError, zlib.error, RunFormatError, ValueError):
        return None
    key = run_key(run.config, run.words)
    if run.status not in STORED_STATUSES or body.name != f"{key}.json.gz":
        return None
    summarized = summarize(run)
    when = body.stat().st_mtime
    return (key, relative, len(data), when, when, run.config.to_query(),
            json.dumps(summarized), None, None, score(summarized))

"""Bringing a run store written by an older version up to date when it is opened, so every
link handed out keeps opening its run: keys re-computed (``KEYS_VERSION``) and the columns
eviction ranks by added (``ADDED_COLUMNS``). One process upgrades, under the write lock;
the others then find it done."""

from __future__ import annotations

import gzip
import json
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

from .config import Config
from .identity import run_key
from .run import Run

KEYS_VERSION = 2
"""The index's key scheme (SQLite's user_version): 2 = ``identity.run_key``."""
ADDED_COLUMNS = (("opened", "REAL"), ("search", "TEXT"), ("score", "REAL"))
"""Columns of ``runs`` that eviction ranks by (``store_policy.Entry``); in an older store
every row counts as opened when it was last used (nothing it kept is demoted)."""


def upgrade(db: sqlite3.Connection, root: Path, report: Callable[[str], None]) -> None:
    """Upgrade the index ``db`` of the store at ``root`` in one transaction; ``report``
    says what could not be kept."""
    db.execute("BEGIN IMMEDIATE")
    if db.execute("PRAGMA user_version").fetchone()[0] < KEYS_VERSION:
        _rekey(db, root, report)
        db.execute(f"PRAGMA user_version = {KEYS_VERSION}")
    have = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for name, kind in ADDED_COLUMNS:
        if name not in have:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    if "opened" not in have:
        db.execute("UPDATE runs SET opened = last_used")


def _rekey(db: sqlite3.Connection, root: Path, report: Callable[[str], None]) -> None:
    """Re-key the rows of a store written before keys were ``identity.run_key`` (they
    hashed the whole Config, NumPy's version and the file format): each row takes the key
    its Config and word list have now, so its links keep opening it."""
    for key, path, text in db.execute("SELECT key, path, summary FROM runs").fetchall():
        try:
            config = Config.from_dict(json.loads(text)["config"])
            words = (Run.from_json(gzip.decompress((root / path).read_bytes())).words
                     if config.task == "words" else None)
        except (ValueError, KeyError, OSError, EOFError, zlib.error) as err:
            report(f"stored run {key} could not be re-keyed and was dropped: {err}")
            db.execute("DELETE FROM runs WHERE key = ?", (key,))
            continue
        new = run_key(config, words)
        if new != key:
            db.execute("DELETE FROM runs WHERE key = ?", (new,))
            db.execute("UPDATE runs SET key = ? WHERE key = ?", (new, key))

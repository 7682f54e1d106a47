"""A run's one identity: the key the run store files it under, the session holds it by, and
the caches and charts are keyed on.

It names only what makes the run's numbers: the settings that differ from their defaults,
the word list (task ``words``), the engine's ``NUMBERS_VERSION``, the activation's own
``revision`` and, for a long run, ``LONG_RUN_REVISION``. So a setting added with a default
leaves every existing key (and every link handed out) valid, and neither a NumPy upgrade
nor a new run-file format orphans a stored run: old formats are read and migrated,
NumPy's version is recorded in the run and shown.
Changing a default changes what a link that leaves it out trains: that is a change of
numbers, and bumps ``NUMBERS_VERSION``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from .config import Config
from .engine import LONG_RUN_REVISION, LONG_RUN_STEPS, NUMBERS_VERSION
from .parts.activations import ACTIVATIONS


def words_digest(words: Sequence[str] | None) -> str | None:
    return hashlib.sha256("\n".join(words).encode()).hexdigest() if words else None


def run_key(config: Config, words: Sequence[str] | None = None) -> str:
    """The key of the run that ``config`` (and ``words``, for task ``words``) trains."""
    identity = {"changed": config.changed(), "words": words_digest(words),
                "numbers": NUMBERS_VERSION}
    revision = ACTIVATIONS[config.act].revision
    if revision:
        identity["act_revision"] = revision
    if config.steps > LONG_RUN_STEPS:
        identity["long_revision"] = LONG_RUN_REVISION
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]

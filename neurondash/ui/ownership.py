"""Who sees which stored runs, on a server without accounts.

A stored run is readable by anyone with its link (the key is content-addressed: the link
*is* the run). Listing and deleting are another matter: a visitor's Runs view lists the
runs their own session trained or opened, and only the operator deletes. The operator
enables the dashboard's deletion and whole-store list with ``NEURONDASH_ADMIN=1`` (an
instance the operator keeps to themselves); ``python -m neurondash runs delete`` is the
operator's tool either way. A run trained on an uploaded word list is listed to nobody but
the session that made it, whatever the setting: its settings and size would describe
another visitor's private list.

No Streamlit here: the view (``views.runs``) asks these questions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..store import StoredRun

ADMIN_ENV = "NEURONDASH_ADMIN"
"""Set to 1 (or true, yes, on) to give this dashboard process the operator's Runs view."""
_ON = {"1", "true", "yes", "on"}


def admin_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the operator enabled deletion and the whole-store list for this server."""
    value = (os.environ if environ is None else environ).get(ADMIN_ENV, "")
    return value.strip().lower() in _ON


def private(row: StoredRun) -> bool:
    """A run of an uploaded word list: never listed to another session."""
    return row.summary.get("config", {}).get("task") == "words"


@dataclass(frozen=True)
class Listing:
    """The rows a session may see, and what it is not shown (to say so, not what)."""

    rows: list[StoredRun]
    others: int
    """Stored runs not listed because another session made them."""
    private_hidden: int
    """Of those, runs of another session's word list (hidden even from the whole store)."""


def listing(rows: Iterable[StoredRun], own: set[str], whole_store: bool = False) -> Listing:
    """The stored ``rows`` this session may list: its ``own`` runs, or with ``whole_store``
    (the operator's switch) every run but another session's word-list runs."""
    shown, others, hidden = [], 0, 0
    for row in rows:
        if row.key in own or (whole_store and not private(row)):
            shown.append(row)
        else:
            others += 1
            hidden += private(row)
    return Listing(shown, others, hidden)

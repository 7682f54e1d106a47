"""The Runs view's table: the run store's rows as a user reads and sorts them."""

from __future__ import annotations

import numpy as np
import pandas as pd

RUN_SORTS = {"last used": ("last_used", False), "validation loss": ("val_loss", True),
             "training loss": ("train_loss", True), "training time (s)": ("seconds", False)}
"""Sort choices of the Runs view: column and ascending."""


def runs_frame(rows: list, text: str = "", sort: str = "last used") -> pd.DataFrame:
    """The run store's rows (``store.StoredRun``) as the Runs view's table: settings that
    differ from the defaults (the link), status, losses, warnings, cost (seconds, examples
    seen), what eviction keeps (``store_policy``): every run of every search, ranked across
    searches; only rows whose link, status or findings contain ``text`` (case-insensitive),
    sorted by ``RUN_SORTS[sort]``."""
    records = []
    for row in rows:
        final = row.summary["final"]
        records.append({
            "key": row.key, "settings": row.query or "(defaults)",
            "status": row.summary["status"], "steps": row.summary["steps_done"],
            "val_loss": final.get("val_loss", np.nan),
            "train_loss": final.get("train_loss", np.nan),
            "findings": ", ".join(row.summary["findings"]) or "healthy",
            "seconds": row.summary["elapsed"],
            "examples": row.summary["steps_done"] * row.summary["config"]["batch"],
            "last_used": pd.Timestamp(row.last_used, unit="s"), "kept": row.kept,
        })
    # What eviction keeps and when it was last used come early: at the end they were off
    # a 1400-px page's table, behind the findings.
    columns = ["key", "settings", "status", "kept", "last_used", "steps", "val_loss",
               "train_loss", "findings", "seconds", "examples"]
    table = pd.DataFrame(records, columns=columns)
    needle = text.strip().lower()
    if needle:
        haystack = (table["settings"] + " " + table["status"] + " " + table["findings"])
        table = table[haystack.str.lower().str.contains(needle, regex=False)]
    column, ascending = RUN_SORTS[sort]
    return table.sort_values(column, ascending=ascending, na_position="last",
                             kind="stable").reset_index(drop=True)

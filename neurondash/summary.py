"""The numbers that rank and compare runs: one flat summary per Run, the same in sweeps,
searches, Compare and the run store's index (so a search reads it without the run)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .diagnosis import diagnose
from .run import Run

SUMMARY_COLUMNS = ["initial_loss", "expected_initial_loss", "train_loss", "val_loss",
                   "val_acc", "saturation_init_pct", "saturation_final_pct", "dead_units",
                   "update_data", "status", "diverged_step", "seconds", "examples",
                   "findings", "query"]


def summarize(run: Run) -> dict[str, Any]:
    """The numbers a sweep compares (all derived from the Run's records), what the run cost
    (training seconds, examples seen) and its warnings."""
    layers = run.layers
    first = layers[layers["step"] == 0] if len(layers) else layers
    last = layers[layers["step"] == layers["step"].max()] if len(layers) else layers
    update_data = run.typical_update_data()
    return {
        "initial_loss": run.initial_loss,
        "expected_initial_loss": run.expected_initial_loss,
        "train_loss": run.final.get("train_loss", np.nan),
        "val_loss": run.final.get("val_loss", np.nan),
        "val_acc": run.final.get("val_acc", np.nan),
        "saturation_init_pct": float(first["saturated_pct"].mean()) if len(first) else 0.0,
        "saturation_final_pct": float(last["saturated_pct"].mean()) if len(last) else 0.0,
        "dead_units": (sum(run.dead_units.values()) if run.dead_units is not None
                       else np.nan),
        "update_data": update_data if update_data is not None else np.nan,
        "status": run.status,
        "diverged_step": run.diverged_step if run.diverged_step is not None else -1,
        "seconds": run.elapsed,
        "examples": run.steps_done * run.config.batch,
        "findings": "; ".join(f.lesson for f in diagnose(run) if f.level in ("error",
                                                                               "warning")),
        "query": run.config.to_query(),
    }

"""A search's results as tables: one row per run (``search_frame``), one per trial ranked
best first (``leaderboard``), the trials that were skipped (``skipped_frame``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..summary import SUMMARY_COLUMNS
from .spec import SearchSpec


def skipped_frame(spec: SearchSpec) -> pd.DataFrame:
    """The trials that were not run, with the setting and the reason."""
    rows = [{"trial": t.index, **t.values, "skipped": t.skipped}
            for t in spec.trial_list() if t.config is None]
    return pd.DataFrame(rows, columns=["trial", *spec.searched, "skipped"])


def trial_scores(runs: list, results: dict[int, dict], metric: str = "val_loss"
                 ) -> dict[int, float]:
    """Each trial's mean ``metric`` over its finished repeats (inf for a diverged one)."""
    values: dict[int, list[float]] = {}
    for i, (trial, _, _) in enumerate(runs):
        if i in results:
            value = results[i].get(metric, math.nan)
            values.setdefault(trial, []).append(
                value if results[i].get("status") == "finished" and math.isfinite(value)
                else math.inf)
    return {trial: float(np.mean(v)) for trial, v in values.items()}


def search_frame(spec: SearchSpec, runs: list, results: dict[int, dict]) -> pd.DataFrame:
    """One row per run: trial, repeat, the searched settings, the run's summary; runs the
    budget or a stop left out are marked 'not run'."""
    rows = []
    for i, (trial, repeat, config) in enumerate(runs):
        row = {"trial": trial, "repeat": repeat, "seed": config.seed,
               **{name: getattr(config, name) for name in spec.searched if name != "seed"}}
        row.update(results.get(i, {"status": "not run", "query": config.to_query()}))
        rows.append(row)
    searched = [name for name in spec.searched if name != "seed"]
    return pd.DataFrame(rows, columns=["trial", "repeat", "seed", *searched,
                                       *SUMMARY_COLUMNS])


def leaderboard(frame: pd.DataFrame, searched: list[str], metric: str = "val_loss",
                ascending: bool = True) -> pd.DataFrame:
    """One row per trial that ran: the metric's mean and sd over its repeats, seconds and
    examples, sorted best first. ``vs_best`` says whether a trial's gap to the best is
    larger than the seed spread (the larger of the two trials' sd): a smaller gap is noise
    as far as these repeats can tell."""
    done = frame[frame["status"].isin(("finished", "diverged"))]
    if done.empty:
        return pd.DataFrame(columns=["trial", *searched, metric, f"{metric}_sd", "repeats",
                                     "seconds", "examples", "vs_best", "findings", "query"])
    first = done.sort_values("repeat").groupby("trial").first()
    grouped = done.groupby("trial")
    board = pd.DataFrame({
        **{name: first[name] for name in searched if name in first},
        metric: grouped[metric].mean(),
        f"{metric}_sd": grouped[metric].std(ddof=1),
        "repeats": grouped.size(),
        "seconds": grouped["seconds"].sum(),
        "examples": grouped["examples"].sum(),
        "findings": first["findings"],
        "query": first["query"],
    }).reset_index()
    board = board.sort_values(metric, ascending=ascending, na_position="last",
                              kind="stable").reset_index(drop=True)
    best, best_sd = board[metric].iloc[0], board[f"{metric}_sd"].iloc[0]
    spread = np.fmax(board[f"{metric}_sd"].to_numpy(), best_sd)
    gap = (board[metric] - best).abs().to_numpy()
    board["vs_best"] = np.where(
        board.index == 0, "best",
        np.where(np.isnan(spread), "no repeats",
                 np.where(gap <= spread, "within seed spread", "worse")))
    return board

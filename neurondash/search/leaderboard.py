"""A search's results as tables: one row per trial and seed (``search_frame``), one per
trial ranked best first (``leaderboard``), the trials that were skipped (``skipped_frame``),
what mattered (``importance_frame``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import Config
from ..summary import SUMMARY_COLUMNS
from .spec import SearchSpec
from .study import importances, trial_value


def skipped_frame(spec: SearchSpec, log) -> pd.DataFrame:
    """The trials that were not run, with the setting and the reason."""
    rows = [{"trial": t.index, **t.values, "skipped": t.skipped} for t in log.skipped]
    return pd.DataFrame(rows, columns=["trial", *spec.searched, "skipped"])


def search_frame(spec: SearchSpec, log) -> pd.DataFrame:
    """One row per trial and seed, at the furthest rung it reached: trial, repeat, the
    searched settings, the steps it trained of its run's (``trained``, with the rung), where
    it came from, and the run's summary; a run the budget or a stop left out is 'not run'."""
    furthest: dict[tuple[int, int], int] = {}
    planned_rung: dict[int, int] = {}
    for i, planned in enumerate(log.runs):
        key = (planned.trial, planned.repeat)
        if i in log.results or key not in furthest:
            furthest[key] = i
        planned_rung[planned.trial] = max(planned.rung, planned_rung.get(planned.trial, 0))
    rows = []
    searched = [name for name in spec.searched if name != "seed"]
    for (trial, repeat), i in sorted(furthest.items()):
        planned = log.runs[i]
        config = planned.config
        row = {"trial": trial, "repeat": repeat, "seed": config.seed,
               **{name: _drawn(spec, config, name) for name in searched},
               "rung": planned.rung, "trained": config.total_steps,
               "of_steps": config.steps + config.more, "origin": planned.origin,
               # Promoted to a longer rung that a stop or the budget left unrun: cut short,
               # not pruned.
               "cut": planned.rung < planned_rung[trial]}
        row.update(log.results.get(i, {"status": "not run", "query": config.to_query()}))
        rows.append(row)
    return pd.DataFrame(rows, columns=["trial", "repeat", "seed", *searched, "rung",
                                       "trained", "of_steps", "origin", "cut",
                                       *SUMMARY_COLUMNS])


def _drawn(spec: SearchSpec, config: Config, name: str):
    """The value a trial drew for ``name``; blank (NaN, or None for a word) where its
    range's condition kept it from drawing one (``wd ... if opt=adamw`` in an sgd trial
    ran at wd's default, 0, a value outside the range the search drew from)."""
    for searched in spec.ranges:
        if searched.name == name and searched.when is not None:
            setting, allowed = searched.when
            if getattr(config, setting) not in allowed:
                return math.nan if isinstance(getattr(config, name), int | float) else None
    return getattr(config, name)


def leaderboard(frame: pd.DataFrame, searched: list[str], metric: str = "val_loss",
                ascending: bool = True) -> pd.DataFrame:
    """One row per trial that ran: the metric's mean and sd over its repeats, seconds and
    examples, sorted best first. ``vs_best`` says whether a trial's gap to the best is
    larger than the seed spread (the larger of the two trials' sd): a smaller gap is noise
    as far as these repeats can tell. ``whole`` says whether the trial ran to its full
    length or diverged (``ended``) on every seed it asked for (``frame``'s 'not run' rows
    are seeds left unrun); the rest are ranked after the whole ones."""
    done = frame[frame["status"].isin(("finished", "diverged"))]
    if done.empty:
        return pd.DataFrame(columns=["trial", *searched, metric, f"{metric}_sd", "repeats",
                                     "trained", "origin", "seconds", "examples", "vs_best",
                                     "findings", "query"])
    first = done.sort_values("repeat").groupby("trial").first()
    grouped = done.groupby("trial")
    # Seeds a stop or the budget left unrun ('not run' rows): the mean of the others is
    # not the trial's, so it does not compete with whole trials for best.
    asked = frame.groupby("trial").size().reindex(first.index)
    # A trial that diverged on any of its seeds diverged: its mean over the others alone
    # read as a healthy trial (the sampler counts such a seed as the uniform guess).
    diverged = grouped["status"].agg(lambda status: int((status == "diverged").sum()))
    repeats = grouped.size()
    said = [f"Diverged on {count} of {total} seeds; the first seed's findings: {findings}"
            if count and first_status != "diverged" else findings
            for count, total, first_status, findings in zip(
                diverged, repeats, first["status"], first["findings"], strict=True)]
    board = pd.DataFrame({
        **{name: first[name] for name in searched if name in first},
        metric: grouped[metric].mean().where(diverged == 0),
        f"{metric}_sd": grouped[metric].std(ddof=1).where(diverged == 0),
        "repeats": repeats,
        "seconds": grouped["seconds"].sum(),
        "examples": grouped["examples"].sum(),
        "findings": pd.Series(said, index=first.index),
        "query": first["query"],
        "whole": ended(first) & (repeats == asked),
        "trained": [trained_text(done, total, cut, status, step) + (
                        f"; {ran} of {seeds} seeds" if ran < seeds else "")
                    for done, total, cut, status, step, ran, seeds in zip(
                        first["trained"], first["of_steps"],
                        first.get("cut", [False] * len(first)), first["status"],
                        first.get("diverged_step", [-1] * len(first)), repeats, asked,
                        strict=True)],
        "seeds_missing": repeats < asked,
        "origin": first["origin"],
        "cut": first.get("cut", False),
    }).reset_index()
    # Trials stopped at an early rung were measured on fewer steps: ranked after the whole.
    board = board.sort_values(["whole", metric], ascending=[False, ascending],
                              na_position="last", kind="stable").reset_index(drop=True)
    cut = board.pop("cut").astype(bool).to_numpy()
    missing = board.pop("seeds_missing").astype(bool).to_numpy()
    best, best_sd = board[metric].iloc[0], board[f"{metric}_sd"].iloc[0]
    spread = np.fmax(board[f"{metric}_sd"].to_numpy(), best_sd)
    gap = (board[metric] - best).abs().to_numpy()
    board["vs_best"] = np.where(
        board.index == 0, "best",
        np.where(~board["whole"],
                 np.where(missing, "seeds not all run",
                          np.where(cut, "cut short (not run on)", "stopped early")),
                 np.where(np.isnan(spread), "no repeats",
                          np.where(gap <= spread, "within seed spread", "worse"))))
    return board


def ended(frame: pd.DataFrame) -> pd.Series:
    """Which rows ran their whole length, or diverged: a diverged run is final at any rung
    (no rung continues it), and the charts across settings draw it at the uniform guess,
    where 'relu diverges above lr 0.6' shows."""
    return (frame["trained"] >= frame["of_steps"]) | (frame["status"] == "diverged")


def trained_text(done: int, total: int, cut: bool, status: str, diverged_step: int) -> str:
    """The leaderboard's "trained" cell: all of the trial's steps, the rung it stopped at,
    or where it diverged (a diverged run stops there, whatever its rung planned)."""
    if status == "diverged" and 0 <= diverged_step < done:
        return f"diverged at {diverged_step:,} of {total:,}"
    if done >= total:
        return f"all {total:,}"
    return f"{done:,} of {total:,}" + (", cut short" if cut else "")


IMPORTANCE_TRIALS = 10
"""Whole trials below which the importances are not drawn: a forest fitted to a handful of
points splits on whichever setting happened to differ (2 trials gave init_scale 50%)."""


def importance_frame(spec: SearchSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Each searched setting's importance (its share of the variance of the whole trials'
    validation loss, by fANOVA), most important first. With repeats, ``noise`` is the share
    the seed spread alone would explain (the repeats' variance over the trials' count of
    repeats, against the variance of the trials' means): an importance below it is marked
    'within seed noise', since these trials cannot tell it from chance."""
    whole = frame[ended(frame) & frame["status"].isin(("finished", "diverged"))]
    columns = ["setting", "importance", "noise", "verdict", "trials"]
    if whole.empty:
        return pd.DataFrame(columns=columns)
    trials, per_trial = [], []
    for _, rows in whole.groupby("trial"):
        summaries = rows.to_dict("records")
        first = rows.sort_values("repeat").iloc[0]
        trials.append((Config.from_query(str(first["query"]))[0], trial_value(summaries)))
        per_trial.append([trial_value([s]) for s in summaries])
    found = importances(spec, trials)
    if not found:
        return pd.DataFrame(columns=columns)
    noise = math.nan
    repeated = [values for values in per_trial if len(values) > 1]
    spread = float(np.var([value for _, value in trials]))
    if repeated and spread > 0:
        within = float(np.mean([np.var(values, ddof=1) / len(values) for values in repeated]))
        noise = min(1.0, within / spread)
    table = pd.DataFrame({"setting": list(found), "importance": list(found.values())})
    table["noise"] = noise
    table["trials"] = len(trials)
    table["verdict"] = np.where(np.isnan(noise), "no repeats to judge noise",
                                np.where(table["importance"] < noise, "within seed noise",
                                         "above seed noise"))
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(
        drop=True)

"""A search's spec: the base Config and its ranges, the trials they draw (random, grid, or
the adaptive rounds drawn from results), the repeats of each trial and the budget's plan."""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import SETTINGS_BY_NAME, Config, ConfigError, spell_value
from ..cost import estimate_seconds
from .space import LR_RANGES, Range, SearchError, typed_value

MAX_SEARCHED = 8
MAX_TRIALS = 500
MAX_REPEATS = 10
METHODS = {
    "adaptive": "random draws for the first third of the trials, then rounds that move one or "
                "two settings of the best trials so far to a neighbouring value (coordinate "
                "descent, as done by hand)",
    "random": "every trial drawn at random from the ranges",
    "grid": "every combination of the values",
}
DRAW_ATTEMPTS = 20
"""Draws per trial before a small space counts as exhausted (no trial is run twice)."""
ROUND_SIZE = 8
"""Trials per adaptive round: two neighbours of each of the best ``PARENTS`` trials."""
PARENTS = 4


def _identity(values: dict[str, Any]) -> tuple:
    return tuple(sorted(values.items()))


@dataclass(frozen=True)
class Trial:
    """One drawn point of the search: its Config, or why it was skipped."""

    index: int
    values: dict[str, Any]
    config: Config | None
    skipped: str | None = None


@dataclass(frozen=True)
class SearchSpec:
    """A base Config, the ranges to search, and how many trials, repeats and seconds."""

    base: Config
    ranges: tuple[Range, ...]
    trials: int = 20
    repeats: int = 1
    method: str = "random"
    seed: int = 0
    budget_seconds: float | None = None

    def __post_init__(self) -> None:
        names = [r.name for r in self.ranges]
        if not 1 <= len(names) <= MAX_SEARCHED:
            raise SearchError(f"search 1 to {MAX_SEARCHED} settings at once (got {len(names)})")
        if len(set(names)) != len(names):
            raise SearchError("a setting is given twice: " + ", ".join(
                sorted({n for n in names if names.count(n) > 1})))
        if self.method not in METHODS:
            raise SearchError(f"method {self.method!r}: one of " + ", ".join(METHODS))
        if not 1 <= self.trials <= MAX_TRIALS:
            raise SearchError(f"trials={self.trials}: 1 to {MAX_TRIALS}")
        if not 1 <= self.repeats <= MAX_REPEATS:
            raise SearchError(f"repeats={self.repeats}: 1 to {MAX_REPEATS}")
        if self.budget_seconds is not None and not self.budget_seconds > 0:
            raise SearchError(f"budget={self.budget_seconds}: a positive number of seconds")
        for searched in self.ranges:
            if searched.when is not None and searched.when[0] == searched.name:
                raise SearchError(f"{searched.spell()}: a setting cannot depend on itself")
        unsearched = {name: SETTINGS_BY_NAME[name].default for name in names
                      if name in SETTINGS_BY_NAME}
        try:
            object.__setattr__(self, "base", self.base.replace(more=0, **unsearched))
        except ConfigError as err:
            raise SearchError(f"the base settings with the searched ones at their defaults "
                              f"are invalid: {err}") from None
        self.trial_list()  # a grid too large to run is refused now

    @functools.cached_property
    def explore_count(self) -> int:
        """Trials drawn at random before any is chosen from results: a third of the trials
        the search can run (``trials``, or fewer when the budget affords fewer), so that a
        budget never runs out before the adaptive rounds."""
        if self.method == "adaptive":
            return min(self.trials, max(PARENTS, math.ceil(self.affordable_trials / 3)))
        return self.trials

    @functools.cached_property
    def affordable_trials(self) -> int:
        """Trials that fit in the budget at the cost model's estimate (serial, rounded up:
        workers in parallel fit more), judged on the first third of the random draws;
        ``trials`` without a budget."""
        if not self.budget_seconds or self.method == "grid":
            return self.trials
        sample = [self._trial(i, v).config
                  for i, v in enumerate(self._random_draws(math.ceil(self.trials / 3)))]
        seconds = [estimate_seconds(c) * self.repeats for c in sample if c is not None]
        if not seconds:
            return self.trials
        return max(1, min(self.trials, int(self.budget_seconds / np.mean(seconds))))

    def plan(self) -> str:
        """How trials and the budget combine, said before the search runs."""
        limit = (f"up to {self.trials} trials or {self.budget_seconds:g} s, whichever comes "
                 "first" if self.budget_seconds else f"{self.trials} trials")
        if self.method == "grid":
            limit = (f"{len(self.trial_list())} combinations" + (
                f" or {self.budget_seconds:g} s, whichever comes first"
                if self.budget_seconds else ""))
        seeds = f", each with {self.repeats} seeds" if self.repeats > 1 else ""
        text = f"{self.method.capitalize()} search: {limit}{seeds}"
        if self.method == "adaptive" and self.trials > self.explore_count:
            text += (f"; the adaptive rounds (of {ROUND_SIZE}, each moving the best trials "
                     f"so far) start after {self.explore_count} random trials")
        if self.budget_seconds and self.affordable_trials < self.trials:
            text += (f". The budget affords about {self.affordable_trials} trials at the "
                     "estimated run time, so the random phase was sized to a third of those")
        return text + "."

    @property
    def searched(self) -> list[str]:
        return [r.name for r in self.ranges]

    def trial_list(self) -> list[Trial]:
        """Every trial, skipped ones included, in the order they run."""
        return list(self._drawn)

    @functools.cached_property
    def _drawn(self) -> tuple[Trial, ...]:
        return tuple(self._draw())

    def _ordered(self) -> list[Range]:
        """Ranges that others depend on (opt for lr=auto, a condition's setting) first."""
        needed = {r.when[0] for r in self.ranges if r.when} | (
            {"opt"} if any(r.kind == "auto" for r in self.ranges) else set())
        return sorted(self.ranges, key=lambda r: r.name not in needed)

    def _draw(self) -> list[Trial]:
        ordered = self._ordered()
        if self.method == "grid":
            combos = list(itertools.product(*(r.grid() for r in ordered)))
            if len(combos) > MAX_TRIALS:
                raise SearchError(f"the grid has {len(combos)} combinations; at most "
                                  f"{MAX_TRIALS}")
            drawn = [dict(zip([r.name for r in ordered], combo, strict=True))
                     for combo in combos]
            drawn = [{k: v for k, v in d.items()
                      if next(r for r in ordered if r.name == k).applies(d, self.base)}
                     for d in drawn]
            drawn = list({tuple(sorted(d.items())): d for d in drawn}.values())
        else:
            drawn = self._random_draws(self.explore_count)
        return [self._trial(i, values) for i, values in enumerate(drawn)]

    def _random_draws(self, count: int) -> list[dict[str, Any]]:
        """The first ``count`` random trials' values (fewer if a small space runs out)."""
        ordered, drawn, seen = self._ordered(), [], set()
        for index in range(count):
            rng = np.random.default_rng([self.seed, index])
            for _ in range(DRAW_ATTEMPTS):  # a trial already drawn is drawn again
                values: dict[str, Any] = {}
                for searched in ordered:
                    if searched.applies(values, self.base):
                        values[searched.name] = searched.draw(rng, values, self.base)
                if _identity(values) not in seen:
                    seen.add(_identity(values))
                    drawn.append(values)
                    break
        return drawn

    def _trial(self, index: int, values: dict[str, Any]) -> Trial:
        try:
            config = self.base.replace(more=0, **values)
        except ConfigError as err:
            return Trial(index, values, None, self._why(values, err))
        return Trial(index, values, config)

    def refine(self, round_no: int, tried: list[Trial],
               scores: dict[int, float]) -> list[Trial]:
        """Round ``round_no`` of an adaptive search: up to ``ROUND_SIZE`` new trials, each a
        best trial so far with one or two searched settings moved to a neighbouring value.
        Deterministic: the same tried trials and scores give the same round."""
        ranked = sorted((i for i in scores if math.isfinite(scores[i])),
                        key=lambda i: (scores[i], i))[:PARENTS]
        if not ranked:
            return []
        by_index = {t.index: t for t in tried}
        seen = {_identity(t.values) for t in tried}
        rng = np.random.default_rng([self.seed, 1, round_no])
        ordered = self._ordered()
        room = min(ROUND_SIZE, self.trials - len(tried))
        made: list[Trial] = []
        for child in range(room):
            parent = by_index[ranked[child % len(ranked)]].values
            for _ in range(DRAW_ATTEMPTS):
                values = self._moved(parent, ordered, rng)
                if _identity(values) not in seen:
                    seen.add(_identity(values))
                    made.append(self._trial(len(tried) + len(made), values))
                    break
        return made

    def _moved(self, parent: dict[str, Any], ordered: list[Range],
               rng: np.random.Generator) -> dict[str, Any]:
        names = [r.name for r in ordered if r.name in parent]
        moving = set(rng.choice(names, size=min(len(names), 1 + int(rng.random() < 0.5)),
                                replace=False))
        values: dict[str, Any] = {}
        for searched in ordered:
            if not searched.applies(values, self.base):
                continue
            old = parent.get(searched.name)
            if old is None:  # its condition holds only now: a fresh draw
                values[searched.name] = searched.draw(rng, values, self.base)
            elif searched.name in moving:
                values[searched.name] = searched.neighbour(old, rng, values, self.base)
            elif searched.kind == "auto":  # the optimizer moved: keep lr inside its range
                low, high = LR_RANGES[values.get("opt", self.base.opt)]
                values[searched.name] = typed_value(searched.name, min(max(old, low), high))
            else:
                values[searched.name] = old
        return values

    def _why(self, values: dict[str, Any], err: ConfigError) -> str:
        """Name the drawn settings that broke the rule, not the field the rule reports (a
        model too big for the work cap is reported on ``steps``, the width broke it): each
        drawn value that, put back to the base's, makes the trial valid."""
        culprits = []
        for name in values:
            try:
                self.base.replace(more=0, **{**values, name: getattr(self.base, name)})
            except ConfigError:
                continue
            culprits.append(f"{name}={spell_value(values[name])}")
        blamed = " or ".join(culprits) if culprits else (
            ", ".join(f"{k}={spell_value(v)}" for k, v in values.items()) + " together")
        return f"{blamed} breaks a rule: {err.allowed}"

    def runs(self) -> list[tuple[int, int, Config]]:
        """(trial, repeat, Config) of every run drawn before any result (an adaptive
        search's later rounds follow from results: ``run_search``)."""
        return self.runs_of(self._drawn)

    def runs_of(self, trials) -> list[tuple[int, int, Config]]:
        """(trial, repeat, Config) of each trial's runs, trials in order, repeats together.

        Repeat 0 is the trial's own Config (its link as it is); repeat r trains seed + r on
        repeat 0's data split, so the spread of a trial is init and batch noise only."""
        out = []
        for trial in trials:
            if trial.config is None:
                continue
            config = trial.config
            for repeat in range(self.repeats):
                if repeat == 0:
                    out.append((trial.index, 0, config))
                    continue
                seed = (config.seed + repeat) % (SETTINGS_BY_NAME["seed"].high + 1)
                out.append((trial.index, repeat,
                            config.replace(seed=seed, data_seed=config.split_seed)))
        return out

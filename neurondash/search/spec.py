"""A search's spec: the base Config and its ranges, the sampler that draws its trials, the
rungs each trial climbs, its repeats and its budget, and the plan said before it runs."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from ..config import SETTINGS_BY_NAME, Config, ConfigError, spell_value
from ..cost import estimate_seconds
from .space import LR_RANGES, Range, SearchError

MAX_SEARCHED = 8
MAX_TRIALS = 500
MAX_REPEATS = 10
MAX_RUNGS = 4
REDUCTION = 2
"""Successive halving's factor: each rung trains 2x the steps of the one below and keeps
about half of the trials that reach it. Against plain TPE (benchmarks/search_vs_tpe.py,
3 rungs, 10 minutes, seeds 0-2), keeping a third had medians 1.9940 against 1.9804: it cut
trials at 1/9 of their steps that TPE went on to improve; keeping half, 1.9804 against
1.9899."""
KEPT = {2: "half", 3: "third", 4: "quarter"}[REDUCTION]
"""The share a rung keeps, in words."""


def rung_words(rungs: int) -> str:
    """What ``rungs`` lengths do, for help texts: 'with 3, each trial first trains 1/4 of
    its steps; the best half is continued 2x further, twice'."""
    times = {1: "once", 2: "twice"}.get(rungs - 1, f"{rungs - 1} times")
    return (f"with {rungs}, each trial first trains 1/{REDUCTION ** (rungs - 1)} of its "
            f"steps; the best {KEPT} is continued {REDUCTION}x further, {times}")
STARTUP_TRIALS = 10
"""TPE's random trials before it models the results (Optuna's default)."""
WARM_CANDIDATES = 128
"""Candidates TPE weighs per draw in a study whose start-up trials the store already made
(Optuna's default is 24): it takes the likeliest-good of more of them, so it refines the
region earlier searches found instead of exploring it again. Measured on three stores of
10-minute searches, a 5-minute search from each beat that store's best on 2 of 3 with it,
0 of 3 with the default."""
METHODS = {
    "tpe": "Optuna's TPE sampler (multivariate, conditions grouped): each trial drawn where "
           "the results so far are best, after 10 random ones",
    "random": "every trial drawn at random from the ranges",
    "grid": "every combination of the values",
    "cmaes": "Optuna's CMA-ES sampler, for ranges that are all continuous (no choices or "
             "conditions)",
}
WARM_METHODS = ("tpe", "cmaes")
"""Samplers that learn from results; random and grid draws ignore them, so a repeated grid
or random search reads its own stored runs instead."""
METHOD_NAMES = {"tpe": "TPE", "random": "Random", "grid": "Grid", "cmaes": "CMA-ES"}
"""Each method's name as the plan writes it."""


@dataclass(frozen=True)
class Trial:
    """One drawn point of the search: its Config, or why it was skipped."""

    index: int
    values: dict[str, Any]
    config: Config | None
    skipped: str | None = None


@dataclass(frozen=True)
class SearchSpec:
    """A base Config, the ranges to search, and how many trials, repeats, rungs and seconds."""

    base: Config
    ranges: tuple[Range, ...]
    trials: int = 20
    repeats: int = 1
    method: str = "tpe"
    seed: int = 0
    budget_seconds: float | None = None
    rungs: int = 1
    """Lengths each trial climbs: 1 trains every trial in full; more: see ``rung_words``."""

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
        if not 1 <= self.rungs <= MAX_RUNGS:
            raise SearchError(f"rungs={self.rungs}: 1 to {MAX_RUNGS}")
        if self.budget_seconds is not None and not self.budget_seconds > 0:
            raise SearchError(f"budget={self.budget_seconds}: a positive number of seconds")
        for searched in self.ranges:
            if searched.when is not None and searched.when[0] == searched.name:
                raise SearchError(f"{searched.spell()}: a setting cannot depend on itself")
        if self.method == "cmaes":
            discrete = [r.spell() for r in self.ranges
                        if r.kind == "choice" or r.when is not None]
            if discrete:
                raise SearchError("cmaes needs every searched setting continuous (uniform, "
                                  "loguniform or lr=auto, no conditions): not "
                                  + "; ".join(discrete))
        unsearched = {name: SETTINGS_BY_NAME[name].default for name in names}
        try:
            object.__setattr__(self, "base", self.base.replace(more=0, until=0, **unsearched))
        except ConfigError as err:
            raise SearchError(f"the base settings with the searched ones at their defaults "
                              f"are invalid: {err}") from None
        if self.method == "grid":
            self.grid_values()  # a grid too large to run is refused now

    @property
    def searched(self) -> list[str]:
        return [r.name for r in self.ranges]

    def ordered(self) -> list[Range]:
        """Ranges that others depend on (opt for lr=auto, a condition's setting) first."""
        needed = {r.when[0] for r in self.ranges if r.when} | (
            {"opt"} if any(r.kind == "auto" for r in self.ranges) else set())
        return sorted(self.ranges, key=lambda r: r.name not in needed)

    def sampler(self, warm: bool = False) -> optuna.samplers.BaseSampler:
        """The method's Optuna sampler, seeded: the same spec draws the same trials.
        ``warm``: the study starts from at least ``STARTUP_TRIALS`` stored trials, so TPE
        draws greedily at once (``WARM_CANDIDATES``)."""
        if self.method == "tpe":
            with warnings.catch_warnings():  # group= is marked experimental
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.samplers.TPESampler(
                    seed=self.seed, multivariate=True, group=True, constant_liar=True,
                    n_startup_trials=STARTUP_TRIALS,
                    **({"n_ei_candidates": WARM_CANDIDATES} if warm else {}))
        if self.method == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=self.seed)
        return optuna.samplers.RandomSampler(seed=self.seed)  # a grid's trials are enqueued

    def grid_values(self) -> list[dict[str, Any]]:
        """Every combination of a grid search's values (a conditional setting only where
        its condition holds), each once."""
        ordered = self.ordered()
        combos = list(itertools.product(*(r.grid() for r in ordered)))
        if len(combos) > MAX_TRIALS:
            raise SearchError(f"the grid has {len(combos)} combinations; at most {MAX_TRIALS}")
        drawn = [dict(zip([r.name for r in ordered], combo, strict=True)) for combo in combos]
        drawn = [{k: v for k, v in d.items()
                  if next(r for r in ordered if r.name == k).applies(d, self.base)}
                 for d in drawn]
        return list({tuple(sorted(d.items())): d for d in drawn}.values())

    @property
    def trial_count(self) -> int:
        """Trials the search asks for: every combination of a grid, else ``trials``."""
        return len(self.grid_values()) if self.method == "grid" else self.trials

    def trial(self, index: int, values: dict[str, Any]) -> Trial:
        """The drawn values as a trial: its Config, or why it cannot run."""
        try:
            config = self.base.replace(**values)
        except ConfigError as err:
            return Trial(index, values, None, self._why(values, err))
        return Trial(index, values, config)

    def ladder(self, config: Config) -> list[tuple[int, int]]:
        """(resource, steps) of each rung a trial climbs, shortest first and its whole run
        last. The resource (1, 2, 4, ...) is what the pruner compares; the steps land on
        the run's snapshot steps, so that continuing a rung is exactly the longer run (a
        rung that would round to nothing is left out)."""
        total, interval = config.total_steps, config.snapshot_interval()
        top = REDUCTION ** (self.rungs - 1)
        ladder: list[tuple[int, int]] = []
        for rung in range(self.rungs - 1):
            resource = REDUCTION ** rung
            snapped = int(round(total * resource / top / interval)) * interval
            if 0 < snapped < total and snapped not in [s for _, s in ladder]:
                ladder.append((resource, snapped))
        return [*ladder, (top, total)]

    def rung_config(self, config: Config, steps: int) -> Config:
        return config if steps == config.total_steps else config.replace(until=steps)

    def repeat_configs(self, config: Config) -> list[Config]:
        """The trial's runs, one per seed: repeat 0 is the trial's own Config (its link as
        it is); repeat r trains seed + r on repeat 0's data split, so the spread of a trial
        is init and batch noise only."""
        out = [config]
        for repeat in range(1, self.repeats):
            seed = (config.seed + repeat) % (SETTINGS_BY_NAME["seed"].high + 1)
            out.append(config.replace(seed=seed, data_seed=config.split_seed))
        return out

    def expected_seconds(self, estimate: Callable[[Config], float] = estimate_seconds
                         ) -> float:
        """The whole search's training seconds at the cost model's ``estimate`` (serial):
        one trial's runs, averaged over random draws of the ranges, times the trials, times
        the share of its steps a trial trains on average (each rung keeps 1/REDUCTION)."""
        rng = np.random.default_rng(self.seed)
        seconds = []
        for index in range(12):
            values: dict[str, Any] = {}
            for searched in self.ordered():
                if searched.applies(values, self.base):
                    values[searched.name] = _random_value(searched, rng, values, self.base)
            trial = self.trial(index, values)
            if trial.config is not None:
                seconds.append(estimate(trial.config) * self.repeats)
        top = REDUCTION ** (self.rungs - 1)
        share = sum((REDUCTION ** k - (REDUCTION ** (k - 1) if k else 0)) / top / REDUCTION ** k
                    for k in range(self.rungs))
        return float(np.mean(seconds)) * self.trial_count * share if seconds else 0.0

    def warm_plan(self, stored: int) -> str:
        """What the plan says of the ``stored`` whole trials of its space: told to the
        sampler first, or (random, grid) read where drawn."""
        if not stored:
            return ""
        trials = f"{stored:,} whole trial{'s' * (stored != 1)} of this space"
        if self.method not in WARM_METHODS:
            return (f" The store already holds {trials}. A "
                    f"{METHOD_NAMES[self.method].lower()} search does not learn from them "
                    "(TPE does); a trial it draws that is stored is read, not trained again.")
        greedy = (f" With {STARTUP_TRIALS} or more, TPE refines near their best from its "
                  "first trial." if self.method == "tpe" and stored >= STARTUP_TRIALS else "")
        return (f" It starts from {trials} already in the store (from earlier searches, this "
                "one's own included, or runs opened here), told to the sampler first and "
                "listed as 'store'." + greedy)

    def plan(self) -> str:
        """How trials, rungs and the budget combine, said before the search runs."""
        count = self.trial_count
        noun = ("combination" if self.method == "grid" else "trial") + "s" * (count != 1)
        limit = f"{count} {noun}"
        if self.budget_seconds:
            limit = (f"up to {count} {noun} or {self.budget_seconds:g} s, whichever comes "
                     "first (no run starts after the budget; runs under way finish)")
        seeds = f", each with {self.repeats} seeds" if self.repeats > 1 else ""
        text = f"{METHOD_NAMES[self.method]} search: {limit}{seeds}"
        auto = [r for r in self.ranges if r.kind == "auto"]
        if auto:
            opts = [self.base.opt] if "opt" not in self.searched else next(
                r.values for r in self.ranges if r.name == "opt")
            text += (". lr=auto draws log-uniformly from each optimizer's range: "
                     + ", ".join(f"{opt} {LR_RANGES[opt][0]:g} to {LR_RANGES[opt][1]:g}"
                                 for opt in opts if opt in LR_RANGES))
        if self.rungs > 1:
            text += (f". Each trial first trains about 1/{REDUCTION ** (self.rungs - 1)} of "
                     f"its steps (rounded to its snapshot steps); about the best {KEPT} at "
                     f"each length, judged against the trials that reached it so far, is "
                     f"continued {REDUCTION}x further (the same run, not retrained), up to "
                     "its full length. A trial stopped early counts as a trial, and its "
                     "seconds count")
        return text + "."

    def _why(self, values: dict[str, Any], err: ConfigError) -> str:
        """Name the drawn settings that broke the rule, not the field the rule reports (a
        model too big for the work cap is reported on ``steps``, the width broke it): each
        drawn value that, put back to the base's, makes the trial valid."""
        culprits = []
        for name in values:
            try:
                self.base.replace(**{**values, name: getattr(self.base, name)})
            except ConfigError:
                continue
            culprits.append(f"{name}={spell_value(values[name])}")
        blamed = " or ".join(culprits) if culprits else (
            ", ".join(f"{k}={spell_value(v)}" for k, v in values.items()) + " together")
        return f"{blamed} breaks a rule: {err.allowed}"


def _random_value(searched: Range, rng: np.random.Generator, drawn: dict[str, Any],
                  base: Config) -> Any:
    """A uniform draw of the sampler's parameter (for the cost estimate only)."""
    dist = searched.distribution()
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return dist.choices[int(rng.integers(len(dist.choices)))]
    low, high = float(dist.low), float(dist.high)
    param = (math.exp(rng.uniform(math.log(low), math.log(high))) if dist.log
             else rng.uniform(low, high))
    return searched.value_of(param, drawn, base)

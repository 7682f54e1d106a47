"""Search: adaptive, random or grid search over up to eight settings, each trial repeated
over seeds on one fixed data split, so that an effect can be told from seed noise.

A search is written as text, the same in the CLI (``--sample``), the link and the dashboard:

    lr=auto                          log-uniform over the drawn optimizer's range (LR_RANGES)
    lr=loguniform(1e-4,1e-1)         log-uniform between two bounds
    init_scale=uniform(0.5,2)        uniform between two bounds (rounded for integer settings)
    width=choice(64,128,256)         one of the values (';' between comma-list values)
    wd=loguniform(1e-4,0.1) if opt=adamw    drawn only when the condition holds, else default

A spec and its seed give the same trials in the same order, whatever executor runs them and
however many trials are asked for (trial i is drawn from its own stream). A searched
setting's value in the base is not used: the same search run from one of its own trials'
settings ("use its settings") is the same search. A trial whose
Config is invalid (over the server's caps, a fuse that does not fit) is skipped with the
setting and the reason; the rest run.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .config import SEARCHABLE, SETTINGS_BY_NAME, Config, ConfigError, spell_value
from .cost import estimate_seconds
from .sweep import parse_values, value_separator

MAX_SEARCHED = 8
MAX_TRIALS = 500
MAX_REPEATS = 10
KINDS = ("choice", "uniform", "loguniform", "auto")
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
LR_RANGES: dict[str, tuple[float, float]] = {
    "sgd": (1e-2, 1.0), "momentum": (1e-3, 0.3), "adam": (1e-4, 3e-2), "adamw": (1e-4, 3e-2),
}
"""Where each optimizer's useful learning rates lie (``lr=auto``): Adam's step is already
normalised per parameter, so its rates sit two decades below plain SGD's."""

_RANGE = re.compile(r"^\s*(?P<name>[a-z_]+)\s*=\s*(?P<body>.+?)"
                    r"(?:\s+if\s+(?P<cond>[a-z_]+)\s*=\s*(?P<allowed>.+?))?\s*$")
_CALL = re.compile(r"^(?P<kind>[a-z]+)\((?P<args>.*)\)$")


class SearchError(ValueError):
    """A search spec that cannot be run; the message says which part and why."""


@dataclass(frozen=True)
class Range:
    """How one setting is drawn in a search."""

    name: str
    kind: str
    values: tuple = ()
    """The choices (kind ``choice``)."""
    low: float = math.nan
    high: float = math.nan
    when: tuple[str, tuple] | None = None
    """(setting, values): draw only when that setting has one of the values."""

    def spell(self) -> str:
        """The range as text again (what the link and the CLI carry)."""
        if self.kind == "choice":
            body = ("choice(" + value_separator(self.name).join(spell_value(v) for v in self.values)
                    + ")")
        elif self.kind == "auto":
            body = "auto"
        else:
            body = f"{self.kind}({spell_value(self.low)},{spell_value(self.high)})"
        if self.when is not None:
            body += f" if {self.when[0]}=" + ",".join(spell_value(v) for v in self.when[1])
        return f"{self.name}={body}"

    def applies(self, drawn: dict[str, Any], base: Config) -> bool:
        if self.when is None:
            return True
        name, allowed = self.when
        return drawn.get(name, getattr(base, name)) in allowed

    def draw(self, rng: np.random.Generator, drawn: dict[str, Any], base: Config) -> Any:
        if self.kind == "choice":
            return self.values[int(rng.integers(len(self.values)))]
        low, high = self.low, self.high
        if self.kind == "auto":
            low, high = LR_RANGES[drawn.get("opt", base.opt)]
        if self.kind == "uniform":
            value = float(rng.uniform(low, high))
        else:
            value = float(math.exp(rng.uniform(math.log(low), math.log(high))))
        return _typed(self.name, value)

    def neighbour(self, value: Any, rng: np.random.Generator, drawn: dict[str, Any],
                  base: Config) -> Any:
        """A value near ``value``: the next choice up or down, or a step of 0.2-0.7 of a
        natural log (x1.2 to x2) on a log range, 10-30% of the span on a uniform one."""
        if self.kind == "choice":
            index = self.values.index(value) if value in self.values else 0
            step = 1 if rng.random() < 0.5 else -1
            if not 0 <= index + step < len(self.values):
                step = -step
            return self.values[min(max(index + step, 0), len(self.values) - 1)]
        low, high = self.low, self.high
        if self.kind == "auto":
            low, high = LR_RANGES[drawn.get("opt", base.opt)]
        sign = 1 if rng.random() < 0.5 else -1
        if self.kind == "uniform":
            moved = float(value) + sign * rng.uniform(0.1, 0.3) * (high - low)
        else:
            moved = float(value) * math.exp(sign * rng.uniform(0.2, 0.7))
        return _typed(self.name, min(max(moved, low), high))

    def grid(self) -> tuple:
        if self.kind != "choice":
            raise SearchError(f"{self.spell()}: a grid search needs choices (name=v1,v2 or "
                              "choice(...)); use random search for ranges")
        return self.values


def _identity(values: dict[str, Any]) -> tuple:
    return tuple(sorted(values.items()))


def _typed(name: str, value: float) -> Any:
    """A drawn number as the setting's value: integers rounded, a width as text, floats to
    4 significant digits (a link stays readable and the value is exactly what it says)."""
    setting = SETTINGS_BY_NAME[name]
    if name == "width":
        return str(int(round(value)))
    if setting.kind is int:
        return int(round(value))
    return float(f"{value:.4g}")


def parse_range(text: str) -> Range:
    """One range, as written in the module's docstring; SearchError says what is wrong."""
    match = _RANGE.match(text)
    if match is None:
        raise SearchError(f"{text!r}: write name=choice(...), name=loguniform(low,high), "
                          "name=uniform(low,high), lr=auto or name=v1,v2")
    name = match["name"]
    if name not in SEARCHABLE:
        raise SearchError(f"{name!r} cannot be searched; one of " + ", ".join(SEARCHABLE))
    when = None
    if match["cond"]:
        cond = match["cond"]
        if cond not in SETTINGS_BY_NAME:
            raise SearchError(f"{text!r}: {cond!r} in the condition is not a setting")
        when = (cond, _values(cond, match["allowed"]))
    body = match["body"].strip()
    call = _CALL.match(body)
    if body == "auto":
        if name != "lr":
            raise SearchError(f"{text!r}: auto is for lr (it follows the optimizer)")
        return Range(name, "auto", when=when)
    if call is None or call["kind"] == "choice":
        values = _values(name, call["args"] if call else body)
        return Range(name, "choice", tuple(dict.fromkeys(values)), when=when)
    kind = call["kind"]
    if kind not in ("uniform", "loguniform"):
        raise SearchError(f"{text!r}: {kind!r} is not a range; one of " + ", ".join(KINDS))
    setting = SETTINGS_BY_NAME[name]
    if setting.kind is str and name != "width":
        raise SearchError(f"{text!r}: {name} takes one of its choices, not a number range")
    parts = [part.strip() for part in call["args"].split(",")]
    if len(parts) != 2:
        raise SearchError(f"{text!r}: {kind} takes two bounds, low and high")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise SearchError(f"{text!r}: the bounds must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise SearchError(f"{text!r}: needs finite bounds with low < high")
    if kind == "loguniform" and low <= 0:
        raise SearchError(f"{text!r}: a log-uniform range needs a positive low bound")
    for bound in (low, high):
        try:
            setting.coerce(_typed(name, bound))
        except ConfigError as err:
            raise SearchError(f"{text!r}: the bound {bound:g} is outside {name}'s range "
                              f"({err.allowed})") from None
    return Range(name, kind, low=low, high=high, when=when)


def _values(name: str, text: str) -> tuple:
    try:
        values = parse_values(name, text)
    except ConfigError as err:
        raise SearchError(str(err)) from None
    if not values:
        raise SearchError(f"{name}: no values given")
    return values


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
                values[searched.name] = _typed(searched.name, min(max(old, low), high))
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


def choice_range(name: str, values: tuple) -> Range:
    """A range of given values (the CLI's --vary), checked as a written one is."""
    return parse_range(f"{name}=choice({value_separator(name).join(map(spell_value, values))})")


def parse_ranges(texts: list[str]) -> tuple[Range, ...]:
    return tuple(parse_range(text) for text in texts)


def default_ranges(base: Config) -> tuple[Range, ...]:
    """What a search tries when nobody says: the settings that matter most for the task,
    over the values a practitioner would try first."""
    texts = ["lr=auto", "opt=choice(sgd,adamw)", "batch=choice(32,64,128,256,512)",
             "width=choice(64;128;256)", "depth=choice(1,2,3)"]
    if base.is_char_task:
        texts += ["context=choice(3,5,8)", "embed_dim=choice(10,16,24)"]
    texts.append("wd=loguniform(1e-4,0.3) if opt=adamw")
    return parse_ranges(texts)


def skipped_frame(spec: SearchSpec) -> pd.DataFrame:
    """The trials that were not run, with the setting and the reason."""
    rows = [{"trial": t.index, **t.values, "skipped": t.skipped}
            for t in spec.trial_list() if t.config is None]
    return pd.DataFrame(rows, columns=["trial", *spec.searched, "skipped"])


def run_search(spec: SearchSpec, executor=None, on_result=None, should_stop=None,
               words=None, results: dict[int, dict] | None = None, store=None,
               started: float | None = None, runs: list | None = None,
               train: bool = True) -> pd.DataFrame:
    """Run the search's trials (repeats together, trials in order) until done, stopped or
    past the budget; one row per run (see ``search_frame``). An adaptive search then runs
    its rounds, each drawn from the results so far.

    ``results`` (run index -> summary) and ``runs`` ((trial, repeat, Config) per index) are
    filled as the search goes, for a caller that is interrupted. ``train=False`` trains
    nothing: it replays the search from the ``store`` as far as the store holds it."""
    from .sweep import run_configs

    results = results if results is not None else {}
    runs = runs if runs is not None else []
    start = time.monotonic() if started is None else started
    deadline = start + spec.budget_seconds if spec.budget_seconds else None
    tried = spec.trial_list()
    batch = spec.runs_of(tried)
    round_no = 0

    def report(done: int, total: int) -> None:  # counts over the whole search, not a round
        if on_result is not None:
            on_result(len(results), len(runs))

    while batch:
        first = len(runs)
        runs.extend(batch)
        run_configs([config for _, _, config in batch], executor, report, should_stop,
                    words, results, store, deadline, first_index=first, train=train)
        if spec.method != "adaptive" or len(results) < len(runs) or (
                deadline is not None and time.monotonic() > deadline) or (
                should_stop is not None and should_stop()):
            break
        round_no += 1
        new = spec.refine(round_no, tried, trial_scores(runs, results))
        tried += new
        batch = spec.runs_of(new)
    return search_frame(spec, runs, results)


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
    from .sweep import SUMMARY_COLUMNS

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

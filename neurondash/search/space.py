"""The search space: how one setting is drawn (``Range``), written (``parse_range``,
``Range.spell``) and what a search tries when nobody says (``default_ranges``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ..config import SEARCHABLE, SETTINGS_BY_NAME, Config, ConfigError, spell_value
from ..setting_names import meant_setting
from ..sweep import parse_values, value_separator

KINDS = ("choice", "uniform", "loguniform", "auto")
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

    def distribution(self) -> BaseDistribution:
        """The Optuna distribution the sampler draws from. ``auto`` is drawn as a position
        in [0, 1] of the drawn optimizer's log range, so that one distribution serves every
        optimizer (Optuna needs a parameter's distribution fixed across trials)."""
        if self.kind == "choice":
            return CategoricalDistribution(self.values)
        if self.kind == "auto":
            return FloatDistribution(0.0, 1.0)
        log = self.kind == "loguniform"
        if _is_integer(self.name):
            return IntDistribution(math.ceil(self.low), math.floor(self.high), log=log)
        return FloatDistribution(self.low, self.high, log=log)

    def suggest(self, trial: optuna.Trial, drawn: dict[str, Any], base: Config) -> Any:
        """The trial's value of this setting, drawn by the study's sampler."""
        dist = self.distribution()
        if isinstance(dist, CategoricalDistribution):
            param = trial.suggest_categorical(self.name, dist.choices)
        elif isinstance(dist, IntDistribution):
            param = trial.suggest_int(self.name, dist.low, dist.high, log=dist.log)
        else:
            param = trial.suggest_float(self.name, dist.low, dist.high, log=dist.log)
        return self.value_of(param, drawn, base)

    def value_of(self, param: Any, drawn: dict[str, Any], base: Config) -> Any:
        """A sampler's parameter as the setting's value."""
        if self.kind == "choice":
            return param
        low, high = self.low, self.high
        number = float(param)
        if self.kind == "auto":
            low, high = LR_RANGES[drawn.get("opt", base.opt)]
            number = low * (high / low) ** number
        value = typed_value(self.name, number)
        if isinstance(value, float):  # rounding to 4 digits must not leave the range
            value = min(max(value, low), high)
        return value

    def param_of(self, value: Any, drawn: dict[str, Any], base: Config) -> Any | None:
        """The sampler's parameter for a setting's value (a stored run told to a study), or
        None when the value lies outside the range."""
        if self.kind == "choice":
            return value if value in self.values else None
        number = float(value)
        low, high = self.low, self.high
        if self.kind == "auto":
            low, high = LR_RANGES[drawn.get("opt", base.opt)]
        if not low <= number <= high:
            return None
        if self.kind == "auto":
            return math.log(number / low) / math.log(high / low)
        return int(number) if _is_integer(self.name) else number

    def grid(self) -> tuple:
        if self.kind != "choice":
            raise SearchError(f"{self.spell()}: a grid search needs choices (name=v1,v2 or "
                              "choice(...)); tpe and random search ranges")
        return self.values


def _is_integer(name: str) -> bool:
    return name == "width" or SETTINGS_BY_NAME[name].kind is int


def typed_value(name: str, value: float) -> Any:
    """A drawn number as the setting's value: integers rounded, a width as text, floats to
    4 significant digits (a link stays readable and the value is exactly what it says)."""
    setting = SETTINGS_BY_NAME[name]
    if name == "width":
        return str(int(round(value)))
    if setting.kind is int:
        return int(round(value))
    return float(f"{value:.4g}")


def parse_range(text: str, dropped: list[str] | None = None) -> Range:
    """One range, as written in the module's docstring; SearchError says what is wrong.
    Given a ``dropped`` list, a choice that is not a valid value is left out and a bound
    past the setting's range moved to its end, each said there, instead of refusing the
    whole line (a typo in one of five values keeps the other four)."""
    match = _RANGE.match(text)
    if match is None:
        raise SearchError(f"{text!r}: write name=choice(...), name=loguniform(low,high), "
                          "name=uniform(low,high), lr=auto or name=v1,v2")
    name = match["name"]
    if name not in SEARCHABLE:
        meant = meant_setting(name, SEARCHABLE)
        raise SearchError(f"{name!r} cannot be searched"
                          + (f" (did you mean {meant}?)" if meant else "")
                          + "; one of " + ", ".join(SEARCHABLE))
    when = None
    if match["cond"]:
        cond = match["cond"]
        if cond not in SETTINGS_BY_NAME:
            raise SearchError(f"{text!r}: {cond!r} in the condition is not a setting")
        when = (cond, _values(cond, match["allowed"]))
    body = match["body"].strip()
    if body.count("(") != body.count(")"):  # 'loguniform(0.1,': not a list of values
        raise SearchError(f"{text!r}: its brackets do not pair up; write "
                          "name=loguniform(low,high), name=uniform(low,high) or "
                          "name=choice(a,b)")
    call = _CALL.match(body)
    if body == "auto":
        if name != "lr":
            raise SearchError(f"{text!r}: auto is for lr (it follows the optimizer)")
        return Range(name, "auto", when=when)
    if call is None or call["kind"] == "choice":
        values = _values(name, call["args"] if call else body, dropped)
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
    if _is_integer(name) and math.ceil(low) > math.floor(high):
        raise SearchError(f"{text!r}: no whole number lies between the bounds")
    low, high = (_bound(text, name, bound, dropped) for bound in (low, high))
    if not low < high:
        raise SearchError(f"{text!r}: both bounds lie past the same end of {name}'s range "
                          f"({setting.allowed()})")
    return Range(name, kind, low=low, high=high, when=when)


def _bound(text: str, name: str, bound: float, dropped: list[str] | None) -> float:
    """``bound`` when ``name`` allows it; else, given a ``dropped`` list, the nearest value
    it allows, said there (lr up to 100 is searched up to 10)."""
    setting = SETTINGS_BY_NAME[name]
    try:
        setting.coerce(typed_value(name, bound))
        return bound
    except ConfigError as err:
        if dropped is None:
            raise SearchError(f"{text!r}: the bound {bound:g} is outside {name}'s range "
                              f"({err.allowed})") from None
    nearest = float(setting.nearest(bound))
    dropped.append(f"the bound {bound:g} is outside {name}'s range ({setting.allowed()}), so "
                   f"the range ends at {nearest:g} instead")
    return nearest


def _values(name: str, text: str, dropped: list[str] | None = None) -> tuple:
    values, bad = [], []
    for part in text.split(value_separator(name)):
        try:
            values += parse_values(name, part)
        except ConfigError as err:
            bad.append(str(err))
    if bad and (dropped is None or not values):
        raise SearchError("; ".join(bad))
    if dropped is not None:
        dropped += [f"{err} (left out; the line's other values are searched)" for err in bad]
    if not values:
        raise SearchError(f"{name}: no values given")
    return tuple(values)


def choice_range(name: str, values: tuple) -> Range:
    """A range of given values (the CLI's --vary), checked as a written one is."""
    return parse_range(f"{name}=choice({value_separator(name).join(map(spell_value, values))})")


def parse_ranges(texts: list[str]) -> tuple[Range, ...]:
    return tuple(parse_range(text) for text in texts)


def default_ranges(base: Config) -> tuple[Range, ...]:
    """What a search tries when nobody says: the settings that matter most for the task,
    over the values a practitioner would try first."""
    texts = ["lr=auto", "opt=choice(sgd,adamw)", "batch=choice(32,64,128,256,512,1024)",
             "width=choice(64;128;256)", "depth=choice(1,2,3)"]
    if base.is_char_task:
        texts += ["context=choice(3,5,8)", "embed_dim=choice(10,16,24,32)"]
    texts.append("wd=loguniform(1e-4,0.3) if opt=adamw")
    return parse_ranges(texts)

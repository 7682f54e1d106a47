"""One setting's row and the rules its value follows: its type, bounds or choices, and how
text (a link, a flag) or a JSON value becomes that value, or a ConfigError that says what is
allowed. ``config.SETTINGS`` is the table of these rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A setting is invalid; the message names the field, the value and what is allowed."""

    def __init__(self, name: str, value: Any, allowed: str):
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"{name}={value!r} is not allowed: {allowed}")


class OverBudget(ConfigError):
    """The run's work (parameters x steps x batch) is over the server's budget: named after
    steps, though a smaller model or batch fits it as well."""


@dataclass(frozen=True)
class Setting:
    """How one Config field is typed, bounded and explained."""

    name: str
    kind: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    log: bool = False
    group: str = "Training"
    multi: bool = False
    """A comma list of some of ``choices`` (kept in their order, each once)."""
    searchable: bool = True
    """Whether sweeps and searches may vary it (not the data, nor how a run is recorded)."""

    def allowed(self) -> str:
        if self.multi:
            return "a comma list of one or more of " + ", ".join(self.choices)
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.name == "width":
            return (f"an integer {int(self.low)}-{int(self.high)}, or a comma list with one "
                    "per layer")
        if self.kind is int:
            return f"an integer from {int(self.low):,} to {int(self.high):,}"
        return f"a number from {self.low:g} to {self.high:g}"

    def coerce(self, value: Any) -> Any:
        """Turn text (URL, CLI) or a JSON value into this setting's type and check it."""
        if self.kind is str:
            text = str(value).strip()
            if self.name == "width":
                return _coerce_width(self, text)
            if self.multi:
                return _coerce_multi(self, text)
            if self.choices and text not in self.choices:
                raise ConfigError(self.name, value, self.allowed())
            return text
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if not isinstance(value, int | float) else value
            if self.kind is int:
                if not float(number).is_integer():
                    raise ValueError
                number = int(number)
            else:
                number = float(number)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(self.name, value, self.allowed()) from None
        if not math.isfinite(number) or not (self.low <= number <= self.high):
            raise ConfigError(self.name, value, self.allowed())
        return number

    def nearest(self, value: Any) -> Any | None:
        """The allowed value nearest to a finite number outside the bounds (a link's
        ``lr=1e-9`` is the smallest learning rate, not the default one) or, for a whole
        number, to a fraction (``depth=7.5`` is 8, as ``depth=999`` is 12); None when
        ``value`` is no number (text, infinite or NaN)."""
        if self.name == "width" and not isinstance(value, bool):
            # Each layer's width, as a whole number within the bounds.
            parts = [_clamped(self, part, int) for part in str(value).split(",")]
            return None if None in parts else ",".join(map(str, parts))
        if self.kind not in (int, float) or isinstance(value, bool):
            return None
        return _clamped(self, value, self.kind)


def _clamped(setting: Setting, value: Any, kind: type) -> Any | None:
    """``value`` as a number of ``kind`` within the setting's bounds (a whole number
    rounded to the nearest); None for no finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    if kind is int:
        number = math.floor(number + 0.5)
    return kind(min(max(number, setting.low), setting.high))


def _coerce_width(setting: Setting, text: str) -> str:
    parts = [p.strip() for p in text.split(",")]
    try:
        widths = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(setting.name, text, setting.allowed()) from None
    if not widths or any(not (setting.low <= w <= setting.high) for w in widths):
        raise ConfigError(setting.name, text, setting.allowed())
    return ",".join(str(w) for w in widths)


def _coerce_multi(setting: Setting, text: str) -> str:
    chosen = {p.strip() for p in text.split(",") if p.strip()}
    if not chosen or chosen - set(setting.choices):
        raise ConfigError(setting.name, text, setting.allowed())
    return ",".join(c for c in setting.choices if c in chosen)


def spell_default(value: Any) -> str:
    """A default as the sidebar shows it: numbers as links spell them (1, not 1.0), text
    quoted (an empty default shows as '')."""
    return repr(value) if isinstance(value, str) else spell_value(value)


def spell_value(value: Any) -> str:
    """A value as links and search specs write it: floats in their shortest exact form."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)

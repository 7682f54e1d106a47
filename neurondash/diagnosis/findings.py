"""What a finding is: its level, name and text, and, when it has advice, the Config change
as data (so the dashboard can train it and show whether it helped) and the number the
finding is about (so "helped" is measured, not claimed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

LEVELS = ("error", "warning", "info", "success")
"""Findings are listed most serious first (Python's sort keeps each level's own order)."""


@dataclass(frozen=True)
class Finding:
    level: str  # one of LEVELS
    lesson: str
    text: str
    change: dict[str, Any] = field(default_factory=dict)
    """The suggested Config change ({"init_scale": 1.0}); empty when there is no advice."""
    metric: str = ""
    """The number the finding is about, a key of ``numbers.METRICS`` ("" for none)."""
    layers: tuple[str, ...] = ()
    """The hidden layers the finding names (for a per-layer number, the first one)."""
    advice: str = ""
    """The advice's words at the end of ``text`` (``with_advice``): said once when several
    findings share it (``said_once``)."""


def counted(n: int, noun: str) -> str:
    """'1 hidden unit is', '5 hidden units are': a count with its noun and verb agreeing."""
    return f"{n:,} {noun} is" if n == 1 else f"{n:,} {noun}s are"


def with_advice(finding: Finding, advice: Advice | None) -> Finding:
    """``finding`` with ``advice``'s words appended and its change attached."""
    if advice is None:
        return finding
    return Finding(finding.level, finding.lesson, finding.text + " " + advice.text,
                   dict(advice.change), finding.metric, finding.layers, advice.text)


def one_lr(found: list[Finding]) -> list[Finding]:
    """Findings that each lower the learning rate, to different values, all given the
    lowest: one run has one rate, and the timid cut fixes nothing the strong one does not
    (lr 9.7 on the default net: a third, 3, stays 100% saturated with 65 dead units; 1
    ends at 80% and none)."""
    lowering = [f for f in found if f.advice and set(f.change) == {"lr"}]
    if len({f.change["lr"] for f in lowering}) < 2:
        return found
    lowest = min(lowering, key=lambda f: f.change["lr"])
    return [replace(f, text=f.text[:-len(f.advice)] + lowest.advice,
                    change=dict(lowest.change), advice=lowest.advice)
            if f in lowering else f for f in found]


def said_once(found: list[Finding]) -> list[Finding]:
    """The findings with a fix that several share (one cause seen three ways: a chaotic
    init saturates, kills and explodes) said and offered once, under the first of them;
    the others point there instead of repeating its paragraph and its Try it."""
    first: dict[tuple, str] = {}
    out = []
    for finding in found:
        # The same change is one fix, whatever each finding's reason for it.
        key = tuple(sorted(finding.change.items()))
        if finding.advice and key in first:
            text = finding.text[:-len(finding.advice)].rstrip()
            finding = replace(finding, text=f"{text} The fix is the one under "
                              f"\u201c{first[key]}\u201d.", change={}, advice="")
        elif finding.advice:
            first[key] = finding.lesson
        out.append(finding)
    return out


@dataclass(frozen=True)
class Advice:
    """Which knob to turn, which way and how far, in words and as a Config change."""

    text: str
    change: dict[str, Any]

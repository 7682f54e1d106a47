"""Where the run a page shows comes from: one decision, made from plain facts, so it can be
read in one place and tested without Streamlit.

In order: a run the session already shows; a run in the server's store (anybody's, any
size: it costs nothing to open); a training of it that is under way (follow it); a shorter
run of the session that continuing turns into exactly this one; a new training. Opening a
link (no click) trains or continues only work estimated at ``auto_seconds`` or less;
anything larger waits for a click, whoever sent the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AUTO_SECONDS = 4.0
"""Runs estimated to train within this many seconds here (``cost.estimate_seconds``) start
as soon as they are opened; a longer one waits for a click, whoever sent the link."""

Action = Literal["open", "train", "continue"]
"""What the user did: opened or changed the page, pressed Train, or pressed Continue."""
Source = Literal["need words", "session", "store", "follow", "continue", "train", "wait"]


@dataclass(frozen=True)
class Facts:
    """What is known about the requested run when the page is drawn."""

    action: Action
    needs_words: bool = False
    """Task ``words`` without a word list yet."""
    in_session: bool = False
    in_store: bool = False
    in_training: bool = False
    """Another page (or this one, before a rerun) is training it now."""
    shorter: bool = False
    """The session has a shorter run of this Config that continues exactly into it."""
    seconds: float = 0.0
    """Estimated training time of the run from scratch."""
    continue_seconds: float = 0.0
    """Estimated time of continuing the shorter run."""


@dataclass(frozen=True)
class Decision:
    source: Source
    seconds: float = 0.0
    """The work the decision starts, or that a click would start (``wait``)."""


def decide(facts: Facts, auto_seconds: float) -> Decision:
    """The source of the run (see the module's docstring for the order)."""
    if facts.needs_words:
        return Decision("need words")
    if facts.in_session:
        return Decision("session")
    if facts.in_store:
        return Decision("store")
    if facts.in_training:
        return Decision("follow")
    clicked = facts.action in ("train", "continue")
    if facts.shorter:
        work = facts.continue_seconds
        return Decision("continue" if clicked or work <= auto_seconds else "wait", work)
    return Decision("train" if clicked or facts.seconds <= auto_seconds else "wait",
                    facts.seconds)

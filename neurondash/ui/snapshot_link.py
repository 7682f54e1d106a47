"""The snapshot step in the link: a shared link opens on the step its sender was looking at.

The slider is bound to the link's ``snapshot`` (Streamlit writes it, and leaves it out at the
run's last step, where every run opens, so an ordinary link stays as it was); a page opened
from a link starts on its step when the run has that step, and otherwise says so and starts
on the nearest one (a step past the end: the last).
"""

from __future__ import annotations

import contextlib

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ..run import Run
from .cache import chart_key
from .session import Session
from .text import notice

PARAM = "snapshot"


def link_step(text: str | None, steps: list[int]) -> tuple[int | None, str | None]:
    """The step to open on for the link's ``snapshot`` text, and what to tell the user
    when that is not the text's own step: a whole number between the run's snapshots is
    shown at the nearest one (the earlier on a tie), anything else at the last step. (None,
    None) when the link names none of the run's steps' problems: no text, or one of
    ``steps`` written as the slider writes it (its digits)."""
    # ASCII digits only: '²' is a digit to str.isdigit but not to int().
    digits = text is not None and text.isascii() and text.isdigit()
    if text is None or (digits and int(text) in steps):
        return None, None
    shown = text if len(text) <= 24 else text[:24] + "..."
    said = (f"snapshot={shown!r} is not one of this run's {len(steps)} snapshot steps "
            f"({steps[0]:,} to {steps[-1]:,}); showing ")
    if digits:
        nearest = min(steps, key=lambda step: (abs(step - int(text)), step))
        return nearest, said + f"the nearest, step {nearest:,}."
    return steps[-1], said + f"step {steps[-1]:,}."


def snapshot_slider(run: Run) -> int:
    """The slider that picks the step every view draws, bound to the link (Streamlit keeps
    the address bar in step with it, and leaves the step out at the run's last one). The
    page's first run opens on the link's step (Streamlit seeds it; a step the run does
    not have is said and replaced by the nearest it has, or by the last for text).
    Another run (new settings, Continue, an import) opens on its last step, unless the
    slider was moved to a step it also has: then the step stays, as the link does."""
    steps = run.snapshot_steps
    if len(steps) == 1:  # a slider with one stop draws no track
        st.caption(f"Snapshot step {steps[0]:,}: the only one recorded; every view draws it.")
        return steps[0]
    session = Session()
    if session.snapshot_of != chart_key(run):
        if session.snapshot_of is None:
            step, problem = link_step(st.query_params.get(PARAM), steps)
            if problem and step != steps[-1]:
                # Said with the link's other problems, on the rerun that seeds the slider
                # (and the address bar) from the nearest step.
                session.url_warnings = [*(session.url_warnings or []), problem]
                st.query_params[PARAM] = str(step)
                st.rerun()
            if problem:
                notice("warning", problem)
        elif st.session_state.get(PARAM) in (session.snapshot_last, None) or \
                st.session_state.get(PARAM) not in steps:
            # Set, not dropped: the browser keeps a keyed slider's own value over a new
            # default (the page showed step 3,000 of a run continued to 6,000). The last
            # step is never in the link.
            st.session_state[PARAM] = steps[-1]
            _drop_from_link()
        session.snapshot_of, session.snapshot_last = chart_key(run), steps[-1]
    return st.select_slider("snapshot step (drives every view)", steps, value=steps[-1],
                            key=PARAM, bind="query-params")


def _drop_from_link() -> None:
    """Leave the step out of the link. Once the slider is bound to it, Streamlit refuses
    the deletion (Reset from a link with a step raised it) and drops the step itself, the
    slider being at its last one."""
    with contextlib.suppress(StreamlitAPIException):
        st.query_params.pop(PARAM, None)

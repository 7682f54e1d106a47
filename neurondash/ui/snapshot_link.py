"""The snapshot step in the link: a shared link opens on the step its sender was looking at.

The slider is bound to the link's ``snapshot`` (Streamlit writes it, and leaves it out at the
run's last step, where every run opens, so an ordinary link stays as it was); a page opened
from a link starts on its step when the run has that step, and says so when it does not.
"""

from __future__ import annotations

import streamlit as st

from ..run import Run
from .cache import chart_key
from .session import Session
from .text import notice

PARAM = "snapshot"


def link_problem(text: str | None, steps: list[int]) -> str | None:
    """What to tell the user when the link's ``snapshot`` text is not one of ``steps``
    written as the slider writes it (its digits): the page then shows the last step."""
    if text is None or (text.isdigit() and int(text) in steps):
        return None
    shown = text if len(text) <= 24 else text[:24] + "..."
    return (f"snapshot={shown!r} is not one of this run's snapshot steps "
            f"({steps[0]:,} to {steps[-1]:,}); showing step {steps[-1]:,}.")


def snapshot_slider(run: Run) -> int:
    """The slider that picks the step every view draws, bound to the link (Streamlit keeps
    the address bar in step with it, and leaves the step out at the run's last one). The
    page's first run opens on the link's step (Streamlit seeds it; a step the run does
    not have is said and replaced by the last). Another run (new settings, Continue, an
    import) opens on its last step, unless the slider was moved to a step it also has:
    then the step stays, as the link does."""
    steps = run.snapshot_steps
    if len(steps) == 1:  # a slider with one stop draws no track
        st.caption(f"Snapshot step {steps[0]:,}: the only one recorded; every view draws it.")
        return steps[0]
    session = Session()
    if session.snapshot_of != chart_key(run):
        if session.snapshot_of is None:
            problem = link_problem(st.query_params.get(PARAM), steps)
            if problem:
                notice("warning", problem)
        elif st.session_state.get(PARAM) in (session.snapshot_last, None) or \
                st.session_state.get(PARAM) not in steps:
            # Set, not dropped: the browser keeps a keyed slider's own value over a new
            # default (the page showed step 3,000 of a run continued to 6,000). The last
            # step is never in the link.
            st.session_state[PARAM] = steps[-1]
            st.query_params.pop(PARAM, None)
        session.snapshot_of, session.snapshot_last = chart_key(run), steps[-1]
    return st.select_slider("snapshot step (drives every view)", steps, value=steps[-1],
                            key=PARAM, bind="query-params")

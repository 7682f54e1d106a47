"""The snapshot step in the link: a shared link opens on the step its sender was looking at.

The slider's step is written to the address bar (``snapshot``) whenever it is not the run's
last step (the step every run opens on, so an ordinary link stays as it was), and a page
opened from a link starts there when the step is one of its run's snapshot steps.
"""

from __future__ import annotations

import streamlit as st

from ..run import Run
from .cache import chart_key
from .session import Session
from .text import notice

PARAM = "snapshot"


def linked_step(text: str | None, steps: list[int]) -> tuple[int, str | None]:
    """The step a page opens on from the link's ``snapshot`` text, and what to tell the
    user when it cannot (not a number, or not one of ``steps``: the last step instead)."""
    last = steps[-1]
    if text is None:
        return last, None
    try:
        step = int(text.strip().replace(",", ""))
    except ValueError:
        step = None
    if step in steps:
        return step, None
    shown = text if len(text) <= 24 else text[:24] + "..."
    return last, (f"snapshot={shown!r} is not one of this run's snapshot steps "
                  f"({steps[0]:,} to {last:,}); showing step {last:,}.")


def snapshot_slider(run: Run) -> int:
    """The slider that picks the step every view draws, kept in the link: another run (new
    settings, Continue, an import) opens on its last step, the page's first run on the
    link's step."""
    steps = run.snapshot_steps
    session = Session()
    if session.snapshot_of != chart_key(run):
        first = session.snapshot_of is None
        session.snapshot_of = chart_key(run)
        step, problem = linked_step(st.query_params.get(PARAM) if first else None, steps)
        if problem:
            notice("warning", problem)
        st.session_state["snapshot"] = step
    step = st.select_slider("snapshot step (drives every view)", steps, key="snapshot")
    if step == steps[-1]:
        st.query_params.pop(PARAM, None)
    elif st.query_params.get(PARAM) != str(step):
        st.query_params[PARAM] = str(step)
    return step

"""What pressing Run search will do, said before it is pressed: how trials, rungs and the
budget combine, how long the trials take, and what the sampler starts from in the store
(said again after a search, since the store it counts has grown)."""

from __future__ import annotations

import os

import streamlit as st

from ...cost import describe_seconds, estimate_seconds
from ...search import IMPORTANCE_TRIALS, SearchSpec
from ...search.spec import WARM_METHODS
from ...search.study import stored_trials
from ...sweep import SCHEDULER_ENV


def describe_plan(spec: SearchSpec, words: list[str] | None, store) -> None:
    """The plan paragraph; ``store`` is the run store (None when it cannot be used)."""
    seconds = spec.expected_seconds(lambda config: estimate_seconds(config, words))
    stored = len(stored_trials(spec, store, words)) if store is not None else 0
    told = stored if spec.method in WARM_METHODS else 0
    # A grid's stored combinations are read, not trained (a grid run again said "about
    # 1 s of training" for nothing to train).
    left = spec.trial_count - stored if spec.method == "grid" else spec.trial_count
    seconds *= max(left, 0) / spec.trial_count
    workers = os.cpu_count() or 1
    shared = f"{describe_seconds(seconds)} of training in all, shared by the workers"
    if not os.environ.get(SCHEDULER_ENV) and workers > 1:
        shared = (f"{describe_seconds(seconds)} of training in all, shared by this server's "
                  f"{workers} worker processes: {describe_seconds(seconds / workers)} on an "
                  "otherwise idle server")
    which = "all the trials" if left == spec.trial_count else f"the {left} not stored"
    take = (f"{which} would take {shared}, estimated over random picks of the "
            f"{'grid' if spec.method == 'grid' else 'ranges'}" if left > 0 else
            "every combination is stored: it reads them and trains nothing")
    mattered = (f" **What mattered** needs {IMPORTANCE_TRIALS} trials trained to their full "
                f"length; this plan draws {spec.trial_count}"
                + (f" and starts from {told}" if told else "") + "."
                if spec.trial_count + told < IMPORTANCE_TRIALS
                and [n for n in spec.searched if n != "seed"] else "")
    st.write(f"**If you press Run search now:** {spec.plan()} Runs of {spec.base.steps:,} steps; "
             f"{take}.{spec.warm_plan(stored)}{mattered}")

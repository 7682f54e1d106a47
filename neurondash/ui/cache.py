"""Per-session caches at the data boundary: chart keys, values derived from a run, models
rebuilt from saved weights, datasets."""

from __future__ import annotations

import streamlit as st

from .. import run_source
from ..cost import describe_seconds, estimate_seconds
from ..identity import run_key
from ..run import Run
from .session import Session


def chart_key(run: Run, *parts) -> tuple:
    """Cache key of a chart: which run (and how far trained), which view, which step."""
    return (run_key(run.config, list(run.words or [])), run.steps_done, run.status, *parts)


def init_key(run: Run, *parts) -> tuple:
    """Cache key of what the run's Config and its step-0 snapshot alone decide (theory at
    init): one for the run however far it has trained."""
    return (run_key(run.config, list(run.words or [])), "init", *parts)


def template_key(run: Run, *parts) -> tuple:
    """Cache key of a chart's spec shared by every snapshot of the run (``render.chart``
    swaps the data in): a run drawn live rebuilds no chart with Altair as it trains."""
    return (run_key(run.config, list(run.words or [])), run.status, *parts)


def derived(run: Run, name: str, compute, key: tuple | None = None):
    """A value computed from a run once per session (reruns only change the view)."""
    cache = Session().derived
    key = key or chart_key(run, name)
    if key not in cache:
        if len(cache) > 40:
            cache.clear()
        cache[key] = compute()
    return cache[key]


def derived_at_init(run: Run, name: str, compute):
    """``derived`` for a value of the run's Config and its step-0 snapshot alone (theory at
    init): computed once for a run however far it has trained, not at every snapshot of a
    run drawn while it trains."""
    return derived(run, name, compute, key=init_key(run, name))


def derived_ready(run: Run, name: str) -> bool:
    """Whether ``_derived`` already holds ``name`` for this run (no work to wait for)."""
    return chart_key(run, name) in Session().derived


def rebuild_seconds(run: Run, step: int) -> float:
    """Seconds of training that rebuild the weights at snapshot ``step`` (from the latest
    state the run kept before it, or where a replay of it already stands, whoever asked
    for that; ``cost.estimate_seconds`` per step)."""
    start = run.replay_start(step)
    whole = estimate_seconds(run.config, run.words)
    return whole * (step - start) / max(run.config.total_steps, 1)


def must_ask(run: Run, step: int | None) -> bool:
    """Whether showing the weights at ``step`` needs training that nobody asked for and
    that takes longer than a link may train unasked (a run imported without its kept
    states, opened by a stranger's link, would otherwise train again up to its length)."""
    if (step is None or step == run.steps_done or step in run.checkpoints
            or step not in run.model_states or step in run.model_states.held()):
        return False
    return (chart_key(run, step) not in Session().rebuilds
            and rebuild_seconds(run, step) > run_source.AUTO_SECONDS)


def kept_step(run: Run, step: int | None) -> int | None:
    """``step`` when the run's weights at that snapshot can be shown (kept, or rebuilt by
    replay within the unasked limit or on request), else None (the final model): the step
    that a model-based view shows, and so part of its cache key."""
    return step if step in run.model_states and not must_ask(run, step) else None


def offer_rebuild(run: Run, step: int) -> None:
    """When the weights at ``step`` take long to rebuild, say so and offer to."""
    if not must_ask(run, step):
        return
    seconds = describe_seconds(rebuild_seconds(run, step))
    st.info(f"This view shows the weights after training: the weights at step {step:,} "
            f"are rebuilt by training the run again, {seconds} here.")
    if st.button(f"Rebuild the weights at step {step:,}", key="rebuild_weights"):
        Session().rebuilds.add(chart_key(run, step))
        st.rerun()


def model_of(run: Run, step: int | None = None):
    """The run's model (at ``step`` when ``kept_step`` allows), built once per session."""
    cache = Session().models
    key = chart_key(run, kept_step(run, step))
    if key not in cache:
        if len(cache) > 4:
            cache.clear()
        cache[key] = model_at(run, key[-1])
    return cache[key]


def model_at(run: Run, kept: int | None, dtype: type | None = None):
    """``run.model(kept, dtype)`` for a ``kept_step``. A run read from the store keeps a
    digest of those weights: training again to the step rebuilds them (a second for the
    default run, up to a minute for the 200k-step lecture run, which keeps no state to
    start from), with a progress bar. Any other choice on the page pauses it (the rerun
    interrupts the bar's update) and the next view that needs them goes on from there."""
    if kept is None or kept in run.model_states.held():
        return run.model(kept, dtype)
    text = f"Training the run again to step {kept:,} to rebuild its weights there"
    bar = st.progress(0.0, text=f"{text}...")

    def show(progress) -> None:
        bar.progress(min(1.0, progress.step / max(kept, 1)),
                     text=f"{text}: step {progress.step:,}. Any other choice on the page "
                          "pauses it; it goes on from there when a view needs these weights.")

    with run.replay_progress(show):
        model = run.model(kept, dtype)
    bar.empty()
    return model


def dataset_of(run: Run):
    from ..data import load_dataset

    return load_dataset(run.config, run.words)

""""Try it": a finding's suggested Config beside the current run, with the number the finding
was about before and after. The suggested run comes from the session or the run store, or
is trained here when it fits the cost limit that opening a link has
(``run_source.AUTO_SECONDS``): a click must not start minutes of work on a shared server."""

from __future__ import annotations

import contextlib
import math
import sqlite3

import streamlit as st

from ... import run_source
from ...config import Config
from ...cost import describe_seconds, estimate_seconds
from ...diagnosis import Finding
from ...diagnosis.numbers import METRICS, improved, label, measure
from ...identity import run_key
from ...run import Run
from ...store import shared_store, storable
from ...training import train
from ..cache import chart_key
from ..guard import callback
from ..session import Session
from ..sidebar import apply_config
from ..text import escape


def change_words(change: dict) -> str:
    """'init_scale 1, norm batch': the change as the sidebar names it."""
    return ", ".join(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
                     for name, value in change.items())


def button(run: Run, finding: Finding, index: int) -> None:
    """The finding's Try it button; pressing it again closes the comparison."""
    opened = Session().try_it
    mine = (chart_key(run), index)

    def toggle() -> None:
        Session().try_it = None if opened == mine else mine

    words = change_words(finding.change)
    # Pressed again it closes: its label says so (a walker's second press hid the
    # comparison without a word).
    st.button(f"Close the comparison with {words}" if opened == mine else f"Try it: {words}",
              key=f"try_it_{index}", on_click=toggle,
              help="Open the suggested settings beside this run, with the number this "
                   "finding is about before and after; press again to close it.")
    if opened == mine:
        compare(run, finding)


def suggested(run: Run, finding: Finding) -> Config | None:
    try:
        return run.config.replace(**finding.change)
    except ValueError as err:  # ConfigError is one
        st.warning(escape(f"The suggested settings are not valid here: {err}"))
        return None


def compare(run: Run, finding: Finding) -> None:
    """The suggested run beside this one, or why it is not shown."""
    config = suggested(run, finding)
    if config is None:
        return
    words = list(run.words) if run.words else None
    other = _fetch(config, words)
    if other is None:
        return
    metric = finding.metric
    before = measure(run, metric, finding.layers)
    after = measure(other, metric, finding.layers)
    name = label(metric, run.config.act)
    layer = f" ({finding.layers[0]})" if finding.layers and "saturated" in metric else ""
    digits = METRICS[metric].digits
    box = st.container(border=True)
    left, right = box.columns(2)
    was = change_words({k: getattr(run.config, k) for k in finding.change})
    left.metric(f"This run ({was}): {name}{layer}", _shown(before, digits))
    right.metric(f"With {change_words(finding.change)}: {name}{layer}", _shown(after, digits))
    if metric != "val_loss":
        left.metric("final validation loss", _shown(measure(run, "val_loss"), ".3f"))
        right.metric("final validation loss", _shown(measure(other, "val_loss"), ".3f"))
    ratio = metric in ("std_ratio", "grad_ratio")
    said = [f"{name}{layer} {verdict(metric, before, after, digits)}"
            + (" (closer to 1: the signal keeps its size across the layers)" if ratio else "")]
    if metric != "val_loss":  # a finding's own number can improve while the result worsens
        said.append(_val_words(measure(run, "val_loss"), measure(other, "val_loss")))
    box.caption(escape(f"With {change_words(finding.change)}: " + "; ".join(said) + "."))
    box.link_button("Open the suggested run", f"?{config.to_query()}")


def verdict(metric: str, before: float, after: float, digits: str) -> str:
    """Better, not better, or about the same: a loss within seed noise, or a number that
    reads the same at the digits shown (a saturated share of 100 beside 100, 99.96 and
    100.0, was called better)."""
    if (metric == "val_loss" and _same_loss(before, after)
            or _shown(before, digits) == _shown(after, digits)):
        return "about the same"
    return "better" if improved(metric, before, after) else "not better"


def _val_words(before: float, after: float) -> str:
    """The final validation loss before and after, judged."""
    if not (math.isfinite(before) and math.isfinite(after)):
        # A diverged run is worse than one that finished, whatever its loss.
        way = ("worse: " if math.isfinite(before) else "better: " if math.isfinite(after)
               else "")
        return (f"final validation loss {way}{_shown(after, '.4f')} against "
                f"{_shown(before, '.4f')}")
    if _same_loss(before, after):
        return (f"final validation loss about the same ({after:.4f} against {before:.4f}: "
                f"closer than {SAME_LOSS:g}, about what a change of seed alone moves it by)")
    way = "better" if after < before else "worse"
    return f"final validation loss {way} ({after:.4f} against {before:.4f})"


SAME_LOSS = 0.015
"""Final validation losses closer than this are about the same: the default run's moves
by 0.011 (std) across seeds 0-7 alone (2.241 to 2.276), so two runs differ by about
0.015 (std of a difference) with nothing else changed."""


def _same_loss(before: float, after: float) -> bool:
    return math.isfinite(before) and math.isfinite(after) and abs(after - before) < SAME_LOSS


def _shown(value: float, digits: str) -> str:
    if math.isinf(value):
        return "diverged"
    return "n/a" if math.isnan(value) else format(value, digits)


@callback("Training the suggested run")
def _train_here(config: Config) -> None:
    """The suggested settings in the sidebar, trained at once (the click asked for it)."""
    apply_config(config)
    Session().action = "train"


def _fetch(config: Config, words: list[str] | None) -> Run | None:
    """The suggested run from the session, the store, or trained within the auto-train
    limit; None (and a sentence saying why) otherwise."""
    key = run_key(config, words)
    runs = Session().runs
    if key in runs:
        try:
            return runs[key]
        except KeyError:
            pass
    try:
        stored = shared_store().get(key)
    except (OSError, sqlite3.Error):
        stored = None
    if stored is not None:
        runs[key] = stored
        return stored
    seconds = estimate_seconds(config, words)
    limit = run_source.AUTO_SECONDS
    if seconds > limit:
        st.info(escape(f"The suggested run would take {describe_seconds(seconds)} to train "
                       f"here, more than the {limit:g} s Try it trains by itself. Trained "
                       "in this tab, it joins this run in the tab's list: Compare overlays "
                       "the two, and back on this run (Runs tab, Open) Try it shows the "
                       "numbers before and after. A new tab starts a list of its own."))
        here, elsewhere = st.columns([1, 1])
        here.button("Train it in this tab", key="train_suggested", on_click=_train_here,
                    args=(config,), type="primary")
        elsewhere.link_button("Open it in a new tab", f"?{config.to_query()}")
        return None
    with st.spinner(f"Training the suggested run ({describe_seconds(seconds)})..."):
        other = train(config, words=words)
    if storable(other):
        with contextlib.suppress(OSError, sqlite3.Error):  # optional: the session keeps it
            shared_store().put(other)
    runs[key] = other
    return other

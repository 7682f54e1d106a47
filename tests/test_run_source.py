"""Where a run comes from, decided from plain facts (no Streamlit)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash.run_source import Facts, decide

AUTO = 4.0


@pytest.mark.parametrize(("facts", "source"), [
    (Facts("open", needs_words=True, in_store=True), "need words"),
    (Facts("train", in_session=True, in_store=True, seconds=100), "session"),
    (Facts("open", in_store=True, seconds=1000), "store"),  # any size opens
    (Facts("open", in_training=True, seconds=1000), "follow"),  # any size is followed
    (Facts("open", seconds=3), "train"),
    (Facts("open", seconds=30), "wait"),
    (Facts("train", seconds=30), "train"),
    (Facts("open", shorter=True, seconds=30, continue_seconds=2), "continue"),
    (Facts("open", shorter=True, seconds=300, continue_seconds=30), "wait"),
    (Facts("continue", shorter=True, seconds=300, continue_seconds=30), "continue"),
    (Facts("train", shorter=True, seconds=300, continue_seconds=30), "continue"),
])
def test_each_source(facts, source):
    assert decide(facts, AUTO).source == source


def test_waiting_says_what_a_click_would_cost():
    assert decide(Facts("open", seconds=30), AUTO).seconds == 30
    assert decide(Facts("open", shorter=True, seconds=90, continue_seconds=12),
                  AUTO).seconds == 12


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.builds(Facts, action=st.sampled_from(["open", "train", "continue"]),
                 seconds=st.floats(0, 1e6), continue_seconds=st.floats(0, 1e6)))
def test_opening_a_link_never_starts_more_than_the_limit(facts):
    """Without a click, nothing estimated above the limit is trained or continued; with
    one, nothing waits."""
    decision = decide(facts, AUTO)
    if decision.source in ("train", "continue") and facts.action == "open":
        assert decision.seconds <= AUTO
    if facts.action != "open":
        assert decision.source != "wait"

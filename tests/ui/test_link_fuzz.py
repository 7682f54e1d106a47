"""Fuzzed links through the whole app (property-based): any values for any settings, unknown
and repeated parameters, any view. The page never raises, never shows an internal error,
explains every bad value, drops it from the link, and lets no text become Markdown.

CI runs a bounded number of links with a fixed seed; run more locally with
``NEURONDASH_FUZZ_LINKS=1000 python -m pytest tests/ui/test_link_fuzz.py``.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from neurondash import run_source
from neurondash.config import SETTINGS, SETTINGS_BY_NAME, ConfigError, spell_value
from neurondash.ui.views import sweep as sweep_view

from .markdown import rendered
from .test_app import APP, TABS, no_internal_error
from .test_hardening import markdown_bodies

EXAMPLES = int(os.environ.get("NEURONDASH_FUZZ_LINKS", "30"))
BASE = {"steps": "20", "depth": "1", "width": "8"}
"""Every link starts from a small run, so the links that do train take milliseconds."""
INJECTIONS = ("[Click to log in](http://127.0.0.1:9/phish)", "![x](http://127.0.0.1:9/x.png)",
              "<img src=x onerror=alert(1)>", "**bold** _it_ `code` :red[red] $x^2$",
              "# heading\n- item", "javascript:alert(1)")


def valid_values(name: str) -> st.SearchStrategy[str]:
    setting = SETTINGS_BY_NAME[name]
    if setting.choices:
        return st.sampled_from(setting.choices)
    if setting.kind is int:
        return st.integers(int(setting.low), int(setting.high)).map(str)
    return st.floats(setting.low, setting.high).map(lambda v: f"{v:g}")


ODD_VALUES = st.one_of(
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e999", "-1", "0", "1e-400",
                     "9" * 400, "0x10", "1_000", "true", "None", "[]", "3.5", ",", "8,,8",
                     *INJECTIONS]),
    st.integers(-10**12, 10**12).map(str), st.floats().map(repr), st.text(max_size=30))


SEARCH_VALUES = {
    "search": st.sampled_from(["lr=0.01,0.1", "lr=auto\nopt=choice(sgd,adamw)",
                               "width=choice(8;16)", "lr=loguniform(0,1)", "task=names"]),
    "method": st.sampled_from(["tpe", "random", "grid", "cmaes"]),
    "trials": st.integers(1, 3).map(str), "repeats": st.integers(1, 2).map(str),
    "budget": st.integers(0, 5).map(str), "search_seed": st.integers(0, 9).map(str),
    "rungs": st.integers(1, 4).map(str)}
"""Valid values of the search's link parameters (small: the view trains nothing unasked)."""


@st.composite
def links(draw) -> dict[str, str | list[str]]:
    params: dict[str, str | list[str]] = dict(BASE)
    for name in draw(st.lists(st.sampled_from([s.name for s in SETTINGS]), max_size=4,
                              unique=True)):
        params[name] = draw(st.one_of(valid_values(name), ODD_VALUES))
    if draw(st.booleans()):
        params["view"] = draw(st.one_of(st.sampled_from(TABS), ODD_VALUES))
    if draw(st.booleans()):
        params[draw(st.sampled_from(["lr2", "x", "embed_dimension", "Lr"]))] = draw(ODD_VALUES)
    if draw(st.booleans()):  # the Sweep view's search, as a link carries it
        params["view"] = "Sweep"
        for name in draw(st.lists(st.sampled_from(sorted(sweep_view.LINK_DEFAULTS)),
                                  max_size=3, unique=True)):
            params[name] = draw(st.one_of(SEARCH_VALUES[name], ODD_VALUES))
    if draw(st.booleans()):  # a repeated parameter: Streamlit takes the last
        name = draw(st.sampled_from(["act", "lr", "depth"]))
        params[name] = [draw(ODD_VALUES), draw(valid_values(name))]
    return params


def invalid(name: str, value: str) -> bool:
    try:
        SETTINGS_BY_NAME[name].coerce(value)
    except ConfigError:
        return True
    return False


PUNCTUATION = re.compile(r"[\[\]()!<>*_`$#|~]")
"""Characters that make Markdown: a value holding one must never reach a page unescaped."""


def raw_values(params: dict[str, str | list[str]]) -> list[str]:
    """Every value and unknown name of a link, as sent."""
    found = []
    for name, value in params.items():
        found += value if isinstance(value, list) else [value]
        if name not in SETTINGS_BY_NAME:
            found.append(name)
    return [text for text in found if len(text.strip()) > 1]


@pytest.fixture
def quick_auto_train(monkeypatch):
    """Links that train do so in milliseconds here: the test is about parsing, so runs
    over a quarter of a second wait for Train, as bigger ones do for users."""
    monkeypatch.setattr(run_source, "AUTO_SECONDS", 0.25)


def test_fuzzed_links_never_break_the_page(quick_auto_train):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(links())
    def check(params: dict[str, str | list[str]]) -> None:
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, (params, [e.value for e in at.exception])
        no_internal_error(at)
        # A setting's own choice (leaky_relu) is the page's word too, not the sender's.
        choices = {choice for setting in SETTINGS for choice in setting.choices}
        shown_raw = [value for value in raw_values(params)
                     if PUNCTUATION.search(value) and value not in choices]
        for body in markdown_bodies(at):  # escaping changes every one of them
            assert not [value for value in shown_raw if value in body], (params, body)
        explained = " ".join(rendered(w.value) for w in at.warning)
        for name, value in params.items():
            last = value[-1] if isinstance(value, list) else value
            if name in SETTINGS_BY_NAME and invalid(name, last):
                assert f"{name}=" in explained, (params, explained)
                # Dropped, or (a number beyond a bound) the bound the run used.
                nearest = SETTINGS_BY_NAME[name].nearest(last)
                assert (name not in at.query_params or nearest is not None and
                        at.query_params[name] == spell_value(nearest)), (params, name)
            elif name in sweep_view.LINK_DEFAULTS:
                refused = sweep_view.check_link({name: last})
                if refused:
                    assert f"{name}=" in explained, (params, explained)
                    # The nearest bound, or taken out (as is a control's own default).
                    instead = refused[name][1]
                    if instead == str(sweep_view.LINK_DEFAULTS[name]):
                        instead = None
                    assert at.query_params.get(name) == instead, (params, name)
            elif name not in SETTINGS_BY_NAME and name != "view":
                assert f"unknown parameter {name!r}" in explained, (params, explained)
                assert name not in at.query_params, (params, name)

    check()


"""A link is exact for every valid value: Config -> link -> page -> Config is the identity,
for values drawn anywhere in each setting's range (off any slider grid, as a search draws
them), for every setting of the table. The address bar's half of the round trip is the
browser journeys' (AppTest does not see bound widgets in the link)."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from neurondash import run_source
from neurondash.config import SETTINGS, SETTINGS_BY_NAME, Config, ConfigError

from .test_app import APP, no_internal_error

EXAMPLES = int(os.environ.get("NEURONDASH_FUZZ_LINKS", "25"))


def any_value(name: str) -> st.SearchStrategy:
    """Any value the settings table allows for ``name``."""
    setting = SETTINGS_BY_NAME[name]
    if setting.multi:
        return st.lists(st.sampled_from(setting.choices), min_size=1, unique=True).map(
            ",".join)
    if setting.choices:
        return st.sampled_from(setting.choices)
    if name == "width":
        return st.lists(st.integers(1, 64), min_size=1, max_size=3).map(
            lambda ws: ",".join(map(str, ws)) if len(ws) > 1 else str(ws[0]))
    if setting.kind is int:
        return st.integers(int(setting.low), int(min(setting.high, 5000)))
    if setting.log:  # as a search draws it: log-uniform, 4 significant digits, or in full
        exponent = st.floats(math.log10(setting.low), math.log10(setting.high))
        return st.one_of(exponent.map(lambda e: float(f"{10 ** e:.4g}")),
                         exponent.map(lambda e: 10 ** e)).filter(
            lambda v: setting.low <= v <= setting.high)
    return st.floats(setting.low, setting.high, allow_subnormal=False)


@st.composite
def configs(draw) -> Config:
    values = {s.name: draw(any_value(s.name)) for s in SETTINGS
              if draw(st.booleans()) and s.name != "task"}
    values["task"] = draw(st.sampled_from(SETTINGS_BY_NAME["task"].choices))
    widths = str(values.get("width", "")).split(",")
    if len(widths) > 1:
        values["depth"] = len(widths)
    try:
        config = Config(**values)
    except ConfigError:
        assume(False)
    # The sidebar shows only the settings the task uses; the others stay at their defaults.
    return config.replace(**{s.name: s.default for s in SETTINGS if not config.applies(s.name)})


def page_config(at: AppTest) -> Config:
    """The Config the page's controls hold."""
    values = {}
    for setting in SETTINGS:
        if setting.name in at.session_state:
            value = at.session_state[setting.name]
            values[setting.name] = ",".join(value) if setting.multi else value
    return Config.from_dict(values)


@pytest.fixture
def never_train(monkeypatch):
    """The test is about the link, not the run: nothing trains unasked."""
    monkeypatch.setattr(run_source, "AUTO_SECONDS", 0.0)


def test_a_link_opens_every_value_exactly(never_train):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.function_scoped_fixture])
    @given(configs())
    def check(config: Config) -> None:
        at = AppTest.from_file(APP, default_timeout=60)
        for part in config.to_query().split("&") if config.to_query() else []:
            name, value = part.split("=", 1)
            at.query_params[name] = value
        no_internal_error(at.run())
        assert not at.exception, [e.value for e in at.exception]
        assert not at.warning, (config.to_query(), [w.value for w in at.warning])
        assert page_config(at) == config, config.to_query()

    check()


@pytest.mark.parametrize("link, expected", [
    ("lr=0.01353", {"lr": 0.01353}),
    ("lr=0.010&init_scale=.73", {"lr": 0.01, "init_scale": 0.73}),
    ("width=96, 40&depth=2", {"width": "96,40", "depth": 2}),
    ("out_scale=0.0137&bias_init=1e-3", {"out_scale": 0.0137, "bias_init": 0.001}),
])
def test_a_link_spelled_another_way_keeps_its_value(never_train, link, expected):
    at = AppTest.from_file(APP, default_timeout=60)
    for part in link.split("&"):
        name, value = part.split("=", 1)
        at.query_params[name] = value
    no_internal_error(at.run())
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert {name: at.session_state[name] for name in expected} == expected
    assert page_config(at) == Config(**expected)


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.none(), st.text(max_size=40), st.integers(-10, 10_000).map(str),
                 st.sampled_from(["²", "١٢", "٣"])),
       st.lists(st.integers(0, 10_000), min_size=1, max_size=30, unique=True).map(sorted))
def test_a_links_snapshot_step_is_taken_or_its_problem_said(text, steps):
    from neurondash.ui.snapshot_link import link_step

    step, problem = link_step(text, steps)
    digits = text is not None and text.isascii() and text.isdigit()  # '²' is no number
    if text is None or (digits and int(text) in steps):
        assert step is None and problem is None
        return
    assert step in steps and problem.endswith(f"step {step:,}.") and len(problem) < 200
    if digits:  # no snapshot lies nearer the asked step
        assert all(abs(other - int(text)) >= abs(step - int(text)) for other in steps)
        assert "the nearest" in problem
    else:
        assert step == steps[-1]


@pytest.mark.parametrize("snapshot, shown, warned", [("2400", 2400, False),
                                                     ("2,400", 3000, True),
                                                     ("2401", 2400, True),
                                                     ("99999", 3000, True),
                                                     ("**bold**", 3000, True)])
def test_a_link_opens_on_its_snapshot_step(snapshot, shown, warned):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["snapshot"] = snapshot
    no_internal_error(at.run())
    assert at.session_state["snapshot"] == shown
    said = [w.value for w in at.warning if "snapshot" in w.value]
    assert bool(said) == warned, said
    assert at.query_params.get("snapshot") == (None if shown == 3000 else str(shown))
    # Another run (here Continue's) opens on its own last step, unless the link's step is
    # one of its steps too: the address bar still says it.
    next(b for b in at.button if b.label == "Continue").click()
    no_internal_error(at.run())
    last = int(at.select_slider(key="snapshot").options[-1])
    assert at.session_state["snapshot"] == (last if shown == 3000 else shown) and last > 3000

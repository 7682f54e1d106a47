"""The session's keys: one object lists them, and the UI code uses no other literal key than
its widgets' own."""

from __future__ import annotations

import re
from pathlib import Path

from neurondash.config import SETTINGS_BY_NAME
from neurondash.ui.session import Session

UI = Path(__file__).resolve().parents[2] / "neurondash" / "ui"
WIDGET_KEYS = {"view", "snapshot", "import_file", "runs_table", "compare_runs",
               "runs_whole_store"}
"""Keys of widgets whose values callbacks set (besides the settings' own controls)."""


def test_missing_keys_read_as_defaults_and_containers_are_kept():
    state: dict = {}
    session = Session(state)
    assert session.action == "open" and session.url_warnings is None and not state
    assert session.runs is state["runs"] and not session.runs
    session.continue_refused = "why"
    assert session.take("continue_refused") == "why" and "continue_refused" not in state
    session.imported_words = ("anna",)
    session.forget_runs()
    assert not {"runs", "imported_words"} & state.keys()


def test_the_ui_uses_no_session_key_outside_the_session_object():
    literal = re.compile(r"session_state(?:\[|\.get\(|\.pop\(|\.setdefault\()\"([a-z_]+)\"")
    found = {key for path in UI.rglob("*.py") if path.name != "session.py"
             for key in literal.findall(path.read_text(encoding="utf-8"))}
    assert found <= WIDGET_KEYS | SETTINGS_BY_NAME.keys(), found - WIDGET_KEYS


def test_the_runs_a_session_made_are_kept_past_its_shelf_and_its_reset():
    from neurondash import Config, train
    from neurondash.identity import run_key

    session = Session({})
    run = train(Config(depth=1, width="8", steps=5))
    session.runs[run_key(run.config)] = run
    imported = train(Config(depth=1, width="8", steps=5, seed=1))
    session.runs.hold(run_key(imported.config), imported)  # an upload: never a stored run
    assert session.own_runs == {run_key(run.config)}
    session.forget_runs()
    assert session.own_runs == {run_key(run.config)}
    assert session.runs.owned is session.own_runs

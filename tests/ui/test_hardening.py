"""Regression tests of the failures strangers' links and files caused (issue: hardening).
Each failed before its fix."""

from __future__ import annotations

import json

import pytest

from neurondash import Config, train
from neurondash.ui import app as dashboard
from neurondash.ui.views import export as export_view

from .markdown import texts
from .test_app import SMALL, no_internal_error, open_app, show

PHISH = "[Click to log in](http://127.0.0.1:9/phish) ![x](http://127.0.0.1:9/x.png)"


def markdown_bodies(at) -> list[str]:
    """The Markdown source of every message and text element on the page."""
    kinds = ("warning", "error", "info", "success", "markdown", "caption", "exception")
    return [element.value for kind in kinds for element in at.get(kind)]


def assert_no_live_markdown(at, payload: str = PHISH) -> None:
    """The payload may be shown, but only as its characters: never as a link or image."""
    for body in markdown_bodies(at):
        assert "](" not in body.replace("\\](", "").replace("\\]\\(", ""), body
        assert "![" not in body.replace("\\!\\[", ""), body


def test_reset_on_a_link_with_changed_settings_brings_back_the_defaults():
    at = open_app({"task": "moons", "steps": "30", "lr": "0.3"})
    assert at.session_state["task"] == "moons"
    at.button[2].click().run()  # Reset
    no_internal_error(at)
    assert not at.exception
    assert at.session_state["task"] == "names" and at.session_state["steps"] == 3000
    assert at.session_state["lr"] == 0.1
    runs = list(at.session_state["runs"].values())
    assert [run.config for run in runs] == [Config()], "only the default run is kept"


def test_a_link_cannot_put_a_link_or_an_image_in_the_page():
    at = open_app({"act": PHISH, "steps": "30"})
    assert not at.exception
    assert PHISH in texts(at.warning), "the bad value is explained, as typed"
    assert_no_live_markdown(at)


def test_a_word_list_line_cannot_put_markdown_in_the_page():
    at = open_app(SMALL | {"task": "words"})
    uploader = next(u for u in at.get("file_uploader") if u.proto.label.startswith("word"))
    uploader.set_value(("w.txt", f"anna\n{PHISH}\n".encode(), "text/plain")).run()
    assert not at.exception
    assert "Word list rejected" in texts(at.error)
    assert_no_live_markdown(at)


def test_a_valid_short_run_opens_the_sweep_view():
    at = open_app({"steps": "7"}, tab="Sweep")
    assert not at.exception
    assert "of 7 steps" in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("query", ["batch=1&snap_every=1&steps=199&width=300&depth=12",
                                   "depth=12&width=600&steps=20"])
def test_a_heavy_link_waits_for_train_and_says_how_long(monkeypatch, query):
    trained = []
    monkeypatch.setattr(dashboard, "train", lambda *a, **k: trained.append(a))
    at = open_app(dict(pair.split("=") for pair in query.split("&")))
    assert not at.exception
    assert not trained, "nothing was trained unasked"
    waiting = texts(at.info)
    assert "press Train" in waiting.replace("**", "") and "to train here" in waiting


def test_streamlits_embed_parameter_is_explained():
    at = open_app(SMALL | {"embed": "16"})
    assert "the embedding size is embed_dim" in texts(at.warning)


def crash_files() -> dict[str, bytes]:
    text = train(Config(depth=1, width="8", steps=30)).to_json()
    blob = json.loads(text)
    return {
        "deep nesting": (text[:-1] + ', "x": ' + "[" * 50_000 + "]" * 50_000 + "}").encode(),
        "no uniform baseline": json.dumps(blob | {"baselines": {"unigram": 2.8}}).encode(),
        "5,000 digits": text.replace('"steps_done": 30', '"steps_done": ' + "9" * 5000).encode(),
        "markdown message": json.dumps(blob | {"message": PHISH, "status": "stopped",
                                               "steps_done": 12}).encode(),
    }


def test_a_malformed_import_is_rejected_and_the_dashboard_kept():
    at = open_app(SMALL, tab="Export / import")
    before = list(at.session_state["runs"])
    for name, data in crash_files().items():
        at.get("file_uploader")[-1].set_value((f"{name}.json", data, "application/json"))
        at.run()
        assert not at.exception, name
        assert "Import rejected" in texts(at.error), name
        assert list(at.session_state["runs"]) == before, name
        assert_no_live_markdown(at)
    at.button[2].click().run()  # Reset still works after all of it
    assert not at.exception and at.session_state["depth"] == 3


def test_an_error_in_a_callback_is_reported_and_the_page_kept(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom [x](http://127.0.0.1:9)")

    monkeypatch.setattr(export_view, "read_run_file", broken)
    at = open_app(SMALL, tab="Export / import")
    exported = train(Config(depth=1, width="8", steps=30)).to_json().encode()
    at.get("file_uploader")[-1].set_value(("run.json", exported, "application/json")).run()
    assert not at.exception
    assert "Import stopped on an internal error (RuntimeError: boom" in texts(at.error)
    assert_no_live_markdown(at)
    assert show(at, "Overview") is not None and not at.exception


def test_text_typed_into_the_views_cannot_put_markdown_in_the_page():
    at = open_app(SMALL, tab="Logits")
    at.text_input(key="ctx_text").set_value("[x](http://127.0.0.1:9)").run()
    assert not at.exception
    assert_no_live_markdown(at)
    show(at, "Sweep")
    at.text_area(key="search").set_value(f"init_scale=0.1, {PHISH}").run()
    assert not at.exception
    assert PHISH in texts(at.warning), "the search's bad value is explained, as typed"
    assert_no_live_markdown(at)

"""Ownership without accounts: a visitor's Runs view lists the runs their own session trained
or opened, never another visitor's word-list runs or words, and deletes nothing unless the
operator enabled it (``NEURONDASH_ADMIN``), and then only after a confirmation."""

from __future__ import annotations

from neurondash import Config
from neurondash.identity import run_key
from neurondash.store import shared_store
from neurondash.ui.ownership import admin_enabled

from .markdown import rendered
from .test_app import open_app, show
from .test_store_app import CONFIG, SMALL, select_rows, whole_store

RELU = SMALL | {"act": "relu"}
PRIVATE_WORDS = [f"{a}{b}{c}qu" for a in "mnop" for b in "aei" for c in "rst"]
"""A word list only its uploader may see (36 words, none of them in the names data)."""


def listed(at) -> list[str]:
    """The settings of the rows the Runs view lists (none when it shows no table)."""
    return [] if not at.dataframe else list(at.dataframe[0].value["settings"])


def has_button(at, key: str) -> bool:
    return any(button.key == key for button in at.button)


def page_text(at) -> str:
    """Everything the page says in text: messages, captions, Markdown and table cells."""
    parts = [rendered(e.value) for kind in ("markdown", "caption", "info", "warning",
                                            "error", "success") for e in getattr(at, kind)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


def upload_words(at):
    at.selectbox(key="task").set_value("words").run()
    uploader = next(u for u in at.get("file_uploader") if u.proto.label.startswith("word"))
    uploader.set_value(("mine.txt", "\n".join(PRIVATE_WORDS).encode(), "text/plain")).run()
    assert not at.exception and not at.error, [rendered(e.value) for e in at.error]
    return at


def test_the_admin_setting_is_off_unless_the_operator_sets_it():
    assert not admin_enabled({}) and not admin_enabled({"NEURONDASH_ADMIN": "0"})
    assert admin_enabled({"NEURONDASH_ADMIN": "1"}) and admin_enabled({"NEURONDASH_ADMIN": " yes"})


def test_a_second_session_neither_sees_nor_deletes_the_first_ones_runs():
    first = open_app(SMALL)
    show(first, "Runs")
    assert listed(first) == [CONFIG.to_query()]
    assert not has_button(first, "runs_delete"), "a visitor was offered Delete"
    second = open_app(RELU, tab="Runs")
    assert listed(second) == [CONFIG.replace(act="relu").to_query()]
    assert not has_button(second, "runs_delete") and not has_button(second, "runs_whole_store")
    assert run_key(CONFIG) in shared_store()
    # What the store holds in all is other visitors' business: the caption gives what this
    # session's own run takes, never the store's total.
    text = page_text(second)
    own = next(row.bytes for row in shared_store().list()
               if row.key == run_key(CONFIG.replace(act="relu")))
    assert shared_store().total_bytes() > own
    assert f"they take {own / 1e3:,.0f} KB of the server's" in text and "MB used" not in text
    # Following the first one's link opens its run (the link is the run) and lists it for
    # this session too, still without a Delete.
    third = open_app(SMALL, tab="Runs")
    assert listed(third) == [CONFIG.to_query()] and not has_button(third, "runs_delete")
    assert run_key(CONFIG) in shared_store()


def test_with_the_admin_setting_a_session_still_lists_only_its_own_runs_by_default(
        monkeypatch):
    monkeypatch.setenv("NEURONDASH_ADMIN", "1")
    open_app(SMALL)
    second = open_app(RELU, tab="Runs")
    assert listed(second) == [CONFIG.replace(act="relu").to_query()]
    assert sorted(listed(whole_store(second))) == sorted(
        [CONFIG.to_query(), CONFIG.replace(act="relu").to_query()])


def test_word_list_runs_and_their_words_are_never_shown_to_another_session(monkeypatch):
    monkeypatch.setenv("NEURONDASH_ADMIN", "1")
    owner = upload_words(open_app(SMALL))
    show(owner, "Runs")
    assert [s for s in listed(owner) if "task=words" in s], listed(owner)
    for other in (open_app(RELU, tab="Runs"), whole_store(open_app(RELU, tab="Runs"))):
        assert not [s for s in listed(other) if "task=words" in s], listed(other)
        text = page_text(other)
        assert not any(word in text for word in PRIVATE_WORDS)
    assert "1 run of other visitors' word lists is not listed" in page_text(other)


def test_the_operator_deletes_a_run_only_after_confirming_it(monkeypatch):
    monkeypatch.setenv("NEURONDASH_ADMIN", "1")
    at = select_rows(open_app(SMALL, tab="Runs"), [0])
    key = run_key(CONFIG)
    at.button(key="runs_delete").click().run()
    assert key in shared_store(), "deleted at the first click"
    assert "Delete 1 run from the store" in page_text(at)
    at.button(key="runs_delete_cancel").click().run()
    assert key in shared_store() and not has_button(at, "runs_delete_confirm")
    at = select_rows(at, [0])
    at.button(key="runs_delete").click().run()
    at.button(key="runs_delete_confirm").click().run()
    assert not at.exception and key not in shared_store()
    assert listed(at) == []
    text = page_text(at)
    assert f"Deleted 1 run from the store: {CONFIG.to_query()}." in text, "with what went"
    assert "None of this tab's runs is in the store any more" in text
    assert f"1 run of this tab ({CONFIG.to_query()}) is no longer in the store" in text
    at.run()
    assert "Deleted 1 run" not in page_text(at), "said once"


def test_a_confirmation_left_over_is_refused_once_the_setting_is_off(monkeypatch):
    monkeypatch.setenv("NEURONDASH_ADMIN", "1")
    at = select_rows(open_app(SMALL, tab="Runs"), [0])
    at.button(key="runs_delete").click().run()
    confirm = at.button(key="runs_delete_confirm")
    monkeypatch.delenv("NEURONDASH_ADMIN")
    confirm.click().run()
    assert run_key(CONFIG) in shared_store()
    assert not has_button(at, "runs_delete")


def test_the_runs_a_search_trained_are_listed_to_its_session_alone():
    from .test_search_view import search_in_tab

    at = open_app(SMALL, tab="Sweep")
    _spec, log = search_in_tab(at, "lr=0.01,0.03")
    trained = {planned.config.to_query() for planned in log.runs}
    assert len(trained) == 2
    show(at, "Runs")
    assert trained <= set(listed(at)), listed(at)
    assert not trained & set(listed(open_app(RELU, tab="Runs")))


def test_a_diverged_run_is_listed_among_the_sessions_own():
    """A diverged run is stored whole (its steps past the blow-up would only repeat it), so
    the session that trained it lists it like any other."""
    diverged = {"act": "relu", "lr": "3", "width": "32", "steps": "30"}
    at = open_app(diverged, tab="Runs")
    config = Config(act="relu", lr=3.0, width="32", steps=30)
    assert shared_store().get(run_key(config)).status == "diverged"
    assert listed(at) == [config.to_query()]

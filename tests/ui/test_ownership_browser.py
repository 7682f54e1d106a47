"""Two visitors of one server in a real browser (two Chromium contexts: no shared cookies or
storage): the second one neither lists nor can delete the first one's run, even after
opening its link. Screenshots of every step go to ``artifacts/journeys/ownership/``."""

from __future__ import annotations

import pytest

from neurondash.config import Config
from neurondash.identity import run_key
from neurondash.store import RunStore

from .test_browser import ARGS, CHROMIUM, playwright, streamlit_server
from .test_journeys import Journey, metrics, select_rows, settle

FIRST = "depth=1&width=8&steps=30"
SECOND = "depth=1&width=8&act=relu&steps=30"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("ownership-store")


@pytest.fixture(scope="module")
def server(store):
    """A shared server as a class would use it: the admin setting off."""
    with streamlit_server({"NEURONDASH_STORE": str(store), "NEURONDASH_ADMIN": ""}) as url:
        yield url


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def own_count(page) -> str:
    """The Runs view's caption: how many runs this session trained or opened."""
    caption = page.get_by_text("The runs this browser tab trained or opened")
    caption.wait_for(timeout=60_000)
    return caption.inner_text()


@pytest.mark.browser
def test_a_second_visitor_cannot_delete_the_first_ones_run(server, store, browser):
    first = Journey(browser, "ownership")
    first.open(f"{server}/?{FIRST}&view=Runs")
    metrics(first.page)
    assert "trained or opened: 1;" in own_count(first.page)
    assert first.page.get_by_role("button", name="Delete...").count() == 0
    first.shot("first-visitor-lists-its-run")

    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    second = context.new_page()
    first.open(f"{server}/?{SECOND}&view=Runs", page=second)
    metrics(second)
    assert "trained or opened: 1;" in own_count(second), "it lists only its own run"
    assert second.get_by_role("button", name="Delete...").count() == 0
    first.shot("second-visitor-lists-only-its-own", second)

    # The link is the run: the second visitor follows the first one's link (a page load,
    # so a new session) and the run opens from the store and is listed as opened, but no
    # Delete is offered for it (or for any run).
    first.open(f"{server}/?{FIRST}&view=Runs", page=second)
    assert second.get_by_text("Opened from the run store").count() == 1
    assert "trained or opened: 1;" in own_count(second)
    first.shot("second-visitor-follows-the-first-ones-link", second)
    select_rows(second, [0])
    second.locator("[data-testid^='stBaseButton']").filter(has_text="Open").first.wait_for(
        timeout=30_000)  # the one row is selected: Open is offered, Delete is not
    assert second.get_by_role("button", name="Delete...").count() == 0
    assert second.get_by_text("Deleting runs is the operator's").count() == 1
    first.shot("second-visitor-selects-it-open-but-no-delete", second)

    first.page.reload()
    settle(first.page)
    assert "trained or opened: 1;" in own_count(first.page)
    first.shot("first-visitor-reloaded")
    assert run_key(Config.from_query(FIRST)[0]) in RunStore(store)
    context.close()


@pytest.fixture(scope="module")
def operator_server(tmp_path_factory):
    """The operator's own instance: the admin setting on."""
    store = tmp_path_factory.mktemp("operator-store")
    with streamlit_server({"NEURONDASH_STORE": str(store), "NEURONDASH_ADMIN": "1"}) as url:
        yield url, store


@pytest.mark.browser
def test_the_operator_deletes_a_visitors_run_after_confirming(operator_server, browser):
    url, store = operator_server
    visitor = Journey(browser, "ownership-operator")
    visitor.open(f"{url}/?{FIRST}")
    metrics(visitor.page)
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    operator = context.new_page()
    visitor.open(f"{url}/?{SECOND}&view=Runs", page=operator)
    assert "trained or opened: 1;" in own_count(operator)
    operator.get_by_text("Whole store (operator)").click()
    operator.get_by_text("Every run kept on this server: 2 runs;").wait_for(timeout=60_000)
    settle(operator)
    visitor.shot("operator-sees-the-whole-store", operator)
    key = run_key(Config.from_query(FIRST)[0])
    row = 0 if RunStore(store).list()[0].key == key else 1  # newest used first
    select_rows(operator, [row])
    operator.get_by_role("button", name="Delete...").click()
    operator.get_by_role("button", name="Yes, delete").wait_for(timeout=60_000)
    settle(operator)
    assert key in RunStore(store), "deleted before the confirmation"
    visitor.shot("operator-asked-to-confirm", operator)
    operator.get_by_role("button", name="Yes, delete").click()
    operator.get_by_text("Every run kept on this server: 1 run;").wait_for(timeout=60_000)
    settle(operator)
    assert key not in RunStore(store)
    visitor.shot("operator-deleted-it", operator)
    context.close()

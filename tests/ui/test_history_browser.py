"""Back and Forward in a real browser step through the settings a visitor tried: a changed
setting is a history entry, a tab is not, and each step back shows its own run again."""

from __future__ import annotations

import pytest

from .test_browser import ARGS, CHROMIUM, playwright, streamlit_server
from .test_journeys import choose, metrics, params, settle

LINK = "steps=300&width=32"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("history-store")
    with streamlit_server({"NEURONDASH_STORE": str(store)}) as url:
        yield url


@pytest.mark.browser
def test_back_undoes_a_setting_change_and_forward_redoes_it(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/?{LINK}", timeout=60_000)
        tanh = metrics(page)
        settle(page)
        choose(page, "act", "relu")
        page.wait_for_function("() => location.search.includes('act=relu')", timeout=60_000)
        settle(page)
        relu = metrics(page)
        assert relu != tanh
        page.get_by_role("tab", name="Gradients", exact=True).click()
        page.wait_for_function("() => location.search.includes('view=Gradients')",
                               timeout=60_000)
        settle(page)

        page.go_back()  # past the tab, which made no entry, to the setting before
        page.wait_for_function("() => !location.search.includes('act=')", timeout=60_000)
        settle(page)
        assert params(page.url) == params(f"?{LINK}")
        assert metrics(page) == tanh
        assert page.get_by_role("combobox", name="act").input_value() == "tanh", \
            "the control shows the setting again, so Train trains what the link says"

        page.go_forward()
        page.wait_for_function("() => location.search.includes('act=relu')", timeout=60_000)
        settle(page)
        assert metrics(page) == relu
        assert page.get_by_role("combobox", name="act").input_value() == "relu"
        browser.close()

"""A real browser: headless Debian Chromium driven by Playwright against `streamlit run`.

Skipped only where Chromium is missing locally; CI installs it (see .ci/run), and there the
test must run: with CI set, a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium for the browser test")
    pytest.skip("Debian chromium is not installed (apt-get install -y chromium)",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None, script: str = "app.py"):
    """``streamlit run app.py`` (or another ``script`` under the checkout) on a free port,
    healthy, stopped afterwards; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         # A source file edited while a test runs must not reload modules mid-training.
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not become healthy within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture
def page():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser.new_page(viewport={"width": 1400, "height": 1000})


def open_trained(page, url: str) -> None:
    """Open a link and wait until its run is trained and shown."""
    page.goto(url, timeout=60_000)
    page.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
    wait_idle(page)


def press(page, button: str, link_condition: str) -> None:
    """Click a button and wait until the address bar meets ``link_condition`` (JS) and the
    rerun it started has finished."""
    page.get_by_role("button", name=button).click()
    page.wait_for_function(f"() => {link_condition}", timeout=60_000)
    wait_idle(page)


QUIET_MS = 300
IDLE_FOR = """(quiet) => {
    const now = performance.now();
    if (!window.__pageQuiet) {
        window.__pageQuiet = {since: now};
        new MutationObserver(() => { window.__pageQuiet.since = performance.now(); })
            .observe(document, {childList: true, subtree: true, characterData: true});
    }
    const state = document.querySelector("[data-testid='stApp']")?.dataset.testScriptState;
    const loading = document.querySelector("[data-testid='stSkeleton']");
    if (state !== "notRunning" || loading) window.__pageQuiet.since = now;
    return now - window.__pageQuiet.since >= quiet;
}"""


def wait_idle(page) -> None:
    """Wait until no script runs, no element waits for its code, and the page has not
    changed for QUIET_MS. A fresh page fetches each kind of element's code on first use and
    shows a skeleton meanwhile, after the script has finished: a store-opened run's header
    had 0 of its 5 cells for 350 ms after "not running" here, and a CI run read 3 of them."""
    page.evaluate("() => { if (window.__pageQuiet) window.__pageQuiet.since = performance.now(); }")
    page.wait_for_function(IDLE_FOR, arg=QUIET_MS, timeout=120_000)


@pytest.mark.browser
def test_shared_link_opens_trained_and_controls_update_the_url(server, page):
    page.goto(f"{server}/?act=relu&steps=400&width=32&depth=2", timeout=60_000)
    page.wait_for_selector("[data-testid='stVegaLiteChart']", state="attached",
                           timeout=120_000)
    wait_idle(page)
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 2
    assert page.locator("[data-testid='stException']").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    before = page.url
    assert "act=relu" in before
    set_width(page, "24")
    wait_idle(page)
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 2
    assert page.locator("[data-testid='stException']").count() == 0
    assert "width=24" in page.url and "act=relu" in page.url and page.url != before


def set_width(page, value: str) -> None:
    """Type a width into the sidebar and wait until the address bar carries it."""
    box = page.get_by_label("width", exact=True)
    box.fill(value)
    box.press("Enter")
    page.wait_for_function(f"() => window.location.search.includes('width={value}')",
                           timeout=60_000)


@pytest.mark.browser
def test_changing_a_setting_during_training_leaves_a_working_page(server, page):
    page.goto(f"{server}/?steps=60000&width=64", timeout=60_000)
    wait_idle(page)  # a large run waits for the Train button
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_selector("[data-testid='stProgress']", timeout=60_000)
    set_width(page, "48")
    wait_idle(page)  # the new settings are a large run too (~6 s): it waits for Train
    # The training of the width it left stops at once, is said, and shows as kept.
    page.get_by_text(re.compile(r"The settings changed, so the training of the previous "
                                r"ones stopped at step [\d,]+ of 60,000")).wait_for()
    # Drawn further down the same script run as the notice: on a busy machine it arrives
    # a moment later.
    page.get_by_text(re.compile(r"^Stopped at step [\d,]+ of 60,000")).wait_for()
    assert page.get_by_text(re.compile(r"^Stopped at step [\d,]+ of 60,000")).count() == 1
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"^Stopped at step")).wait_for(state="detached")
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stMetric']\").length >= 4",
        timeout=120_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMetric']").count() >= 4


@pytest.mark.browser
def test_lesson_preset_link_reproduces_its_effect(server, page):
    from neurondash.presets import PRESETS_BY_SLUG

    preset = PRESETS_BY_SLUG["saturated-tanh"]
    page.goto(f"{server}/?{preset.query}", timeout=60_000)
    page.wait_for_selector("[data-testid='stVegaLiteChart']", state="attached",
                           timeout=120_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text(preset.finding).count() >= 1
    page.get_by_role("tab", name="Activations").click()
    # Only the open tab is drawn: opening one reruns the script and puts it in the link.
    page.wait_for_function("() => window.location.search.includes('view=Activations')",
                           timeout=60_000)
    wait_idle(page)
    page.locator("[data-testid='stVegaLiteChart'] canvas:visible").first.wait_for(
        timeout=30_000)
    assert page.get_by_text("activations at the selected step").count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lesson-saturated-tanh.png"), full_page=True)


@pytest.mark.browser
def test_choosing_2d_input_features_retrains_and_goes_into_the_link(server, page):
    page.goto(f"{server}/?task=circles&depth=1&width=4&steps=300&view=Neuron",
              timeout=60_000)
    page.wait_for_selector("[data-testid='stVegaLiteChart']", state="attached",
                           timeout=120_000)
    wait_idle(page)
    choices = page.locator("[data-testid='stMultiSelect'] input").first
    for _ in range(3):  # open the sidebar's Data section (a rerun may redraw it closed)
        page.get_by_text("Data", exact=True).click()
        try:
            choices.wait_for(state="visible", timeout=10_000)
            break
        except playwright.TimeoutError:
            wait_idle(page)
    chosen = page.locator("[data-testid='stMultiSelectTagsContainer']", has_text="x1sq")
    for _ in range(5):  # on a loaded machine a click on the menu can be lost, or land while
        # the menu re-renders: start the choice again
        try:
            choices.click(timeout=10_000)
            choices.fill("")
            choices.press_sequentially("x1sq")  # typing filters the menu, opens it if closed
            page.get_by_role("option", name="x1sq", exact=True).click(timeout=10_000)
            chosen.wait_for(timeout=10_000)
            break
        except playwright.TimeoutError:
            page.keyboard.press("Escape")
            wait_idle(page)
    page.keyboard.press("Escape")  # the multiselect commits its choice when it closes
    page.wait_for_function(
        "() => decodeURIComponent(window.location.search).includes('features=x1,x2,x1sq')",
        timeout=60_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("x1²").count() >= 1, "the network drawing names the new input"


@pytest.mark.browser
def test_continue_puts_the_extra_steps_into_the_link_and_the_link_replays_them(server, page):
    open_trained(page, f"{server}/?steps=150&depth=2&width=16")
    press(page, "Continue", "window.location.search.includes('more=150')")
    slider = page.locator("[data-testid='stSliderThumbValue']").last
    assert slider.inner_text() == "300", "the continued run opens on its last step"
    metrics = page.locator("[data-testid='stMetricValue']")
    continued = metrics.nth(2).inner_text()  # validation loss after 300 steps
    link = page.url
    page.goto("about:blank")
    open_trained(page, link)  # a new session: trains the 300 steps in one go
    assert metrics.nth(2).inner_text() == continued
    assert page.locator("[data-testid='stException']").count() == 0


def link_params(page) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True))


@pytest.mark.browser
def test_reset_on_a_changed_link_brings_back_the_default_page(server, page):
    open_trained(page, f"{server}/?task=moons&steps=30&lr=0.3&depth=1&width=8")
    press(page, "Reset", "!window.location.search.includes('task=')")
    assert page.locator("[data-testid='stException']").count() == 0
    assert not set(link_params(page)) - {"view"}, page.url
    page.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
    assert page.get_by_text("internal error").count() == 0


@pytest.mark.browser
def test_a_link_cannot_draw_a_link_or_an_image_in_the_page(server, page):
    payload = "[Click to log in](http://127.0.0.1:9/phish) ![x](http://127.0.0.1:9/x.png) :smile:"
    from urllib.parse import quote

    open_trained(page, f"{server}/?act={quote(payload)}&steps=30&depth=1&width=8")
    alert = page.locator("[data-testid='stAlert']", has_text="Click to log in")
    assert payload in alert.inner_text().replace("\u2060", ""), "shown as typed"
    assert page.locator("a[href*='127.0.0.1:9'], img[src*='127.0.0.1:9']").count() == 0
    assert "act" not in link_params(page), "the bad value is dropped from the link"


@pytest.mark.browser
def test_an_import_leaves_only_the_changed_settings_in_the_link(server, page, tmp_path):
    from neurondash import Config, train

    config = Config(task="circles", depth=1, width="4", steps=60, act="relu")
    path = tmp_path / "run.json"
    path.write_text(train(config).to_json())
    page.goto(f"{server}/?steps=30&depth=1&width=8&view=Export+%2F+import", timeout=60_000)
    page.wait_for_selector("[data-testid='stFileUploaderDropzoneInput']", state="attached",
                           timeout=120_000)
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").last.set_input_files(path)
    page.get_by_text("Imported a run").wait_for(timeout=60_000)
    page.wait_for_function("() => window.location.search.includes('task=circles')",
                           timeout=60_000)
    wait_idle(page)
    shown = {k: v for k, v in link_params(page).items() if k != "view"}
    assert shown == {k: str(v) for k, v in config.changed().items()}, page.url


WATCH_PROGRESS = """
window.__sawProgress = false;
new MutationObserver(() => {
    if (document.querySelector("[data-testid='stProgress']")) window.__sawProgress = true;
}).observe(document, {childList: true, subtree: true});
"""


@pytest.mark.browser
def test_a_second_visitor_opens_the_first_ones_run_from_the_store(server):
    """Two browser contexts are two visitors: the first one's link trains (a progress bar
    shows), the second opens the same link from the store (no progress bar ever) with the
    same numbers."""
    link = f"{server}/?width=48&steps=8000&seed=5"  # about 2 s of training: the bar shows
    shown = {}
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for visitor in ("first", "second"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(WATCH_PROGRESS)
            page = context.new_page()
            open_trained(page, link)
            metrics = page.locator("[data-testid='stMetric']")
            shown[visitor] = {
                "metrics": [metrics.nth(i).inner_text() for i in range(metrics.count())],
                "progress": page.evaluate("window.__sawProgress"),
                "text": page.locator("[data-testid='stMain']").inner_text()}
            context.close()
    assert shown["first"]["progress"] and not shown["second"]["progress"], shown
    assert "Opened from the run store" in shown["second"]["text"]
    assert shown["first"]["metrics"] == shown["second"]["metrics"] and shown["first"]["metrics"], (
        shown["second"]["text"])


@pytest.mark.browser
def test_the_html_report_draws_every_chart_with_the_network_off(tmp_path):
    """The report is one file: opened from disk with every network request refused, all its
    charts draw (vega-embed resolves each one) and nothing was fetched."""
    from neurondash import Config, train
    from neurondash.report import build_report, report_charts

    run = train(Config(depth=2, width="16", steps=200))
    step = run.snapshot_steps[-1]
    report = tmp_path / "report.html"
    report.write_text(build_report(run, step, "http://example.invalid/?depth=2"),
                      encoding="utf-8")
    expected = len(report_charts(run, step))
    requested = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(offline=True)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            "file:") else (requested.append(route.request.url), route.abort()))
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(report.as_uri())
        page.wait_for_function(f"() => window.chartsDrawn === {expected}", timeout=60_000)
        drawn = page.locator(".chart svg, .chart canvas").count()
        browser.close()
    assert drawn >= expected > 5 and not errors and not requested


@pytest.mark.browser
def test_a_search_opens_its_trials_and_comes_back_to_the_search(server):
    """Run a small search from its link, open the best trial from the search (a new tab:
    its dashboard, read from the store, no training), come back: the search and its
    leaderboard are still there; the link alone shows the search again, from the store;
    a heatmap cell opens its run in this tab, and Back shows the search again."""
    search = "lr=0.02,0.2%0Aact=tanh,relu"
    link = f"{server}/?depth=2&width=16&steps=150&view=Sweep&search={search}&method=grid"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1400})
        context.add_init_script(WATCH_PROGRESS)
        page = context.new_page()
        page.goto(link, timeout=60_000)
        wait_idle(page)
        page.get_by_role("button", name="Run search").click()
        page.get_by_text("Best: validation loss").wait_for(timeout=180_000)
        wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0
        best = page.get_by_text("Best: validation loss").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
        opener = page.get_by_role("link", name="Open the best run in a new tab")
        with context.expect_page(timeout=60_000) as opened:
            opener.click()
        trial = opened.value
        trial.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
        wait_idle(trial)
        text = trial.locator("[data-testid='stMain']").inner_text()
        assert "Opened from the run store" in text and not trial.evaluate(
            "window.__sawProgress")
        assert "view=Sweep" not in trial.url and "steps=150" in trial.url
        trial.close()
        page.bring_to_front()
        assert page.get_by_text("Best: validation loss").inner_text() == best
        assert page.locator("[data-testid='stVegaLiteChart']").count() >= 4
        again = context.new_page()
        again.goto(page.url, timeout=60_000)
        again.get_by_text("Best: validation loss").wait_for(timeout=120_000)
        assert again.get_by_text("Best: validation loss").inner_text() == best
        again.close()
        search_url = page.evaluate("window.location.href")
        heatmap = page.locator("[data-testid='stVegaLiteChart']").last
        heatmap.scroll_into_view_if_needed()
        box = heatmap.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.35)
        page.wait_for_function(f"() => window.location.href !== {search_url!r}",
                               timeout=60_000)
        assert "view=Sweep" not in page.evaluate("window.location.href")
        page.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
        page.go_back()
        page.get_by_text("Best: validation loss").wait_for(timeout=120_000)
        assert page.get_by_text("Best: validation loss").inner_text() == best
        context.close()


@pytest.mark.browser
def test_the_downloaded_report_links_to_the_server_it_came_from(server, page):
    """The report's link is built when the download is clicked: outside the script run,
    where the page's address is unknown, so it pointed at localhost:8501 whatever the
    server's address (a walk on port 8597)."""
    page.goto(f"{server}/?steps=300&width=16&depth=2&view=Export+%2F+import", timeout=60_000)
    page.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
    wait_idle(page)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download report (HTML)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    link = re.search(r'<p>Link: <a href="([^"]+)"', report).group(1)
    assert link.startswith(f"{server}/?") or link.startswith(f"{server}?"), link
    assert "steps=300" in link and "width=16" in link and "depth=2" in link

"""The dashboard and the run store: a stored run opens without training, whatever its size;
a second session or process shares the first one's training; damage is reported and the run
trained again; uploads never enter the store."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

from neurondash import Config, run_source, train
from neurondash.identity import run_key
from neurondash.replay import Replay
from neurondash.run import Run
from neurondash.store import RunStore, shared_store
from neurondash.ui import app as dashboard
from neurondash.ui.app import TABS

from .markdown import texts
from .test_app import charts, no_internal_error, open_app, show

SMALL = {"depth": "1", "width": "8", "steps": "30"}
CONFIG = Config(depth=1, width="8", steps=30)
ROOT = Path(__file__).resolve().parents[2]


def counting(monkeypatch) -> list:
    """Calls of the dashboard's train(), the only way the app trains a new run."""
    calls = []
    original = dashboard.train

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(dashboard, "train", counted)
    return calls


def test_a_second_session_opens_the_first_ones_run_without_training(monkeypatch):
    calls = counting(monkeypatch)
    first = open_app(SMALL)
    assert len(calls) == 1 and not first.exception
    second = open_app(SMALL)
    assert len(calls) == 1, "the second session trained again"
    assert "Opened from the run store" in texts(second.caption)
    shown = [m.value for m in second.metric]
    assert shown == [m.value for m in first.metric] and shown


def test_every_view_of_a_run_read_from_the_store_draws(monkeypatch):
    """A run read back from its file holds read-only arrays (pandas' copy-on-write): the
    Gradients tab wrote into one and stopped on an internal error, for a stored run only,
    so the suite caught it only when test order put a stored run first."""
    RunStore(shared_store().root).put(train(CONFIG))  # on disk only, not in its memory
    calls = counting(monkeypatch)
    at = open_app(SMALL)
    assert not calls and "Opened from the run store" in texts(at.caption)
    for name in TABS:
        show(at, name)
        no_internal_error(at)
        assert not at.exception, name


def test_a_whole_runs_link_continues_the_stored_cut_run_in_a_new_session(monkeypatch):
    """A walker closed the only tab at step 30,240 of 63,000: the run was kept (stored as
    stopped), yet the whole run's link in a new session offered only to train from step 0.
    The store is searched by settings: the page continues the cut run, to the numbers of
    one uninterrupted run, and trains nothing from scratch."""
    whole = CONFIG.replace(steps=600)
    RunStore(shared_store().root).put(train(whole.replace(until=240)))
    calls = counting(monkeypatch)
    at = open_app(SMALL | {"steps": "600"})
    assert not calls, "trained from scratch"
    shown = at.session_state["runs"].get(run_key(whole))
    assert shown is not None and shown.steps_done == 600
    uninterrupted = train(whole)
    assert shown.final == uninterrupted.final
    assert shown.history["loss"].equals(uninterrupted.history["loss"])


def test_a_long_runs_link_says_before_train_that_it_continues_the_stored_cut_run(
        monkeypatch):
    """Too long to continue by itself, the whole run's link says what Train will do: the
    stored first steps are trained on from, and the time given is the rest's."""
    whole = Config(steps=60000)
    RunStore(shared_store().root).put(train(whole.replace(until=2400)))  # a snapshot step
    calls = counting(monkeypatch)
    at = open_app({"steps": "60000"})
    assert not calls and at.session_state["runs"].get(run_key(whole)) is None
    assert "Its first 2,400 steps were kept earlier: training on from there, to the " \
        "numbers of one uninterrupted run, would take" in texts(at.info)


def test_a_stored_run_opens_even_when_it_is_too_big_to_train_unasked(monkeypatch):
    shared_store().put(train(CONFIG))
    monkeypatch.setattr(run_source, "AUTO_SECONDS", 0.0)  # every link waits for Train
    calls = counting(monkeypatch)
    at = open_app(SMALL)
    assert not calls and "press Train" not in texts(at.info).replace("**", "")
    assert at.metric and "Opened from the run store" in texts(at.caption)


def test_a_run_trained_by_the_command_line_opens_in_the_dashboard(monkeypatch, own_store):
    result = subprocess.run([sys.executable, "-m", "neurondash", "train", "--depth", "1",
                             "--width", "8", "--steps", "30", "--quiet",
                             "--store", str(own_store)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    calls = counting(monkeypatch)
    at = open_app(SMALL)
    assert not calls and at.metric


def test_a_damaged_stored_run_is_reported_and_trained_again(monkeypatch):
    store = shared_store()
    key = store.put(train(CONFIG))
    store._loaded.clear()
    (store.root / "runs" / key[:2] / f"{key}.json.gz").write_bytes(gzip.compress(b"{]"))
    calls = counting(monkeypatch)
    at = open_app(SMALL)
    assert len(calls) == 1 and at.metric
    assert "damaged run" in texts(at.warning)
    assert RunStore(store.root).get(key) is not None  # stored again, whole


def test_an_imported_file_is_shown_but_never_stored(monkeypatch):
    run = train(CONFIG.replace(seed=7))
    at = open_app(SMALL, tab="Export / import")
    at.get("file_uploader")[-1].set_value(("run.json", run.to_json().encode(),
                                           "application/json"))
    at.run()
    assert not at.exception
    assert any(shown.config == run.config for shown in at.session_state["runs"].values())
    assert run_key(run.config) not in shared_store()


def test_a_session_asking_for_a_run_in_training_follows_that_training(monkeypatch):
    """Another page is training this Config: this session shows that training's progress
    and gets its run, and trains nothing itself."""
    import time

    def slow(job):
        def report(progress):
            job.report(progress)
            time.sleep(0.01)
        return train(CONFIG.replace(steps=3000), on_progress=report,
                     should_stop=job.should_stop)

    job = dashboard.JOBS.start(run_key(CONFIG.replace(steps=3000)), "another page", slow)
    calls = counting(monkeypatch)
    at = open_app(SMALL | {"steps": "3000"})
    assert not calls and job.done.is_set() and at.metric
    shown = next(reversed(at.session_state["runs"].values()))
    assert shown is job.result and shown.steps_done == 3000


def test_a_training_that_ends_as_the_page_joins_it_is_not_trained_again(monkeypatch):
    """The page saw the training under way, and it ended before the page joined it (a CI
    run caught a follower there at a Stop): the page used to start the whole run again
    from scratch, unasked, and never showed the stopped run. It now draws itself anew and
    shows what the training left."""
    import threading

    config = CONFIG.replace(steps=3000)
    release = threading.Event()

    def held_until_looked_at(job):
        release.wait(60)
        return train(config)

    ended = dashboard.JOBS.start(run_key(config), "another page", held_until_looked_at,
                                 on_done=lambda job: shared_store().put(job.result))
    looked, real = [], dashboard.JOBS.is_running

    def ends_right_after_the_look(key: str) -> bool:
        running = real(key)
        looked.append(running)
        if len(looked) == 1:
            release.set()
            ended.done.wait(60)
        return running

    monkeypatch.setattr(dashboard.JOBS, "is_running", ends_right_after_the_look)
    started, start = [], dashboard.JOBS.start

    def counted_start(*args, **kwargs):
        started.append(args)
        return start(*args, **kwargs)

    monkeypatch.setattr(dashboard.JOBS, "start", counted_start)
    at = open_app(SMALL | {"steps": "3000"})
    no_internal_error(at)
    assert looked[0], "the page saw the training under way"
    assert not started, "a training that ended was started again"
    assert at.metric
    assert next(reversed(at.session_state["runs"].values())).config == config


def test_train_pressed_while_the_run_trains_says_so(monkeypatch):
    """A walker pressed Train while following a training (and while their own ran): the
    button did nothing visible. The page now says the run is training already."""
    import threading

    config = Config(steps=20000)  # long enough to be drawn live, not waited for
    release = threading.Event()

    def held(job):  # a training under way until the test is done looking
        release.wait(60)
        return train(CONFIG)

    job = dashboard.JOBS.start(run_key(config), "another page", held)
    try:
        at = open_app({"steps": "20000"})
        assert dashboard.JOBS.is_running(run_key(config))
        next(b for b in at.button if b.label == "Train").click().run()
        no_internal_error(at)
        assert any("This run is training already" in t.value for t in at.toast)
    finally:
        release.set()
        job.done.wait(60)


def two_stored_runs() -> list[str]:
    store = shared_store()
    return [store.put(train(CONFIG)), store.put(train(CONFIG.replace(act="relu")))]


def whole_store(at):
    """The operator's switch: every visitor's stored runs (needs ``NEURONDASH_ADMIN``)."""
    return at.toggle(key="runs_whole_store").set_value(True).run()


def test_the_runs_view_lists_filters_and_sorts_the_stored_runs(monkeypatch):
    monkeypatch.setenv("NEURONDASH_ADMIN", "1")
    two_stored_runs()
    at = whole_store(open_app(SMALL | {"view": "Runs"}))
    (table,) = at.dataframe
    assert len(table.value) == 2 and "act=relu" in " ".join(table.value["settings"])
    at.text_input(key="runs_filter").set_value("ACT=RELU").run()
    assert list(at.dataframe[0].value["settings"]) == ["depth=1&width=8&act=relu&steps=30"]
    at.text_input(key="runs_filter").set_value("").run()
    at.selectbox(key="runs_sort").set_value("validation loss").run()
    losses = list(at.dataframe[0].value["val_loss"])
    assert len(losses) == 2 and losses == sorted(losses)


def select_rows(at, rows: list[int]):
    """What clicking rows of the Runs table does (the selection is the widget's state)."""
    at.session_state["runs_table"] = {"selection": {"rows": rows, "columns": [],
                                                    "cells": []}}
    return at.run()


def test_selected_stored_runs_are_compared_and_deleted(monkeypatch):
    monkeypatch.setenv("NEURONDASH_ADMIN", "1")
    keys = two_stored_runs()
    at = select_rows(whole_store(open_app(SMALL | {"view": "Runs"})), [0, 1])
    at.button(key="runs_compare").click().run()
    assert at.session_state["view"] == "Compare"
    assert set(at.session_state["compare_runs"]) == {"depth=1&width=8&steps=30",
                                                     "depth=1&width=8&act=relu&steps=30"}
    assert not at.exception and "Train a second" not in texts(at.info)
    (compared,) = [tables for spec, tables in charts(at)
                   if spec["encoding"].get("color", {}).get("field") == "run"]
    assert len(set(compared[0].column("run").to_pylist())) == 2
    show(at, "Runs")
    assert at.toggle(key="runs_whole_store").value, "the switch stays on across tabs"
    at = select_rows(at, [0, 1])
    at.button(key="runs_delete").click().run()
    assert all(key in shared_store() for key in keys), "deleted before confirming"
    at.button(key="runs_delete_confirm").click().run()
    assert not any(key in shared_store() for key in keys)


def test_the_export_view_offers_the_report_and_chart_images():
    at = open_app(SMALL | {"view": "Export / import"})
    labels = [button.proto.label for button in at.get("download_button")]
    assert "Download report (HTML)" in labels
    assert "Download this chart (PNG)" in labels
    at.selectbox(key="export_format").set_value("svg").run()
    assert "Download this chart (SVG)" in [b.proto.label for b in at.get("download_button")]


OPEN_IN_ANOTHER_PROCESS = """
import sys
from streamlit.testing.v1 import AppTest
from neurondash.ui import app as dashboard
calls = []
original = dashboard.train
dashboard.train = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
at = AppTest.from_file(sys.argv[1], default_timeout=120)
for pair in sys.argv[2].split("&"):
    name, value = pair.split("=")
    at.query_params[name] = value
at.run()
print("trainings", len(calls), "metrics", len(at.metric), "exceptions", len(at.exception))
"""


def test_another_process_opens_a_run_this_one_trained_without_training(own_store):
    """The store is shared by processes: a dashboard process opening the link of a run that
    this process trained and stored trains nothing (counted by a hook on train)."""
    shared_store().put(train(CONFIG))
    result = subprocess.run(
        [sys.executable, "-c", OPEN_IN_ANOTHER_PROCESS, str(ROOT / "app.py"),
         CONFIG.to_query()], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=os.environ | {"NEURONDASH_STORE": str(own_store)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "trainings 0 metrics 5 exceptions 0" in result.stdout, result.stdout


def test_weights_at_a_snapshot_train_again_only_when_asked_if_that_takes_long(monkeypatch):
    """A stored run keeps a digest of its snapshot weights, rebuilt by training again. A
    stranger's link may not start training longer than the unasked limit: over it, the
    Neuron view shows the final weights and a button; the click rebuilds the snapshot."""
    run = Run.from_json(train(CONFIG).to_json())  # as read from a store body: digests
    shared_store().put(run)
    middle = run.snapshot_steps[len(run.snapshot_steps) // 2]
    monkeypatch.setattr(run_source, "AUTO_SECONDS", 0.0)
    replays = []
    original = Replay.state
    monkeypatch.setattr(Replay, "state",
                        lambda self, step, *rest: replays.append(step)
                        or original(self, step, *rest))
    at = open_app(SMALL, tab="Neuron")
    at.select_slider(key="snapshot").set_value(middle)
    no_internal_error(at.run())
    assert not replays and f"weights at step {middle:,} are rebuilt" in texts(at.info)
    assert "Weights as they were" not in texts(at.caption)
    # The embeddings drawn are the final ones: no slider move would show them change.
    assert f"weights after training until those at step {middle:,} are rebuilt" in texts(
        at.caption) and "move the snapshot slider to watch it happen" not in texts(at.caption)
    at.button(key="rebuild_weights").click()
    no_internal_error(at.run())
    assert replays == [middle]
    assert f"Weights as they were at step {middle}" in texts(at.caption)
    assert "move the snapshot slider to watch it happen" in texts(at.caption)
    monkeypatch.setattr(run_source, "AUTO_SECONDS", 60.0)  # within the limit: no button
    at = open_app(SMALL, tab="Neuron")
    at.select_slider(key="snapshot").set_value(middle)
    no_internal_error(at.run())
    assert f"Weights as they were at step {middle}" in texts(at.caption)
    assert "are rebuilt by training" not in texts(at.info)


def test_a_run_continued_from_an_uploaded_file_stays_with_its_uploader():
    """A file can say anything: its run continued is shown to the uploader alone, never
    stored under the Config's key, where a link would hand the file's numbers to anyone."""
    config = CONFIG.replace(seed=7)
    run = train(config)
    run.state["params"] = run.state["params"] * 1.5  # a tampered file that still parses
    at = open_app(SMALL, tab="Export / import")
    at.get("file_uploader")[-1].set_value(("run.json", run.to_json().encode(),
                                           "application/json"))
    at.run()
    next(b for b in at.button if b.label == "Continue").click().run()
    assert not at.exception
    longer = config.replace(more=config.steps)
    continued = next(reversed(at.session_state["runs"].values()))
    assert continued.config == longer
    genuine = train(longer)
    assert continued.final != genuine.final, "the tampered state was continued"
    assert run_key(longer) not in shared_store()
    show(at, "Runs")
    said = " ".join(caption.value for caption in at.caption)
    assert "never stored: 2 runs from uploaded files or continued from one" in said, said
    visitor = open_app(SMALL | {"seed": "7", "more": str(config.steps)})
    assert next(reversed(visitor.session_state["runs"].values())).final == genuine.final

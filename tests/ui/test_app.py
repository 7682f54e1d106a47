"""The dashboard through Streamlit's AppTest: it sees widgets, Vega-Lite specs and data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from neurondash.charts import MAX_ROWS
from neurondash.training import continue_training
from neurondash.ui import app as dashboard
from neurondash.ui.app import TABS
from neurondash.ui.views import VIEWS

from .markdown import rendered, texts

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SMALL = {"steps": "150", "width": "16", "depth": "2"}


def open_app(params: dict[str, str] | None = None, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    if tab is not None:
        at.query_params["view"] = tab
    return no_internal_error(at.run())


def no_internal_error(at: AppTest) -> AppTest:
    """The app reports an unexpected error in training or in a view instead of raising it
    (so a user keeps the page); a test must still fail on it."""
    reported = [rendered(e.value) for e in at.error if "internal error" in rendered(e.value)]
    assert not reported, reported
    return at


def show(at: AppTest, name: str):
    """Open a tab, as a click does, and return it: tabs are lazy, only the open one is
    drawn. The open tab is bound to the link, so the link's "view" says which one."""
    if at.session_state["view"] != name:
        at.session_state["view"] = name
        at.query_params["view"] = name
        no_internal_error(at.run())
    return at.tabs[TABS.index(name)]


def charts(at) -> list[tuple[dict, list[pa.Table]]]:
    """Every Vega-Lite chart on the page (or in one tab) as (spec, datasets as Arrow
    tables)."""
    found = []
    for element in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        tables = [pa.ipc.open_stream(d.data.data).read_all() for d in element.proto.datasets]
        found.append((spec, tables))
    return found


def fields(spec: dict) -> set[str]:
    text = json.dumps(spec)
    return {part.split('"')[0] for part in text.split('"field": "')[1:]}


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return open_app()


def test_default_page_trains_and_draws_every_view(default_page):
    at = default_page
    assert not at.exception
    assert charts(at) == charts(show(at, "Overview")), "only the open tab is drawn"
    drawn = [chart for name in TABS if VIEWS[name].needs_run
             for chart in charts(show(at, name))]
    show(at, "Overview")
    assert len(drawn) >= 9
    for _spec, tables in drawn:
        assert tables, "every chart carries its data"
        assert all(0 < t.num_rows <= MAX_ROWS for t in tables)
    all_fields = set().union(*(fields(spec) for spec, _ in drawn))
    assert {"loss", "series", "density", "saturated", "update_data", "p"} <= all_fields
    loss_tables = next(t for s, t in drawn if "series" in fields(s))
    series = set(loss_tables[0].column("series").to_pylist())
    assert series == {"train", "train (smoothed)", "validation"}
    labels = [m.label for m in at.metric]
    assert "initial loss" in labels and "val loss" in labels
    assert [t.label for t in at.tabs] == list(TABS), "one tab per row of VIEWS, in order"


def test_overview_shows_the_findings_the_loss_and_every_layer_over_training(default_page):
    at = default_page
    overview = show(at, "Overview")
    drawn = charts(overview)
    assert any("series" in fields(spec) for spec, _ in drawn), "the loss chart"
    table = next(tables[0] for spec, tables in drawn if "act_std" in fields(spec))
    run = next(iter(at.session_state["runs"].values()))
    assert set(table.column("layer").to_pylist()) == set(run.layers["layer"])
    assert sorted(set(table.column("step").to_pylist())) == run.snapshot_steps
    healthy = rendered(overview.get("success")[0].value)  # the defaults train a healthy model
    assert f"Initial loss {run.initial_loss:.2f} vs {run.expected_initial_loss:.2f}" in healthy
    worst = run.layers[run.layers["step"] == run.layers["step"].max()]["saturated_pct"].max()
    assert f"{worst:.0f}%" in healthy


def test_a_2d_model_shows_its_decision_boundary_on_the_overview():
    at = open_app({"task": "moons", "depth": "2", "width": "8", "steps": "300"})
    assert not at.exception
    boundary = [tables for spec, tables in charts(show(at, "Overview")) if "split" in fields(spec)]
    assert len(boundary) == 1 and len(boundary[0]) == 1
    plane = boundary[0][0].to_pandas()
    grid, points = plane[plane["part"] == "grid"], plane[plane["part"] == "point"]
    assert len(grid) == 50 * 50
    probs = grid["p"].tolist()
    assert min(probs) >= 0 and max(probs) <= 1 and max(probs) - min(probs) > 0.5
    assert set(points["label"]) == {"0", "1"}
    assert not [s for s, _ in charts(show(at, "Logits")) if "split" in fields(s)], "not twice"
    neuron = charts(show(at, "Neuron"))
    maps = [tables[0] for _, tables in neuron if "value" in tables[0].column_names]
    assert len(maps) == 1, "the Neuron tab draws every unit over the plane"
    assert sorted(set(maps[0].column("unit").to_pylist())) == list(range(8))
    assert maps[0].num_rows == 8 * 16 * 16
    assert not [s for s, _ in charts(show(at, "Neuron")) if "char" in fields(s)], "characters only"
    network = [t[0] for _, t in charts(show(at, "Neuron")) if "column2" in t[0].column_names]
    assert len(network) == 1, "the network diagram"
    parts = network[0].column("part").to_pylist()
    assert parts.count("weight") == 2 * 8 + 8 * 8 + 8 * 2
    assert parts.count("unit") == 2 + 8 + 8 + 2
    at.select_slider(key="snapshot").set_value(at.select_slider(key="snapshot").options[0])
    at.run()
    overview = charts(show(at, "Overview"))
    untrained = [t for s, t in overview if "split" in fields(s)][0][0].to_pandas()
    grid_at_0 = untrained.loc[untrained["part"] == "grid", "p"].tolist()
    assert max(grid_at_0) - min(grid_at_0) < max(probs) - min(probs), "step 0: still flat"
    assert any("at step 0" in c.value for c in show(at, "Overview").get("caption"))


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_the_neuron_trace_shows_a_bias_only_where_the_layer_has_one(norm):
    """A walker read "bias = 0.0000" for a layer that BatchNorm follows, which has none."""
    at = open_app({"norm": norm, "depth": "1", "width": "8", "steps": "30"}, tab="Neuron")
    line = next(m.value for m in at.markdown if m.value.startswith("sum(w*x) ="))
    assert ("no bias (batch norm's shift β stands in for it)" in line) == (norm == "batch")
    assert ("bias = " in line) == (norm != "batch"), line


def test_neuron_tab_names_each_input_of_the_unit(default_page):
    at = default_page
    run = next(iter(at.session_state["runs"].values()))
    table = show(at, "Neuron").dataframe[0].value
    config = run.config
    assert len(table) == config.context * config.embed_dim
    assert table["input"].iloc[0] == "char 1 '.', embedding dim 0"  # names start padded
    assert table["input"].iloc[-1].endswith(f"embedding dim {config.embed_dim - 1}")
    np.testing.assert_allclose(table["w*x"], table["input x"] * table["weight w"],
                               rtol=1e-5, atol=1e-7)
    assert not [t for _, t in charts(show(at, "Neuron")) if "value" in t[0].column_names
                or "column2" in t[0].column_names], "2-D tasks only"
    embedding = [tables[0] for spec, tables in charts(show(at, "Neuron")) if "char" in fields(spec)]
    assert len(embedding) == 1 and embedding[0].num_rows == len(run.vocab)
    assert embedding[0].column("char").to_pylist() == list(run.vocab)


def test_neuron_views_follow_the_snapshot_slider(default_page):
    at = default_page
    slider = at.select_slider(key="snapshot")
    steps, last = slider.options, slider.value

    def drawn() -> tuple[list, list]:
        views = {name: tables[0] for _, tables in charts(show(at, "Neuron"))
                 for name in ("part", "char") if name in tables[0].column_names}
        point = [x for x, part in zip(views["part"].column("x").to_pylist(),
                                      views["part"].column("part").to_pylist(), strict=True)
                 if part == "point"]
        return point, views["char"].column("x").to_pylist()

    at_end = drawn()
    slider.set_value(steps[0]).run()
    at_start = drawn()
    at.select_slider(key="snapshot").set_value(last).run()
    assert not at.exception
    assert at_start[0] != at_end[0], "the traced neuron's pre-activation moves with the step"
    assert at_start[1] != at_end[1], "so do the embeddings"
    assert drawn() == at_end, "and come back with it"


def test_view_control_does_not_retrain(default_page):
    at = default_page
    runs_before = dict(at.session_state["runs"])
    steps = at.select_slider(key="snapshot").options
    at.select_slider(key="snapshot").set_value(steps[0]).run()
    show(at, "Loss").toggle(key="loss_log").set_value(True).run()
    assert not at.exception
    runs_after = at.session_state["runs"]
    assert list(runs_after) == list(runs_before)
    assert all(runs_after[k] is runs_before[k] for k in runs_before)


def test_url_params_seed_the_widgets():
    at = open_app(SMALL | {"act": "relu", "lr": "0.05", "init_scale": "0.5"})
    assert not at.exception and not at.warning
    assert at.selectbox(key="act").value == "relu"
    assert at.select_slider(key="lr").value == 0.05
    assert at.select_slider(key="init_scale").value == 0.5
    assert at.number_input(key="steps").value == 150


def test_invalid_url_params_warn_and_fall_back():
    at = open_app(SMALL | {"lr": "fast", "act": "swish", "depth": "99", "lr2": "1"})
    assert not at.exception
    warnings = " ".join(rendered(w.value) for w in at.warning)
    assert "lr='fast'" in warnings and "act='swish'" in warnings and "depth='99'" in warnings
    assert at.selectbox(key="act").value == "tanh"
    assert at.select_slider(key="lr").value == 0.1
    texts = [rendered(w.value) for w in at.warning]
    assert len(texts) == len(set(texts)), "each problem is explained once"


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999"])
def test_an_infinite_integer_in_a_link_falls_back_instead_of_crashing(value):
    # Streamlit's own parsing of a bound integer field raises OverflowError on these.
    at = open_app(SMALL | {"steps": value, "seed": value})
    assert not at.exception
    warnings = " ".join(rendered(w.value) for w in at.warning)
    assert f"steps={value!r}" in warnings and f"seed={value!r}" in warnings
    assert at.number_input(key="steps").value == 3000
    assert at.number_input(key="seed").value == 42
    assert charts(show(at, "Loss")), "the page trains and draws with the defaults"


def test_a_parameter_given_twice_keeps_its_last_value_and_says_so():
    """A control bound to the address bar dropped both values without a word."""
    at = open_app(SMALL | {"lr": ["0.2", "0.03"], "act": ["relu", "oops"]})
    warnings = " ".join(rendered(w.value) for w in at.warning)
    assert "lr is given 2 times in the link ('0.2', '0.03'); using the last, '0.03'" \
        in warnings
    assert at.session_state["lr"] == 0.03 and at.query_params["lr"] == "0.03"
    assert "act='oops' is not allowed" in warnings and at.session_state["act"] == "tanh"
    assert "act" not in at.query_params


def test_a_setting_the_task_does_not_use_is_left_out_of_the_link_and_said():
    """It would only give the same run another key, so the link never opened the stored
    run the page trained."""
    from neurondash.config import Config

    from .test_link_exact import page_config

    at = open_app(SMALL | {"task": "circles", "context": "5", "noise": "0.2"})
    warnings = " ".join(rendered(w.value) for w in at.warning)
    assert "context='5' does not apply to task circles: left out." in warnings
    assert "context" not in at.query_params and at.query_params["noise"] == "0.2"
    assert page_config(at) == Config.from_query("task=circles&noise=0.2&steps=150&width=16&"
                                                "depth=2")[0]


def test_a_width_list_that_does_not_match_the_depth_is_explained_once():
    at = open_app(SMALL | {"width": "8,4", "depth": "3"})
    assert not at.exception
    width = [rendered(w.value) for w in at.warning if "width='8,4'" in rendered(w.value)]
    assert len(width) == 1
    assert at.text_input(key="width").value == "100", "the sidebar shows the width used"


@pytest.mark.parametrize("width", ["1024", "100000"])
def test_a_value_refused_with_another_shows_the_value_used_in_the_sidebar_and_link(width):
    """width 1024 at depth 12 is too many parameters: the run uses the widest width that
    fits, and the sidebar and the address bar say so too instead of holding 1024 (or the
    default, which the run does not use)."""
    at = open_app({"depth": "12", "width": width, "steps": "30"})
    assert not at.exception
    said = " ".join(rendered(w.value) for w in at.warning)
    assert "using the widest that fits, '671'" in said, said
    assert at.text_input(key="width").value == "671" and at.query_params["width"] == "671"
    assert at.slider(key="depth").value == 12 and at.query_params["depth"] == "12"


def test_divergent_config_shows_where_and_why():
    at = open_app({"act": "relu", "init": "normal", "lr": "10", "steps": "300"})
    assert not at.exception
    errors = " ".join(rendered(e.value) for e in at.error)
    assert "diverged at step" in errors
    assert charts(at), "what was recorded before divergence is still drawn"


def test_an_internal_training_error_is_reported_and_the_earlier_run_kept(monkeypatch):
    at = open_app(SMALL)
    assert charts(at)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(dashboard, "train", broken)
    at.slider(key="depth").set_value(1).run()
    assert not at.exception
    assert any("internal error (RuntimeError: boom)" in rendered(e.value) for e in at.error)
    assert any("Showing the previous run" in i.value for i in at.info)
    assert charts(at), "the earlier run's views are still drawn"
    assert not at.get("progress"), "no progress bar is left behind"


def test_an_internal_error_in_a_view_is_reported_in_that_tab_only(monkeypatch):
    at = open_app(SMALL)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    from neurondash.ui.views import overview

    monkeypatch.setattr(overview, "overview", broken)
    at.run()
    assert not at.exception
    assert "Overview view stopped on an internal error (RuntimeError: boom)" in texts(at.error)
    assert charts(show(at, "Loss")), "the other tabs still draw"


def find_widget(at: AppTest, key: str):
    for kind in ("selectbox", "select_slider", "slider", "number_input", "text_input",
                 "multiselect"):
        for widget in getattr(at, kind):
            if widget.key == key:
                return widget
    raise AssertionError(f"no widget with key {key!r}")


CHANGES = {
    "task": "moons", "context": 2, "fuse": 2, "embed_dim": 4, "depth": 1, "width": "8",
    "norm": "batch", "act": "relu", "init": "xavier", "init_scale": 2.0, "out_scale": 1.0,
    "bias_init": 0.1,
    "opt": "adam", "lr": 0.01, "sched": "cosine", "batch": 64, "steps": 120, "wd": 0.001,
    "seed": 3, "snap_every": 40,
}


def test_every_sidebar_control_reruns_cleanly():
    at = open_app(SMALL)
    for key, value in CHANGES.items():
        widget = find_widget(at, key)
        widget.set_value(value).run()
        assert not at.exception, f"{key}={value}: {at.exception}"
        if key == "task":  # back to a character task so its controls exist
            at.selectbox(key="task").set_value("names").run()
    for setting in ("noise", "points", "train_frac"):
        at.selectbox(key="task").set_value("spiral").run()
        assert any(w.key == setting for w in at.number_input)
    assert not at.exception


@pytest.mark.parametrize("slug", ["saturated-tanh", "lr-too-low", "bigram-smoothing", "dead-relu",
                                  "input-features", "wavenet"])
def test_preset_links_seed_every_widget(slug):
    from neurondash.config import Config
    from neurondash.presets import PRESETS_BY_SLUG

    preset = PRESETS_BY_SLUG[slug]
    params = dict(part.split("=") for part in preset.query.split("&"))
    at = open_app(params | {"steps": "50"})
    assert not at.exception
    warned = texts(at.warning)
    assert "not allowed" not in warned and "grid" not in warned, warned
    shown = {name: find_widget(at, name).value for name in params if name != "steps"}
    shown = {k: ",".join(v) if isinstance(v, list) else v for k, v in shown.items()}
    expected = preset.config.to_dict()
    assert {k: (float(v) if isinstance(expected[k], float) else v) for k, v in shown.items()} \
        == {k: expected[k] for k in shown}
    assert Config.from_query(preset.query)[0] == preset.config


def test_sampled_words_come_from_the_weights_at_the_slider_step():
    """Lesson 1 at step 0 showed trained, name-like samples: they came from the final
    weights whatever the slider said."""
    from neurondash.engine import queries
    from neurondash.ui.text import escape

    at = open_app(SMALL)
    run = next(reversed(at.session_state["runs"].values()))
    at.select_slider(key="snapshot").set_value(0).run()
    said = [m.value for m in show(at, "Logits").markdown if "sampled words" in m.value]
    words = queries.sample_words(run.model(0), run.vocab, run.config.context, 20,
                                 seed=run.config.seed)
    assert said == ["**20 sampled words** from the weights at step 0: "
                    + escape(", ".join(words))]


def test_the_logits_tab_names_the_smoothing_weight_decay_amounts_to():
    """Lesson 9b: with wd the nearest count model adds several counts to each cell, and the
    counted table is drawn at that smoothing; without wd it is below add-one."""
    import re

    from neurondash.presets import PRESETS_BY_SLUG

    found = {}
    for slug in ("bigram", "bigram-smoothing"):
        params = dict(part.split("=") for part in PRESETS_BY_SLUG[slug].query.split("&"))
        at = show(open_app(params), "Logits")
        caption = texts(at.caption)
        found[slug] = float(re.search(r"adds k = ([0-9.e+-]+) to every count", caption)[1])
        titles = [json.dumps(spec.get("title")) for spec, _ in charts(at)]
        assert any(f"add-{found[slug]:.2g}" in title for title in titles), titles
    assert found["bigram"] < 1 < 4 < found["bigram-smoothing"], found


def test_word_list_upload_trains_on_its_own_vocabulary_and_rejects_bad_files():
    at = open_app(SMALL)
    at.selectbox(key="task").set_value("words").run()
    assert not at.exception
    assert any("upload one (a text file, one word per line)" in i.value for i in at.info)
    uploader = next(u for u in at.get("file_uploader") if u.proto.label.startswith("word"))
    uploader.set_value(("words.txt", b"hello\nw0rld\n", "text/plain")).run()
    assert "Word list rejected" in texts(at.error) and "'0'" in texts(at.error)
    assert "The uploaded word list was rejected" in texts(at.error), "said outside Data too"
    words = "\n".join(f"{a}{b}{c}" for a in "abcd" for b in "xyz" for c in "éo").encode()
    uploader = next(u for u in at.get("file_uploader") if u.proto.label.startswith("word"))
    uploader.set_value(("words.txt", words, "text/plain")).run()
    assert not at.exception, [rendered(e.value) for e in at.error]
    assert not at.error, [rendered(e.value) for e in at.error]
    run = next(reversed(at.session_state["runs"].values()))
    assert run.config.task == "words" and run.vocab == ".abcdoxyzé"
    metrics = [m.value for m in at.metric]
    uploader = next(u for u in at.get("file_uploader") if u.proto.label.startswith("word"))
    uploader.set_value(("other.txt", b"\x00\xff\x00binary", "text/plain")).run()
    assert not at.exception
    said = texts(at.error)
    assert "Word list rejected" in said and "Still using the list accepted before it, " \
        "words.txt (24 words)" in said, said
    assert [m.value for m in at.metric] == metrics, "the run on the page stays"
    assert next(reversed(at.session_state["runs"].values())).vocab == ".abcdoxyzé"


def test_continue_trains_the_current_run_further_and_the_link_reproduces_it(monkeypatch):
    at = open_app(SMALL)
    first = next(reversed(at.session_state["runs"].values()))
    continued_from = []
    monkeypatch.setattr(dashboard, "continue_training", lambda run, steps, **kwargs: (
        continued_from.append(run) or continue_training(run, steps, **kwargs)))
    next(b for b in at.button if b.label == "Continue").click().run()
    assert not at.exception
    assert continued_from == [first], "continued from the first run, not retrained"
    runs = at.session_state["runs"]
    continued = next(reversed(runs.values()))
    assert continued.steps_done == 2 * first.steps_done and continued.config.more == 150
    assert continued.history["loss"].iloc[:150].equals(first.history["loss"])
    assert at.query_params["more"] == "150" and at.number_input(key="more").value == 150
    shared = open_app(SMALL | {"more": "150"})
    replayed = next(reversed(shared.session_state["runs"].values()))
    assert replayed.snapshot_steps == continued.snapshot_steps
    pd.testing.assert_frame_equal(replayed.history, continued.history, check_exact=True)
    pd.testing.assert_frame_equal(replayed.layers, continued.layers, check_exact=True)
    next(b for b in at.button if b.label == "Continue").click().run()
    assert next(reversed(at.session_state["runs"].values())).steps_done == 450
    assert at.select_slider(key="snapshot").value == 450, "a new run opens on its last step"
    # Unless the slider was moved to a step the new run also has: it stays, as the link's.
    at.select_slider(key="snapshot").set_value(150).run()
    next(b for b in at.button if b.label == "Continue").click().run()
    assert next(reversed(at.session_state["runs"].values())).steps_done == 600
    assert at.select_slider(key="snapshot").value == 150


def test_continue_takes_a_partial_run_to_the_end_of_its_schedule():
    """A stopped run's link (``until``): the sidebar's Continue does what the button under a
    stopped run does, not ``steps`` more past the schedule."""
    at = open_app(SMALL | {"until": "50"})
    assert next(reversed(at.session_state["runs"].values())).steps_done == 50
    next(b for b in at.button if b.label == "Continue").click().run()
    assert not at.exception
    run = next(reversed(at.session_state["runs"].values()))
    assert run.steps_done == int(SMALL["steps"]) and run.config.until == 0
    assert "until" not in at.query_params and "more" not in at.query_params


def test_a_diverged_run_is_not_continued():
    at = open_app({"act": "relu", "init": "normal", "lr": "10", "steps": "300"})
    next(b for b in at.button if b.label == "Continue").click().run()
    assert any("cannot be continued" in rendered(w.value) for w in at.warning)
    assert "more" not in at.query_params and not at.exception


def test_each_snapshot_step_draws_its_own_data():
    at = open_app(SMALL | {"snap_every": "50"})
    slider = at.select_slider(key="snapshot")
    assert slider.options[0] in ("0", 0)

    def activation_rows():
        return next(t[0] for s, t in charts(show(at, "Activations"))
                    if "activations" in json.dumps(s.get("title"))).to_pydict()

    last = activation_rows()
    at.select_slider(key="snapshot").set_value(0).run()
    first = activation_rows()
    at.select_slider(key="snapshot").set_value(50).run()
    middle = activation_rows()
    assert first != last and middle != first and middle != last
    run = next(iter(at.session_state["runs"].values()))
    hist = run.histograms
    expected = hist[(hist["step"] == 50) & (hist["quantity"] == "activation")]
    bins = [density for density, start, end in zip(
        middle["density"], middle["bin_start"], middle["bin_end"], strict=True)
        if start != end]  # less each series' closing point at its last bin's end
    assert bins == expected["density"].tolist()


def test_app_file_runs_the_dashboard_only_as_the_main_script(monkeypatch):
    """Sweep workers are spawned: they re-import the main script as __mp_main__, and must
    not train and draw a whole dashboard each before their first run."""
    import runpy

    import neurondash.ui.app as ui

    calls = []
    monkeypatch.setattr(ui, "main", lambda: calls.append("main"))
    runpy.run_path(APP, run_name="__mp_main__")
    assert calls == []
    runpy.run_path(APP, run_name="__main__")
    assert calls == ["main"]


def test_a_model_without_hidden_units_still_shows_its_embeddings():
    at = open_app({"context": "1", "embed_dim": "27", "depth": "0", "steps": "100"})
    assert not at.exception
    neuron = show(at, "Neuron")
    assert neuron.get("info")[0].value == "This model has no hidden units."
    tables = [t[0] for _, t in charts(neuron) if "char" in t[0].column_names]
    assert len(tables) == 1 and tables[0].num_rows == 27
    assert any("principal components of 27 dimensions" in c.value
               for c in neuron.get("caption"))


def test_a_large_2d_dataset_still_draws_its_boundary_within_the_row_cap():
    at = open_app({"task": "circles", "points": "20000", "depth": "1", "width": "4",
                   "steps": "50"})
    assert not at.exception
    boundary = [t[0] for s, t in charts(show(at, "Overview")) if "split" in fields(s)]
    assert len(boundary) == 1 and 2500 < boundary[0].num_rows <= MAX_ROWS


def test_a_2d_link_applies_its_point_settings_on_first_load():
    """The point settings' widgets depend on the task: they must use the link's task on the
    very first run, or a shared 2-D link would train on the default points."""
    at = open_app({"task": "circles", "points": "300", "noise": "0.2", "train_frac": "0.5",
                   "steps": "50"})
    assert not at.exception and not at.warning
    run = next(iter(at.session_state["runs"].values()))
    assert (run.config.task, run.config.points, run.config.noise, run.config.train_frac) == (
        "circles", 300, 0.2, 0.5)


def test_a_link_opens_on_its_view():
    at = open_app(SMALL | {"view": "Neuron"})
    assert not at.exception and not at.warning, "view is a known link parameter"
    assert at.session_state["view"] == "Neuron"
    assert charts(at) == charts(at.tabs[TABS.index("Neuron")]), "only that tab is drawn"
    assert charts(at)


def test_a_link_to_an_unknown_view_says_so_and_opens_the_overview():
    at = open_app(SMALL | {"view": "Nope"})
    assert not at.exception
    assert at.session_state["view"] == "Overview"
    assert "view='Nope' is not a tab (one of Overview, Loss, " in texts(at.warning)
    assert "); showing Overview." in texts(at.warning)
    lower = open_app(SMALL | {"view": "gradients"})  # the tab, whatever its case
    assert lower.session_state["view"] == "Gradients" and not lower.warning
    assert lower.query_params["view"] == "Gradients"


def test_activations_and_gradients_show_every_layer_over_training(default_page):
    at = default_page
    run = next(iter(at.session_state["runs"].values()))
    for tab, title, quantity in (("Activations", "activations over training", "activation"),
                                 ("Gradients", "activation gradients over training",
                                  "gradient")):
        data = next(t[0] for s, t in charts(show(at, tab)) if s.get("title") == title)
        assert set(data["step"].to_pylist()) == set(run.snapshot_steps)
        assert set(data["name"].to_pylist()) == set(run.layers["layer"])
        hist = run.histograms
        expected = hist[hist["quantity"] == quantity]
        shipped = np.sort(np.asarray(data["density"].to_pylist()))
        assert np.array_equal(shipped, np.sort(expected["density"].to_numpy(np.float32)))


def test_2d_input_features_follow_the_link_the_sidebar_and_the_neuron_views():
    at = open_app({"task": "circles", "features": "x2sq,x1sq", "depth": "1", "width": "4",
                   "steps": "200"}, tab="Neuron")
    run = next(iter(at.session_state["runs"].values()))
    assert run.config.features == "x1sq,x2sq"
    assert at.multiselect(key="features").value == ["x1sq", "x2sq"]
    assert at.query_params["features"] == "x1sq,x2sq"
    assert at.dataframe[0].value["input"].tolist() == ["x1²", "x2²"]
    network = next(t[0] for s, t in charts(at) if t and "label" in t[0].column_names)
    assert [label for label in network["label"].to_pylist() if label] == ["x1²", "x2²"]

    at.multiselect(key="features").set_value(["x1x2", "x1", "x2"]).run()
    latest = list(at.session_state["runs"].values())[-1]
    assert latest.config.features == "x1,x2,x1x2"
    assert at.query_params["features"] == "x1,x2,x1x2"
    at.multiselect(key="features").set_value(["x1", "x2"]).run()
    assert "features" not in at.query_params, "the default is left out of the link"
    at.multiselect(key="features").set_value([]).run()
    assert any("features=''" in text and "using the default" in text
               for text in map(rendered, (w.value for w in at.warning)))
    assert not at.exception



def test_a_hierarchical_model_from_a_link_shows_its_levels():
    at = open_app({"context": "8", "fuse": "2", "depth": "3", "width": "8", "norm": "batch",
                   "steps": "150"}, tab="Neuron")
    run = next(iter(at.session_state["runs"].values()))
    assert run.config.fuse_levels == 3 and at.slider(key="fuse").value == 2
    labels = at.dataframe[0].value["input"].tolist()
    assert len(labels) == 2 * run.config.embed_dim, "the first level sees two characters"
    assert labels[0].startswith("char 7 ") and labels[-1].startswith("char 8 ")
    at.selectbox(key="neuron_layer").set_value(1).run()
    labels = at.dataframe[0].value["input"].tolist()
    assert labels[8] == "hidden 1 unit 0, position 2 of 2"
    findings = [rendered(e.value) for e in show(at, "Overview").get("info")]
    assert any("Hierarchical model (WaveNet-style)" in f for f in findings), findings
    captions = [c.value for c in show(at, "Activations").caption]
    assert any("one group of an example's positions" in c for c in captions)
    at.slider(key="context").set_value(5).run()
    assert any("fuse=2" in text and "power of it" in text
               for text in map(rendered, (w.value for w in at.warning)))
    assert list(at.session_state["runs"].values())[-1].config.fuse == 0
    assert not at.exception


def test_the_gradients_tab_checks_backprop_against_finite_differences(default_page):
    at = default_page
    tab = show(at, "Gradients")
    verdict = tab.get("success")[-1].value
    table = tab.dataframe[-1].value
    run = next(iter(at.session_state["runs"].values()))
    assert list(table["parameter"]) == list(run.model().parameters())
    assert table["agrees"].all() and f"Every one of the {len(table)} parameters" in verdict
    relative = table.loc[table["relative_error"] < 1e-6, "relative_error"]
    assert f"(largest {relative.max():.1e})" in verdict


def test_the_backprop_verdict_says_by_which_test_each_parameter_agreed():
    """'largest relative error 1.0e-05; agreement means below 1e-06' read as a
    contradiction: that parameter agreed by differences under the noise floor."""
    import pandas as pd

    from neurondash.ui.views.gradients import _agreement

    checked = pd.DataFrame({"name": ["embedding", "hidden 1 weights", "hidden 1 bias"],
                            "relative_error": [3e-9, 1e-5, 0.0],
                            "max_abs_diff": [1e-11, 2.4e-10, 2.4e-10],
                            "agrees": [True, True, True]})
    assert _agreement(checked) == (
        "Every one of the 3 parameters agrees with finite differences: 2 within a relative "
        "error of 1e-06 (largest 3.0e-09); hidden 1 weights by differences of at most "
        "2.4e-10, within what finite differences of this loss can resolve (1e-08 per unit "
        "of loss: the loss's own rounding, not the backward, makes up such a difference). A "
        "relative error of 0 marks a gradient that is zero both ways (within 1e-08).")


@pytest.mark.parametrize("long", [False, True])
def test_the_update_data_caption_gives_the_reason_its_steps_are_apart(long, monkeypatch):
    """A walker read that the lecture run's update:data, measured every 50 steps, was so
    for its cost; it was for its length (a long run measures at about 4,000 steps)."""
    from neurondash.engine import diagnostics

    if long:  # the long-run rule, scaled down to a run the suite can train
        monkeypatch.setattr(diagnostics, "LONG_RUN_STEPS", 50)
        monkeypatch.setattr(diagnostics, "UPDATE_DATA_POINTS", 8)
    at = open_app({"batch": "4", "depth": "1", "width": "8", "steps": "100", "seed": "91"},
                  tab="Gradients")
    said = texts(at.caption)
    assert ("Measured every 13 steps: a run of more than 50 steps measures it at about 8 "
            "steps over its whole length" in said) == long, said
    assert ("for this model and batch size, measuring every matrix at every step would cost "
            "more than 5% of a step's own work" in said) != long
    assert "the diagnosis judges sgd between -3.3 and -2" in said


def test_the_update_data_caption_says_when_a_point_is_a_mean_of_measurements():
    """The hover gave steps 75 apart beside "Measured every 15 steps": the chart draws
    group means once a line has more measurements than points; the caption says so."""
    from neurondash.charts import prepare

    at = open_app({"depth": "5", "width": "8", "steps": "6000", "seed": "92"},
                  tab="Gradients")
    run = list(at.session_state["runs"].values())[-1]
    frame = prepare.update_data_frame(run)
    measured = int(np.isfinite(run.history[run.matrix_names[0]]).sum())
    per_line = frame.groupby("param").size().max()
    assert measured > per_line, "a run whose chart thins its measurements"
    assert (f"Each line draws the mean of about {measured / per_line:.0f} consecutive "
            f"measurements per point ({per_line:,} points a line)") in texts(at.caption)


def test_a_large_model_is_checked_only_on_request():
    at = open_app({"depth": "2", "width": "600", "steps": "5"}, tab="Gradients")
    assert not [d for d in at.dataframe if "relative_error" in d.value.columns]
    (button,) = [b for b in at.button if b.label.startswith("Check the gradients")]
    button.click().run()
    (table,) = [d.value for d in at.dataframe if "relative_error" in d.value.columns]
    assert table["agrees"].all()
    at.select_slider(key="snapshot").set_value(at.select_slider(key="snapshot").options[0]).run()
    assert not [d for d in at.dataframe if "relative_error" in d.value.columns], \
        "another snapshot's weights are checked only on request"
    assert not at.exception


def test_a_wrong_backward_is_shown_as_a_disagreement(monkeypatch):
    from tests.faults import output_gradient_one_percent_off

    output_gradient_one_percent_off(monkeypatch)
    at = open_app(SMALL | {"act": "relu"}, tab="Gradients")
    (error,) = [rendered(e.value) for e in at.error]
    assert "Backward disagrees with finite differences for output weights" in error
    assert "ReLU's kink" in error


def test_an_activation_without_a_flat_region_draws_no_saturation():
    """identity never saturates: no 0.0% 'most saturated layer', dead-unit map or share."""
    at = open_app({"act": "identity", "depth": "2", "width": "8", "steps": "30"})
    assert {m.label: m.value for m in at.metric}["most saturated layer"] == "—"
    tab = show(at, "Activations")
    assert not [box for box in tab.selectbox if box.key.startswith("map_layer")]
    assert any("identity has no flat region" in rendered(c.value) for c in tab.caption)
    assert not any("()" in rendered(c.value) for c in tab.caption)
    (layers,) = [d.value for d in tab.dataframe if "act_std" in d.value]
    assert not [c for c in layers.columns if "saturated" in c]


def test_the_header_names_its_quantities_and_counts_dead_units_on_the_whole_split():
    at = open_app({"act": "relu", "opt": "momentum", "depth": "3", "steps": "600"})
    run = list(at.session_state["runs"].values())[-1]
    shown = {m.label: m for m in at.metric}
    assert shown["dead units (train split)"].value == f"{sum(run.dead_units.values()):,}"
    first = run.snapshot_steps[0]
    at.select_slider(key="snapshot").set_value(first).run()
    worst = run.layers[run.layers["step"] == first]["saturated_pct"].max()
    inactive = {m.label: m for m in at.metric}["most inactive layer"]
    assert inactive.value == f"{worst:.1f}%" and f"step {first:,}" in inactive.delta
    # The losses beside it are the run's end, not the slider's step: their cells say so.
    for label in ("train loss", "val loss"):
        cell = {m.label: m for m in at.metric}[label]
        assert f"after training (step {run.steps_done:,}), whatever the snapshot slider" in (
            cell.help), label
        assert cell.delta == f"end, step {run.steps_done:,}", label
    tab = show(at, "Activations")
    assert any("inactive on all 512 sampled examples" in column
               for frame in tab.dataframe for column in frame.value.columns)
    at.button(key="count_dead").click().run()
    counted = texts(show(at, "Activations").info)
    assert f"At step {first:,}, 0 hidden units are inactive for every example" in counted


def test_a_typed_width_is_spelt_as_the_link_spells_it_and_a_refused_one_put_back():
    """A new user typed 'abc' for width: the page warned and trained the default, but 'abc'
    stayed in the box and the address bar (a link's was taken out), and '37 ,19, 5' kept
    its spaces in the link. The box now holds what the run uses: the width before, as lr
    and init scale keep theirs."""
    at = open_app(SMALL | {"depth": "3"})
    at.text_input(key="width").input(" 37 ,19, 5").run()
    assert at.text_input(key="width").value == "37,19,5"
    assert at.query_params["width"] == "37,19,5"
    at.text_input(key="width").input("abc").run()
    assert at.text_input(key="width").value == "37,19,5"
    assert at.query_params["width"] == "37,19,5"
    assert "width='abc' is not allowed: an integer 1-1024, or a comma list with one per " \
        "layer; width stays '37,19,5'." in texts(at.warning)
    assert not at.exception


def test_a_typed_width_is_checked_with_the_other_settings_as_a_links_is():
    """'7,300' at depth 3 was said to train the default 100 but stayed in the box and the
    link, then the box took the default: it now keeps the width shown before, as for a
    width refused on its own ('5,5,5,5' at depth 3 threw away a walker's 37); a width over
    the parameter cap is narrowed to the widest that fits, as a link's."""
    at = open_app(SMALL | {"depth": "3"})
    at.text_input(key="width").input("37").run()
    at.text_input(key="width").input("7,300").run()
    assert at.text_input(key="width").value == "37" and at.query_params["width"] == "37"
    assert "width='7,300' is not allowed: a comma list needs one width per hidden layer: " \
        "depth is 3, the list has 2; width stays '37'." in texts(at.warning)
    assert list(at.session_state["runs"].values())[-1].config.width == "37"
    at.slider(key="depth").set_value(12).run()
    at.text_input(key="width").input("1024").run()
    assert at.text_input(key="width").value == "671" and at.query_params["width"] == "671"
    assert "using the widest that fits, '671'" in texts(at.warning)
    assert not at.exception


def test_a_value_off_the_log_sliders_grid_can_be_typed():
    """A new user could reach lr 0.7373 or init scale 2.913 only by editing the link: the
    sliders stop on a grid. Typed under the slider, the value is the slider's, the link's
    and the run's; a refused one is said and changes nothing."""
    at = open_app(SMALL)
    at.text_input(key="lr_typed").input("0.7373").run()
    at.text_input(key="init_scale_typed").input("2.913").run()
    run = list(at.session_state["runs"].values())[-1]
    assert (run.config.lr, run.config.init_scale) == (0.7373, 2.913)
    assert at.query_params["lr"] == "0.7373" and at.query_params["init_scale"] == "2.913"
    assert at.select_slider(key="lr").value == 0.7373
    assert at.text_input(key="lr_typed").value == ""
    at.text_input(key="lr_typed").input("abc").run()
    assert "lr='abc' is not allowed" in texts(at.warning)
    assert "lr stays 0.7373." in texts(at.warning) and at.query_params["lr"] == "0.7373"
    # Beyond a bound, the bound, as a link's lr=50 gets (the box said "lr stays 0.7373").
    at.text_input(key="lr_typed").input("50").run()
    assert "lr='50' is not allowed: a number from 1e-05 to 10; using the nearest allowed " \
        "value 10." in texts(at.warning) and at.query_params["lr"] == "10"
    assert not at.exception


@pytest.mark.parametrize("name", [name for name, view in VIEWS.items() if view.trains])
def test_a_view_that_trains_asks_for_a_word_list_before_it_can_train(name):
    """With task words and no list, a view that trains offers nothing to press (the LR
    finder's button ended on an internal error, a search on 'a run failed')."""
    at = open_app({"task": "words"}, tab=name)
    assert not at.exception
    assert f"The {name} view trains on your word list: upload one" in texts(at.info)
    assert not [b.label for b in at.tabs[TABS.index(name)].button]


def test_the_overview_of_a_net_without_hidden_layers_explains_no_undrawn_chart():
    at = open_app({"depth": "0", "steps": "30"})
    said = texts(at.caption)
    assert "No hidden layer (depth 0), so no activation std to draw." in said
    assert "Activation std: healthy layers" not in said


def test_a_run_waiting_for_train_says_once_that_the_page_shows_the_previous_one():
    """Four notices stacked up when a setting changed to a long run; the wait for Train
    now says that the previous run is shown, and no second notice repeats it."""
    at = open_app(SMALL)
    at.number_input(key="steps").set_value(100_000).run()
    assert not at.exception
    notices = [rendered(i.value) for i in at.info]
    assert any("press **Train** to start it" in n and "Until then the page shows the "
               "previous run (steps=150, not 100000)." in n for n in notices), notices
    assert not any("Showing the previous run" in n for n in notices), notices
    assert charts(at), "the previous run is still drawn"


def test_a_long_links_tabs_say_why_they_are_empty_until_train():
    """A link too long to train unasked left the Overview blank under its notice, which a
    walker took for a broken page; each run view now says why, and the Lessons tab draws."""
    at = open_app({"steps": "200000", "depth": "5"})
    assert "to start it" in texts(at.info)
    said = texts(at.tabs[TABS.index("Overview")].caption)
    assert "Overview draws the run of these settings, which has not been trained yet" in said
    assert "Lessons" in said and "Neuron" not in said.split("without it:")[-1]
    assert "has not been trained" not in texts(show(at, "Lessons").caption)
    assert "Neuron draws the run" in texts(show(at, "Neuron").caption)


def test_a_model_without_hidden_layers_shows_no_unit_counts_and_its_own_init_rule():
    """depth 0 showed a blank 'most saturated' cell and '0' dead units, as if measured, and
    the Weights tab described hidden weights it does not have."""
    at = open_app({"depth": "0", "steps": "30", "init_scale": "3"})
    shown = {m.label: m.value for m in at.metric}
    assert shown["most saturated layer"] == "—" and shown["dead units (train split)"] == "—"
    tab = show(at, "Weights")
    captions = texts(tab.caption)
    assert "No hidden layers: the output weights are drawn with std = Kaiming with gain 1 / " \
           "√fan_in x init scale 3, times out scale 0.1" in captions
    assert "Hidden weights" not in captions and not at.exception


def test_a_zero_init_weights_caption_does_not_promise_a_ratio_it_lacks():
    """'The output layer starts 10 times smaller on purpose ... its ratio growing far past
    1 is expected' stood under a prescribed std of 0 and a ratio of no value."""
    at = open_app({"init": "zero", "steps": "30", "depth": "2", "width": "16"})
    captions = texts(show(at, "Weights").caption)
    assert "zero" in captions and "times smaller on purpose" not in captions


def test_reset_from_a_link_with_a_snapshot_step_opens_the_defaults():
    """Reset on ?steps=123&seed=8&snapshot=50 stopped on an internal error: the page deleted
    the step from the link while the slider was bound to it, which Streamlit refuses."""
    at = open_app({"steps": "123", "seed": "8", "snapshot": "50"})
    assert at.select_slider(key="snapshot").value == 50
    next(b for b in at.button if b.label == "Reset").click().run()
    no_internal_error(at)
    assert not at.exception
    assert "seed" not in at.query_params and "snapshot" not in at.query_params
    slider = at.select_slider(key="snapshot")
    assert slider.value == int(slider.options[-1]) == 3000


def test_a_setting_changed_under_a_cut_run_trains_the_whole_new_run():
    """A walker changed width on a stopped run's page (its link holds until=46065) and
    trained 46,065 of 83,000 steps without a word: until belongs to the run it cut. The
    settings' own run is whole; the cut run's link still opens the cut run."""
    at = open_app(SMALL | {"steps": "300", "until": "120"})
    assert list(at.session_state["runs"].values())[-1].steps_done == 120
    at.text_input(key="width").input("9").run()
    no_internal_error(at)
    assert "until" not in at.query_params and at.query_params["width"] == "9"
    run = list(at.session_state["runs"].values())[-1]
    assert run.config.width == "9" and run.config.until == 0 and run.steps_done == 300
    again = open_app(SMALL | {"steps": "300", "until": "120"})
    assert list(again.session_state["runs"].values())[-1].steps_done == 120


def test_continue_with_no_run_of_these_settings_trains_nothing():
    """On a link not trained yet Continue trained twice its steps from step 0 without a
    word (and a follower's Continue started a second training beside the one it
    followed): it now says there is nothing to continue yet."""
    at = open_app(SMALL)
    at.slider(key="depth").set_value(3)  # pressed with the change, before its run exists
    next(b for b in at.button if b.label == "Continue").click().run()
    no_internal_error(at)
    assert "There is no run of these settings to continue yet: press Train first." in \
        texts(at.warning)
    assert "more" not in at.query_params
    latest = list(at.session_state["runs"].values())[-1]
    assert latest.config.more == 0 and latest.steps_done == int(SMALL["steps"])

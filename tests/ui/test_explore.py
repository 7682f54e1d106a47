"""AppTest of the explore-and-share views: lessons, compare, LR finder, import (the
Sweep view's search: test_search_view.py)."""

from __future__ import annotations

import json
import logging

import numpy as np
from streamlit.elements.lib import policies

from neurondash import Config, train
from neurondash.presets import PRESETS, PRESETS_BY_SLUG

from .markdown import rendered, texts
from .test_app import SMALL, charts, fields, open_app, show


def test_lesson_button_loads_the_preset_and_names_its_effect():
    at = open_app(SMALL, tab="Lessons")
    buttons = [b for b in at.button if b.key and b.key.startswith("preset_")]
    assert len(buttons) == len(PRESETS)
    at.button(key="preset_zero-init").click().run()
    assert not at.exception
    preset = PRESETS_BY_SLUG["zero-init"]
    assert at.selectbox(key="init").value == "zero"
    assert at.number_input(key="steps").value == preset.config.steps
    assert at.text_input(key="width").value == "100"
    tab = show(at, "Overview")
    overview = " ".join(rendered(m.value) for kind in ("warning", "info", "success")
                        for m in tab.get(kind))
    assert preset.finding in overview


def test_the_features_lesson_loads_its_feature_list_and_names_its_effect():
    at = open_app(SMALL, tab="Lessons")
    at.button(key="preset_input-features").click().run()
    assert not at.exception
    preset = PRESETS_BY_SLUG["input-features"]
    assert at.selectbox(key="task").value == "circles"
    assert at.multiselect(key="features").value == ["x1sq", "x2sq"]
    assert at.query_params["features"] == "x1sq,x2sq"
    run = list(at.session_state["runs"].values())[-1]
    assert run.config == preset.config and run.final["val_acc"] > 0.97
    tab = show(at, "Overview")
    assert any(preset.finding in rendered(m.value) for m in tab.get("info"))


def test_settings_set_in_code_log_no_widget_default_warning():
    """A lesson, an import or an off-grid link sets widget values in code. Passing the
    widget's default as well made Streamlit log a warning with a stack trace to the
    server's terminal, which reads like a crash to whoever started the dashboard."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger(policies.__name__)
    logger.addHandler(handler)
    policies._shown_default_value_warning = False  # it is logged once per process
    try:
        at = open_app(SMALL | {"lr": "0.123"}, tab="Lessons")
        at.button(key="preset_zero-init").click().run()
        at.run()
    finally:
        logger.removeHandler(handler)
    assert not at.exception
    assert at.selectbox(key="init").value == "zero"
    assert not [r for r in records if "default value" in r.getMessage()]


def test_compare_overlays_two_runs_and_lists_differences():
    at = open_app(SMALL, tab="Compare")
    at.selectbox(key="act").set_value("relu").run()
    assert not at.exception
    assert len(at.multiselect(key="compare_runs").value) == 2
    compare = [(s, t) for s, t in charts(at) if "split" in fields(s)]
    assert compare and set(compare[0][1][0].column("run").to_pylist()) == {
        "act=tanh", "act=relu"}, "runs are named by what differs"
    tables = [d.value for d in at.dataframe]
    assert any(list(t.columns) == ["act"] for t in tables)


def test_lr_finder_view_suggests_and_applies_the_rate_it_states():
    at = open_app(SMALL, tab="LR finder")
    at.button(key="lr_find").click().run()
    assert not at.exception
    finder = [(s, t) for s, t in charts(at) if {"lr", "smoothed"} <= fields(s)]
    assert finder
    spec, tables = finder[0]
    lines = next(t for t in tables if "seed" in t.column_names)
    assert len(set(lines.column("seed").to_pylist())) == 3 and lines.num_rows > 60
    y = next(layer["encoding"]["y"] for layer in spec["layer"] if "y" in layer["encoding"])
    assert y["scale"]["type"] == "log"
    result = at.session_state["lr_result"][1]
    assert y["scale"]["domain"][1] == 1.25 * result.start_loss
    marks = {layer["mark"]["type"]: layer for layer in spec["layer"]}
    assert "#d62728" not in marks["line"]["encoding"]["color"]["scale"]["range"], \
        "no seed in the suggestion's red"
    assert marks["text"]["encoding"]["text"]["field"] == "label", "the suggestion is named"
    assert result.suggestion == float(f"{result.suggestion:.3g}")
    button = at.button(key="lr_use")
    assert button.label == f"Use lr = {result.suggestion:g}"
    button.click().run()
    assert not at.exception
    assert at.select_slider(key="lr").value == result.suggestion  # exact, not snapped
    assert "(Result of the previous settings.)" not in texts(at.caption), \
        "the range test sweeps lr: its result holds for any lr"
    at.slider(key="depth").set_value(1).run()
    assert "(Result of the previous settings.)" in texts(at.caption)


def test_import_shows_a_run_without_retraining_and_rejects_bad_files():
    config = Config(depth=1, width="12", steps=60, act="relu")
    exported = train(config).to_json().encode()
    at = open_app(SMALL, tab="Export / import")
    uploader = at.get("file_uploader")[-1]
    uploader.set_value(("bad.json", b'{"format": "something-else"}', "application/json")).run()
    assert not at.exception
    assert any("Import rejected" in rendered(e.value) for e in at.error)
    assert at.selectbox(key="act").value == "tanh"
    at.get("file_uploader")[-1].set_value(("run.json", exported, "application/json")).run()
    assert not at.exception
    assert any("Imported a run" in rendered(s.value) for s in at.success)
    assert at.selectbox(key="act").value == "relu"
    assert at.text_input(key="width").value == "12"
    shown = at.session_state["runs"]
    elapsed = json.loads(exported)["elapsed"]
    assert any(run.elapsed == elapsed and run.config == config for run in shown.values())


def test_an_imported_word_list_run_is_shown_with_its_words():
    words = [f"{a}{b}{c}" for a in "abcd" for b in "xyz" for c in "eo"]
    config = Config(task="words", depth=1, width="12", steps=60)
    exported = train(config, words=words).to_json().encode()
    at = open_app(SMALL, tab="Export / import")
    at.get("file_uploader")[-1].set_value(("run.json", exported, "application/json")).run()
    assert not at.exception
    assert at.selectbox(key="task").value == "words"
    assert not any("word list of your own" in i.value for i in at.info)
    elapsed = json.loads(exported)["elapsed"]
    shown = [run for run in at.session_state["runs"].values() if run.elapsed == elapsed]
    assert shown and sorted(shown[0].words) == sorted(words)
    assert at.metric[0].value == f"{shown[0].initial_loss:.3f}", "the imported run is on show"


def test_an_imported_2d_run_brings_its_input_features_to_the_sidebar():
    config = Config(task="circles", depth=1, width="4", steps=60, features="x1sq,x2sq")
    exported = train(config).to_json().encode()
    at = open_app(SMALL, tab="Export / import")
    at.get("file_uploader")[-1].set_value(("run.json", exported, "application/json")).run()
    assert not at.exception
    assert at.selectbox(key="task").value == "circles"
    assert at.multiselect(key="features").value == ["x1sq", "x2sq"]
    assert at.query_params["features"] == "x1sq,x2sq"
    assert any(run.config == config for run in at.session_state["runs"].values())




def test_downloads_are_named_after_their_runs_settings():
    """Two exports do not overwrite each other, and a name is safe on any file system."""
    from neurondash.ui.views.export import file_stem

    names = {file_stem(train(Config(depth=1, width="8", steps=10, **extra)))
             for extra in ({}, {"lr": 0.0137}, {"act": "relu", "lr": 0.3})}
    assert len(names) == 3
    assert "neurondash-depth-1_width-8_act-relu_lr-0.3_steps-10" in names
    assert all(set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789.-_") for name in names)


def test_compare_calls_a_run_without_warnings_healthy_as_the_runs_tab_does():
    """The identity run read 'Healthy' on Overview and in Runs, 'none' in Compare."""
    from neurondash import Config, train
    from neurondash.charts.prepare import COLUMN_LABELS, compare_table
    from neurondash.summary import summarize

    run = train(Config(depth=1, width="8", act="identity", steps=50))
    table = compare_table({"identity": summarize(run)})
    assert table.loc[COLUMN_LABELS.get("findings", "findings"), "identity"] == "healthy"


def test_compare_names_saturation_in_each_activations_own_words():
    """Two ReLU runs' rows read 'saturated %', a word ReLU units never earn."""
    from neurondash import Config, train
    from neurondash.charts.prepare import compare_table
    from neurondash.summary import summarize

    def rows(*acts: str) -> list[str]:
        return list(compare_table({act: summarize(train(Config(depth=1, width="8", act=act,
                                                               steps=20)))
                                   for act in acts}).index)

    assert "inactive % at init (mean of layers)" in rows("relu", "gelu")
    assert "leaky-side % at end (mean of layers)" in rows("leaky_relu")
    assert "saturated % at end (mean of layers)" in rows("tanh")
    assert "saturated / inactive % at init (mean of layers)" in rows("tanh", "relu")


def test_the_history_csv_names_its_update_data_columns():
    import io

    import pandas as pd

    from neurondash import Config, train
    from neurondash.charts.labels import parameter_labeller
    from neurondash.ui.views.export import history_csv

    run = train(Config(depth=1, width="8", steps=30))
    frame = pd.read_csv(io.StringIO(history_csv(run)))
    matrices = [c for c in run.history.columns if c not in ("step", "loss", "lr")]
    # Named as the chart's legend names them (a walker could not map layers.0.weight).
    label = parameter_labeller(run)
    assert matrices and list(frame.columns) == ["step", "loss", "lr", *(
        f"log10 update:data {label(name)}" for name in matrices)]
    assert "log10 update:data hidden 1 weights" in frame.columns
    assert len(frame) == len(run.history)


def test_the_gradients_tab_says_why_update_data_lines_stop_or_are_missing():
    """A zero init: the embedding's update is exactly 0 (log -inf, not drawn) and every
    other matrix stays all-equal (0/0, no line); the note names each, and a healthy run
    gets none."""
    from neurondash.charts.labels import parameter_labeller
    from neurondash.ui.views.gradients import zero_update_note

    run = train(Config(init="zero", steps=100))
    note, label = zero_update_note(run), parameter_labeller(run)
    values = run.history[run.matrix_names]
    zero = [label(n) for n in run.matrix_names if np.isneginf(values[n]).any()]
    never = [label(n) for n in run.matrix_names if values[n].isna().all()]
    assert zero and never
    assert note.startswith(f"{', '.join(zero)}: an update of exactly 0")
    assert f"{', '.join(never)}: no line" in note
    assert zero_update_note(train(Config(steps=100))) is None
    # Their grad:data is 0/0 too: no value, not the infinity the table showed.
    last = run.weights[run.weights["step"] == run.steps_done].set_index("param")
    assert last.loc[run.matrix_names[1:], "grad_data"].isna().all()


def test_single_weight_matrices_get_no_update_data_line_and_a_note_saying_why():
    """At width 1 the hidden 1x1 matrices' std is 0 by definition: the note called that an
    update of exactly 0 at 499 steps and the chart drew rounding noise for them."""
    from neurondash.charts.labels import parameter_labeller
    from neurondash.charts.prepare import update_data_frame
    from neurondash.ui.views.gradients import zero_update_note

    run = train(Config(width="1", depth=4, steps=100))
    label = parameter_labeller(run)
    single = [label(n) for n in run.weights.drop_duplicates("param").query(
        "shape == '1x1'")["param"]]
    assert single == ["hidden 2 weights", "hidden 3 weights", "hidden 4 weights"]
    assert zero_update_note(run).startswith(f"{', '.join(single)}: a single weight each")
    assert not set(single) & set(update_data_frame(run)["param"])

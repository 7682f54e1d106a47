"""Every tab draws, without an internal error, for runs at the edges: diverged at the first,
a middle and the last step, a single step, no hidden layer, one unit wide, a 2-D task."""

from __future__ import annotations

import pandas as pd
import pytest

from neurondash import Config, train
from neurondash.ui.views import TABS

from .markdown import rendered
from .test_app import charts, open_app, show

EXTREME = {
    "diverged at step 1": "act=relu&init_scale=100&out_scale=10&steps=40&width=32&depth=5",
    "diverged mid-way": "act=relu&lr=3&width=32&steps=30",
    "diverged at the last step": "act=relu&lr=3&width=32&sched=constant&steps=15",
    "one step": "steps=1&width=8",
    "no hidden layer": "depth=0&steps=40",
    "one unit wide": "width=1&steps=40&depth=2",
    "2-D task": "task=spiral&steps=40&width=8",
}
RUN_TABS = TABS
"""Every tab: a new view is drawn for these runs without a new line here."""


def _params(query: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in query.split("&"))


def _step_axes(spec: dict) -> list[dict]:
    """Every x encoding of ``spec`` (layers and facets included) on the field "step"."""
    found = []
    if isinstance(spec, dict):
        x = spec.get("encoding", {}).get("x")
        if isinstance(x, dict) and x.get("field") == "step" and x.get("type") == "quantitative":
            found.append(x)
        for value in spec.values():
            found += _step_axes(value)
    elif isinstance(spec, list):
        for value in spec:
            found += _step_axes(value)
    return found


def test_the_diverged_extremes_diverge_where_their_names_say():
    """Each "diverged" case blows up at its step (a change to the engine's numbers can
    make such a run finish, and this file would then test no diverged run)."""
    where = {"diverged at step 1": lambda done, steps: done <= 1,
             "diverged mid-way": lambda done, steps: 1 < done < steps - 1,
             "diverged at the last step": lambda done, steps: done == steps - 1}
    for name, holds in where.items():
        run = train(Config.from_query(EXTREME[name])[0])
        assert run.status == "diverged" and holds(run.steps_done, run.config.steps), \
            (name, run.status, run.steps_done)


@pytest.mark.parametrize("name", list(EXTREME))
def test_every_tab_draws_an_extreme_run(name):
    at = open_app(_params(EXTREME[name]))
    assert not at.exception
    assert set(RUN_TABS) <= set(TABS)
    for tab in TABS:
        if tab in ("Sweep", "LR finder", "Runs", "Lessons"):
            continue  # independent of the shown run; tested in their own files
        show(at, tab)  # fails on an "internal error"
        assert not at.exception, (tab, at.exception)
        for spec, _tables in charts(at):
            for axis in _step_axes(spec):
                assert axis["axis"]["format"] == "d" and axis["axis"]["tickMinStep"] == 1, \
                    (tab, axis)


def test_a_diverged_loss_is_drawn_on_a_log_scale_and_says_so():
    at = open_app(_params(EXTREME["diverged mid-way"]), tab="Loss")
    (spec, _), *_ = charts(at)
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert any("log scale" in rendered(c.value) for c in at.caption)


def test_a_panel_with_nothing_to_draw_says_why(monkeypatch):
    from neurondash.charts import prepare

    monkeypatch.setattr(prepare, "histograms_at", lambda run, step, quantity: pd.DataFrame(
        columns=["name", "bin_start", "bin_end", "density"]))
    at = open_app(_params(EXTREME["one step"]), tab="Activations")
    notes = " ".join(rendered(i.value) for i in at.info)
    assert "No activations at the selected step to draw: nothing was recorded" in notes


def test_a_diverged_runs_model_views_work_on_the_snapshots_before_the_blow_up():
    """Before the blow-up the weights are finite: Neuron, Logits and the gradient check use
    them (they said 'not finite' for every step of a diverged run)."""
    at = open_app(_params(EXTREME["diverged mid-way"]))
    steps = list(at.session_state["runs"].values())[-1].snapshot_steps
    at.select_slider(key="snapshot").set_value(steps[0]).run()
    for tab in ("Neuron", "Logits", "Gradients"):
        shown = show(at, tab)
        assert not [i for i in shown.info if "not finite" in rendered(i.value)], tab
        assert any("before the blow-up" in rendered(c.value) for c in shown.caption), tab
    assert any(t.startswith(f"**20 sampled words** from the weights at step {steps[0]:,}:")
               for t in (m.value for m in show(at, "Logits").markdown))


def test_a_run_cut_by_until_says_it_is_part_of_its_run_and_offers_the_rest():
    """A search's pruned trial opens as its shorter rung: the page says so, not only the
    sidebar's until box."""
    at = open_app({"steps": "300", "until": "120", "width": "8"})
    said = [rendered(i.value) for i in at.info]
    assert any("trained 120 of its 300 steps" in text for text in said), said
    assert at.button(key="resume").label == "Continue to step 300"


def test_a_run_with_one_snapshot_says_so_instead_of_a_trackless_slider():
    at = open_app({"act": "relu", "lr": "10", "seed": "11"})
    assert list(at.session_state["runs"].values())[-1].snapshot_steps == [0]
    assert not [s for s in at.select_slider if s.key == "snapshot"]
    assert any("Snapshot step 0: the only one recorded" in c.value for c in at.caption)
    for tab in TABS:
        if tab not in ("Sweep", "LR finder", "Runs", "Lessons"):
            assert not show(at, tab).exception, tab


def test_a_cut_runs_page_says_when_its_whole_run_is_already_stored():
    """A page left on a stopped or cut run learns that another page finished the run:
    Continue then opens it from the store."""
    whole = {"steps": "300", "width": "8"}
    open_app(whole)  # trains and stores the whole run
    at = open_app(whole | {"until": "120"})
    said = [rendered(i.value) for i in at.info]
    assert any("is in the run store" in text for text in said), said

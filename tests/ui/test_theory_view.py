"""The Activations view draws the mean-field prediction over the measured per-layer std at
init, in numbers the theory module gives, and says when the theory does not apply."""

from __future__ import annotations

import math

import pytest

from neurondash import Config
from neurondash.theory import input_mean_square, predict

from .markdown import texts
from .test_app import charts, open_app, show


def theory_chart(tab):
    return [(spec, tables) for spec, tables in charts(tab)
            if "mean-field" in str(spec.get("title", ""))]


@pytest.mark.parametrize("scale, phase", [("0.5", "ordered"), ("2", "chaotic")])
def test_the_theory_line_is_the_prediction_and_the_caption_names_the_phase(scale, phase):
    params = {"depth": "4", "width": "64", "steps": "20", "init_scale": scale}
    at = open_app(params)
    tab = show(at, "Activations")
    drawn = theory_chart(tab)
    assert len(drawn) == 1
    frame = drawn[0][1][0].to_pandas()
    run = at.session_state["runs"].latest()
    measured = frame[frame["series"] == "measured at step 0"].sort_values("layer")
    config = Config.from_query("&".join(f"{k}={v}" for k, v in params.items()))[0]
    expected = predict(config, input_mean_square(config, measured["std"].iloc[0])).q
    theory = frame[frame["series"] == "mean-field theory"].sort_values("layer")["std"]
    assert theory.tolist() == pytest.approx([math.sqrt(q) for q in expected])
    assert run.config == config and len(measured) == 4
    ratio = measured["std"].to_numpy() / theory.to_numpy()
    assert ratio[0] == pytest.approx(1.0) and abs(ratio - 1).max() < 0.15, ratio
    assert f"in the {phase} phase" in texts(tab.caption)
    assert "init_scale 0.6 puts tanh at the edge of chaos" in texts(tab.caption)


def test_under_batch_norm_the_view_says_the_theory_does_not_apply():
    tab = show(open_app({"depth": "3", "width": "32", "steps": "20", "norm": "batch"}),
               "Activations")
    assert not theory_chart(tab)
    assert "Mean-field theory does not describe this net: batch norm" in texts(tab.caption)

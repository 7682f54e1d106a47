"""Every Overview finding with advice has a Try it button that opens the suggested Config
beside the run, with the number the finding is about before and after (trained here: the
suggestion fits the auto-train limit)."""

from __future__ import annotations

from neurondash import Config, train
from neurondash.diagnosis import diagnose
from neurondash.diagnosis.numbers import label, measure
from neurondash.ui.views.try_it import SAME_LOSS

from .markdown import texts
from .test_app import open_app, show

QUERY = {"depth": "4", "width": "16", "init_scale": "4", "steps": "200"}


def test_try_it_shows_the_suggested_run_beside_this_one():
    at = open_app(QUERY)
    tab = show(at, "Overview")
    run = train(Config.from_query("&".join(f"{k}={v}" for k, v in QUERY.items()))[0])
    advised = [f for f in diagnose(run) if f.change and f.metric]
    buttons = [b for b in tab.button if b.key and b.key.startswith("try_it_")]
    assert advised and len(buttons) == len(advised)
    (saturated,) = [f for f in advised if f.lesson == "Saturated activations"]
    index = diagnose(run).index(saturated)
    button = next(b for b in buttons if b.key == f"try_it_{index}")
    assert button.label == "Try it: init_scale 1"
    at = button.click().run()
    tab = show(at, "Overview")
    shown = {m.label: m.value for m in tab.metric}
    name = f"{label(saturated.metric, 'tanh')} ({saturated.layers[0]})"
    after = train(run.config.replace(**saturated.change))
    assert shown[f"This run (init_scale 4): {name}"] == \
        f"{measure(run, saturated.metric, saturated.layers):.0f}"
    assert shown[f"With init_scale 1: {name}"] == \
        f"{measure(after, saturated.metric, saturated.layers):.0f}"
    caption = texts(tab.caption)
    assert f"With init_scale 1: {name} better" in caption
    val_before, val_after = measure(run, "val_loss"), measure(after, "val_loss")
    way = ("about the same" if abs(val_after - val_before) < SAME_LOSS else
           "better" if val_after < val_before else "worse")
    assert f"final validation loss {way} ({val_after:.4f} against {val_before:.4f}" in caption
    close = next(b for b in tab.button if b.key == f"try_it_{index}")
    assert close.label == "Close the comparison with init_scale 1"
    tab = show(close.click().run(), "Overview")
    assert not [m for m in tab.metric if m.label.startswith("With init_scale 1")]
    assert next(b for b in tab.button if b.key == f"try_it_{index}").label == \
        "Try it: init_scale 1"


def test_try_it_calls_losses_closer_than_the_seed_noise_about_the_same():
    """'better (2.8715 against 2.8715)' and 'worse (2.8248 against 2.8241)' judged
    differences far below what seeds alone change."""
    from neurondash.ui.views.try_it import _val_words

    assert _val_words(2.87151, 2.87149).startswith("final validation loss about the same")
    assert _val_words(2.8241, 2.8248).startswith("final validation loss about the same")
    assert _val_words(2.90, 2.80).startswith("final validation loss better (2.8000")
    assert _val_words(2.80, 2.90).startswith("final validation loss worse (2.9000")
    # A suggestion that diverged is worse, said so ('diverged against 2.5808' was not).
    assert _val_words(2.5808, float("inf")).startswith("final validation loss worse: ")
    assert _val_words(float("inf"), 2.5).startswith("final validation loss better: 2.5000")


def test_a_suggestion_too_long_to_train_by_itself_trains_in_this_tab_on_a_click(
        monkeypatch):
    """It only offered a link, whose new tab knew nothing of this run: no Compare, no
    before and after."""
    from neurondash import run_source
    from neurondash.identity import run_key

    at = open_app(QUERY)
    run = train(Config.from_query("&".join(f"{k}={v}" for k, v in QUERY.items()))[0])
    index = next(i for i, f in enumerate(diagnose(run))
                 if f.lesson == "Saturated activations")
    monkeypatch.setattr(run_source, "AUTO_SECONDS", 1e-6)  # every suggestion is long now
    at = next(b for b in show(at, "Overview").button
              if b.key == f"try_it_{index}").click().run()
    assert "Trained in this tab, it joins this run" in texts(show(at, "Overview").info)
    at = at.button(key="train_suggested").click().run()
    assert not at.exception and at.session_state["init_scale"] == 1.0
    held = set(at.session_state["runs"].keys())
    assert {run_key(run.config), run_key(run.config.replace(init_scale=1.0))} <= held


def test_every_metric_label_reads_as_one_phrase_before_its_verdict():
    """Try it writes '<label> better': 'rise of the training loss above its start, early on
    better' read garbled. No label may end in a clause of its own."""
    from neurondash.diagnosis.numbers import METRICS

    for name, metric in METRICS.items():
        assert "," not in metric.label, name


def test_a_number_that_reads_the_same_is_not_called_better():
    """'saturated % after training (hidden 2) 100' beside '100' was called better (99.96
    against 100.0)."""
    from neurondash.ui.views.try_it import verdict

    assert verdict("saturated_end", 100.0, 99.96, ".0f") == "about the same"
    assert verdict("saturated_end", 100.0, 98.0, ".0f") == "better"
    assert verdict("saturated_end", 40.0, 60.0, ".0f") == "not better"
    assert verdict("val_loss", 2.8715, 2.8714, ".4f") == "about the same"

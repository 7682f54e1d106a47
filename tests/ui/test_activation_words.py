"""The Activations tab speaks each activation's own words, read from its record: a new
activation gets its caption, its dead-map wording and its % title without a new line in a
view (ReLU units are inactive, not saturated)."""

from __future__ import annotations

import pytest

from neurondash.parts.activations import ACTIVATIONS

from .markdown import texts
from .test_app import charts, open_app, show


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_activations_tab_describes_this_activation(name):
    activation = ACTIVATIONS[name]
    at = open_app({"act": name, "steps": "30", "width": "8", "depth": "2"})
    tab = show(at, "Activations")
    captions = texts(tab.caption)
    assert f"What a healthy {name} layer looks like: {activation.healthy}" in captions
    others = [other for other in ACTIVATIONS if other != name and other not in name]
    assert not [other for other in others if f"healthy {other} layer" in captions]
    if activation.saturated is not None:
        assert f"outputs are {activation.flat_words or activation.saturation_label}, the " \
            "most of any layer" in captions
    centre = "0.5" if name == "sigmoid" else "0"  # where a collapsed layer's outputs sit
    assert f"the whole band narrowing to {centre} means collapse" in captions
    titles = " ".join(str(part.get("title", "")) for spec, _ in charts(tab)
                      for part in [spec, *spec.get("layer", [])])
    if activation.saturated is not None:
        assert f"{activation.saturation_label} % over training" in titles
        assert f"{activation.saturation_label} (white)" in titles
        assert f"White cells: {activation.saturation_label} for that example (" in captions
        assert "% of this map's cells)" in captions
    else:  # nothing to count: no map or share over training, said once
        assert "over training" not in titles.replace("activations over training", "")
        assert f"{name} has no flat region" in captions
        assert "count_dead" not in [b.key for b in at.button], "no dead unit to count"
        dead = [m for m in at.metric if m.label == "dead units (train split)"]
        assert [m.value for m in dead] == ["—"]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_neuron_tab_says_where_this_activation_passes_no_gradient(name):
    """The Neuron tab said 'not the flat tails' of ReLU, which has none: it reads the
    activation's own words for where its outputs stop passing the gradient."""
    activation = ACTIVATIONS[name]
    at = open_app({"act": name, "steps": "30", "width": "8", "depth": "2"})
    captions = texts(show(at, "Neuron").caption)
    if activation.flat_words:
        passes = "little or no gradient" if activation.dead else "only a small gradient"
        assert f"a unit whose outputs are all {activation.flat_words} passes {passes}" \
            in captions
    else:
        assert f"{name} has no flat part" in captions
    assert "flat tails" not in captions or "flat tails" in activation.flat_words

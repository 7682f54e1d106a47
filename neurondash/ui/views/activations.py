"""The Activations view: histograms, saturation, dead units."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ... import charts
from ...charts import prepare
from ...charts.theory import spread_sentence, theory_chart, theory_frame, theory_sentence
from ...diagnosis.findings import counted
from ...engine import queries
from ...parts.activations import ACTIVATIONS, Activation
from ...run import Run
from .. import render
from ..cache import (
    chart_key,
    dataset_of,
    derived,
    derived_at_init,
    derived_ready,
    init_key,
    kept_step,
    model_of,
    offer_rebuild,
    template_key,
)
from .common import histogram_view, over_training_view, table, x_end
from .mean_field import prediction_of, spread_of


def activations_tab(run: Run, step: int) -> None:
    if not len(run.layers):
        st.info("This model has no hidden layers.")
        return
    histogram_view(run, step, "activation", "activations", "activation")
    activation = ACTIVATIONS[run.config.act]
    st.caption(f"What a healthy {activation.name} layer looks like: {activation.healthy}."
               f"{_this_step(run, step, activation)} Click the legend to isolate a layer.")
    table(prepare.layer_table(run, step), hide_index=True)
    theory_view(run)
    dead_at_step(run, step)
    label = activation.saturation_label
    if activation.saturated is None:
        st.caption(f"{activation.name} has no flat region: no output is ever {label}, so "
                   "there is no dead-unit map or share over training to draw.")
    else:
        _flat_region(run, step, activation)
    band = (f" Outputs {activation.flat_words} show as a dark band there: one growing over "
            f"training means more outputs {label}." if activation.saturated is not None
            else "")
    # Collapse is a band narrowing to the output at 0 (sigmoid's is 0.5).
    centre = float(activation.forward(np.zeros(1))[0])
    over_training_view(run, "activation", "activations over training", "activation",
                       "Each layer's activation histogram at every snapshot, darkest where "
                       f"most values fall; the whole band narrowing to {centre:g} means "
                       "collapse." + band)


def _this_step(run: Run, step: int, activation: Activation) -> str:
    """The snapshot's most saturated layer in the activation's own words, beside the
    description of a healthy one (which alone read as a verdict on any chart)."""
    if activation.saturated is None:
        return ""
    rows = run.layers[run.layers["step"] == step]
    if not len(rows):
        return ""
    worst = rows.loc[rows["saturated_pct"].idxmax()]
    return (f" Here, at step {step:,}: {worst['saturated_pct']:.0f}% of {worst['layer']}'s "
            f"outputs are {activation.flat_words or activation.saturation_label}, the most "
            "of any layer.")


def _flat_region(run: Run, step: int, activation: Activation) -> None:
    """Where outputs sit in the activation's flat region: the dead-unit map of one layer at
    ``step`` and each layer's share over training."""
    layers = sorted(run.dead_maps[step])
    layer = st.selectbox("layer for the dead-unit map", layers,
                         index=layers.index(worst_layer(run, step, layers)),
                         key=f"map_layer_{chart_key(run)[0][:12]}")
    mask = lambda: prepare.dead_map_frame(run.dead_map(step, layer))  # noqa: E731
    units = int(run.layers.loc[run.layers["layer"] == layer, "units"].iloc[0])
    render.chart(chart_key(run, "dead_map", step, layer),
                 lambda: charts.dead_map_chart(mask(), layer, units,
                                               activation.saturation_label),
                 template=template_key(run, "dead_map", layer), data=mask)
    rows = (" Below the top of a fused model (`fuse`) each row is one group of an "
            "example's positions." if run.config.fuse_levels > 1 else "")
    label = activation.saturation_label
    column = ("a dead unit: no example gives it a gradient" if activation.dead is not None
              else f"a unit {label} on every example, which still learns through the "
                   "small gradient there")
    share = float(mask()["saturated"].mean())
    st.caption(f"White cells: {label} for that example ({share:.0%} of this map's cells). A "
               f"fully white column is {column}." + rows)
    render.chart(chart_key(run, "saturation"), lambda: charts.over_steps_chart(
        run.layers, "saturated_pct", f"{label} % over training", "%",
        steps=x_end(run)), template=template_key(run, "saturation"), data=lambda: run.layers)
    at_init, after, risen = activation.saturation_limits
    st.caption(f"The diagnosis speaks when a layer is over {at_init:g}% {label} at init or "
               f"{after:g}% after training, or has risen past {risen:g}% during training at "
               "a cost to the loss.")


def theory_view(run: Run) -> None:
    """What mean-field theory predicts at init, beside what this run measured at step 0 and
    what other seeds of the same net measure (a single seed scatters at finite width)."""
    prediction = prediction_of(run)
    if prediction is None:
        return
    def compute() -> tuple:
        spread = spread_of(run)["preact"] if prediction.applies else None
        frame = theory_frame(run, prediction, spread)
        return frame, theory_sentence(prediction) + (
            " The first layer's input variance is taken from the measurement (its "
            "pre-activation std at step 0); theory carries it through the layers above. "
            + spread_sentence(frame, prediction) if prediction.applies else "")

    # Of the Config and step 0 alone: computed once, not at every redraw of a live run.
    frame, caption = derived_at_init(run, "theory_view", compute)
    if prediction.applies and len(frame):
        render.chart(init_key(run, "theory"), lambda: theory_chart(frame))
    st.caption(caption)


def worst_layer(run: Run, step: int, layers: list[str]) -> str:
    """The layer the dead-unit map opens on: most dead units on the diagnostic batch at
    ``step``, then most saturated (or inactive) outputs."""
    at_step = run.layers[(run.layers["step"] == step) & run.layers["layer"].isin(layers)]
    if not len(at_step):
        return layers[0]
    ranked = at_step.sort_values(["dead_units", "saturated_pct"], ascending=False,
                                 kind="stable")
    return str(ranked["layer"].iloc[0])


def dead_at_step(run: Run, step: int) -> None:
    """The split-wide dead count at the selected snapshot, on request (the table above
    counts the diagnostic sample only)."""
    state = prepare.saturation_name(run.config.act)
    if run.status == "diverged" or ACTIVATIONS[run.config.act].saturated is None:
        return  # nothing to count: a function with no flat region has no dead units
    if run.status == "running":  # a live redraw every second would drop the click
        st.caption(f"Whether units {state} on the sample are dead on the whole training "
                   "split can be counted once training ends (or is stopped).")
        return
    offer_rebuild(run, step)
    if kept_step(run, step) is None and step != run.steps_done:
        st.caption(f"The table counts units {state} on all {run.sample_name}. Whether they "
                   "are dead on the whole training split can be counted at steps whose "
                   "weights were kept (every snapshot of smaller models) and at the end.")
        return
    kept = kept_step(run, step)
    name = f"dead_on_split@{kept}"
    if not derived_ready(run, name) and not st.button(
            f"Count dead units on the whole training split at step {step:,}",
            key="count_dead", help=f"The table counts units {state} on all "
                                   f"{run.sample_name}: a unit may still be active on "
                                   "other examples. This runs the model over every "
                                   "training example."):
        return
    counts = derived(run, name, lambda: queries.dead_on_split(
        model_of(run, step), dataset_of(run).x["train"]))
    st.info(f"At step {step:,}, {counted(sum(counts.values()), 'hidden unit')} {state} for "
            "every example of the training split (dead: no gradient passes): "
            + ", ".join(f"{layer}: {count}" for layer, count in counts.items()) + ".")

"""The Activations view: histograms, saturation, dead units."""

from __future__ import annotations

import streamlit as st

from ... import charts, theory
from ...charts import prepare
from ...charts.theory import theory_chart, theory_frame, theory_sentence
from ...engine import queries
from ...parts.activations import ACTIVATIONS
from ...run import Run
from .. import render
from ..cache import chart_key, dataset_of, derived, derived_ready, kept_step, model_of
from .common import histogram_view, over_training_view, table


def activations_tab(run: Run, step: int) -> None:
    if not len(run.layers):
        st.info("This model has no hidden layers.")
        return
    histogram_view(run, step, "activation", "activations at the selected step", "activation")
    activation = ACTIVATIONS[run.config.act]
    st.caption(f"Healthy {activation.name}: {activation.healthy}. Click the legend to isolate "
               "a layer.")
    table(prepare.layer_table(run, step), hide_index=True)
    theory_view(run)
    dead_at_step(run, step)
    layer = st.selectbox("layer for the dead-unit map", sorted(run.dead_maps[step]),
                         key="map_layer")
    mask = lambda: prepare.dead_map_frame(run.dead_map(step, layer))  # noqa: E731
    units = int(run.layers.loc[run.layers["layer"] == layer, "units"].iloc[0])
    render.chart(chart_key(run, "dead_map", step, layer),
                 lambda: charts.dead_map_chart(mask(), layer, units,
                                               activation.saturation_label),
                 template=chart_key(run, "dead_map", layer), data=mask)
    rows = (" Below the top of a fused model (`fuse`) each row is one group of an "
            "example's positions." if run.config.fuse_levels > 1 else "")
    st.caption(f"White cells: {activation.saturation_label} for that example. A fully white "
               "column is a dead unit that never learns." + rows)
    render.chart(chart_key(run, "saturation"), lambda: charts.over_steps_chart(
        run.layers, "saturated_pct", f"{activation.saturation_label} % over training", "%"))
    st.caption("Healthy: below ~5-10% and not rising.")
    over_training_view(run, "activation", "activations over training", "activation",
                       "Each layer's activation histogram at every snapshot, darkest where "
                       "most values fall. Saturation shows as dark bands at the activation's "
                       "limits growing over training, collapse as the band narrowing to 0.")


def theory_view(run: Run) -> None:
    """What mean-field theory predicts at init, beside what this run measured at step 0."""
    if 0 not in run.snapshot_steps:
        return
    q0 = theory.input_mean_square(run.config, first_layer_std(run))
    prediction = derived(run, "theory", lambda: theory.predict(run.config, q0))
    frame = theory_frame(run, prediction)
    if prediction.applies and len(frame):
        render.chart(chart_key(run, "theory"), lambda: theory_chart(frame))
    st.caption(theory_sentence(prediction) + (
        " The first layer's input variance is taken from the measurement (its pre-activation "
        "std at step 0); theory carries it through the layers above. Finite width scatters "
        "single layers by about √(5l/width) for ReLU-like activations; tanh follows within "
        "a few % at width 1024." if prediction.applies else ""))


def first_layer_std(run: Run) -> float | None:
    """The measured pre-activation std of the first hidden layer at step 0."""
    rows = run.layers[(run.layers["step"] == 0) & (run.layers["layer"] == "hidden 1")]
    return float(rows["preact_std"].iloc[0]) if len(rows) else None


def dead_at_step(run: Run, step: int) -> None:
    """The split-wide dead count at the selected snapshot, on request (the table above
    counts the diagnostic sample only)."""
    state = prepare.saturation_name(run.config.act)
    if run.status == "diverged":
        return
    if step not in run.model_states and step != run.steps_done:
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
    st.info(f"At step {step:,}, {sum(counts.values()):,} hidden units are {state} for every "
            "example of the training split (dead: they pass no gradient): "
            + ", ".join(f"{layer}: {count}" for layer, count in counts.items()) + ".")

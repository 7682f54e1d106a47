"""The Neuron view: one unit on one example, the network and unit maps, embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ... import charts
from ...charts import prepare
from ...engine import queries
from ...engine.diagnostics import PARAM_SNAPSHOT_BUDGET, histogram
from ...parts.activations import ACTIVATIONS
from ...parts.layers import Linear
from ...run import Run
from .. import render
from ..cache import chart_key, dataset_of, derived, kept_step, model_of, offer_rebuild
from .common import PLANE, UNIT_MAPS, diverged_past, watch


def neuron_tab(run: Run, step: int) -> None:
    offer_rebuild(run, step)
    if diverged_past(run, step, "trace a neuron"):
        return
    model = model_of(run, step)
    if not model.blocks:
        st.info("This model has no hidden units.")
        if run.vocab:
            embedding_view(run, model, step)
        return
    if kept_step(run, step) is not None and run.status != "diverged":  # said above
        st.caption(f"Weights as they were at step {step:,}, the snapshot every view draws.")
    elif step not in run.model_states:
        snapshots = run.config.snapshot_count()
        numbers = run.state["params"].size * snapshots
        st.caption(f"Weights after training, whatever the snapshot slider says: weights at "
                   f"each snapshot are kept only for models whose parameters x snapshots fit "
                   f"in {PARAM_SNAPSHOT_BUDGET / 1e6:g}M numbers, and this one has "
                   f"{run.state['params'].size:,} x {snapshots} = {numbers / 1e6:.1f}M.")
    cols = st.columns(3)
    block = cols[0].selectbox("layer", range(len(model.blocks)),
                              format_func=lambda i: f"hidden {i + 1}", key="neuron_layer")
    width = model.blocks[block].width
    unit = cols[1].number_input("unit", 0, width - 1, 0, key="neuron_unit")
    data = dataset_of(run)
    examples = data.x["val"][:64]
    example = cols[2].number_input("example (validation)", 0, len(examples) - 1, 0,
                                   key="neuron_example")
    trace = queries.trace_neuron(model, examples, int(block), int(unit), int(example))
    labels = prepare.neuron_inputs(
        int(block), len(trace.inputs), examples[int(example)] if data.is_chars else None,
        data.vocab, run.config.embed_dim, _feature_labels(model),
        model.blocks[block - 1].width if block > 0 else None)
    groups = trace.positions
    if groups > 1:
        st.caption(f"This layer sees each example as {groups} groups of neighbouring "
                   "positions (the hierarchy of `fuse`); the trace follows the last group, "
                   "next to the character being predicted.")
    table = pd.DataFrame({"input": labels, "input x": trace.inputs,
                          "weight w": trace.weights, "w*x": trace.products})
    st.dataframe(table, hide_index=True, height=min(212, 35 * (len(table) + 1) + 3))
    parts = [f"sum(w*x) = {trace.weighted_sum:.4f}"] + (
        [f"bias = {trace.bias:.4f}", f"w.x + b = {trace.linear:.4f}"] if trace.bias is not None
        else ["no bias (batch norm's shift β stands in for it)"])
    if trace.normalized is not None:
        parts.append(f"after {run.config.norm} norm = {trace.normalized:.4f}")
    parts.append(f"{trace.activation}(.) = {trace.output:.4f}")
    st.write(" → ".join(parts))
    pre = trace.normalized if trace.normalized is not None else trace.linear
    span = max(3.0, abs(pre) * 1.2)
    x = np.linspace(-span, span, 200)
    edges, density = histogram(trace.pre_activations, -span, span)
    neuron_frame = pd.concat([
        pd.DataFrame({"part": "hist", "x": edges[:-1], "bin_end": edges[1:],
                      "density": density}),
        pd.DataFrame({"part": "curve", "x": x, "y": ACTIVATIONS[trace.activation].forward(x)}),
        pd.DataFrame({"part": ["point"], "x": [pre], "y": [trace.output]}),
    ], ignore_index=True)
    kept = kept_step(run, step)
    render.chart(chart_key(run, "neuron", block, unit, example, kept),
                 lambda: charts.neuron_chart(neuron_frame), template=chart_key(run, "neuron"),
                 data=lambda: neuron_frame)
    over = f"{len(examples)} examples" + (f" at {groups} positions each" if groups > 1 else "")
    act = ACTIVATIONS[trace.activation]
    passes = "little or no gradient" if act.dead is not None else "only a small gradient"
    healthy = (f"Healthy: mostly where the curve has slope; a unit whose outputs are all "
               f"{act.flat_words} passes {passes}." if act.flat_words else
               f"{act.name} has no flat part: any spread passes the gradient on.")
    st.caption("Red dot: this example's pre-activation and output on the activation curve; "
               f"grey: where this unit's pre-activations fall over {over}. {healthy}")
    if data.is_chars:
        embedding_view(run, model, step)
    else:
        network_view(run, model, step)
        unit_maps(run, model, int(block), step)


def embedding_view(run: Run, model, step: int) -> None:
    """The embedding table with each character as a labelled point (makemore's picture of
    what the first layer learnt): similar characters end up close together."""
    kept = kept_step(run, step)
    points, shown = derived(run, ("embedding", kept), lambda: queries.embedding_points(model))
    dim = run.config.embed_dim

    def frame() -> pd.DataFrame:
        return pd.DataFrame({"char": list(run.vocab), "x": points[:, 0], "y": points[:, 1]})

    def build():
        titles = ("dim 0", "dim 1") if dim <= 2 else ("principal component 1",
                                                       "principal component 2")
        return charts.embedding_chart(frame(), *titles)

    st.markdown("**the character embeddings**")
    render.chart(chart_key(run, "embedding", kept), build, stretch=False,
                 template=chart_key(run, "embedding"), data=frame)
    how = "its two dimensions" if dim <= 2 else (
        f"the first two principal components of {dim} dimensions ({shown:.0%} of the variance)")
    st.caption(f"Each character at its learnt embedding, shown on {how}. At step 0 they are "
               "scattered at random; training tends to pull characters that play similar "
               "roles together (in makemore's long runs, the vowels form a group); "
               + (f"{watch(run, 'it happen')}." if kept is not None else
                  f"these are the weights after training until those at step {step:,} are "
                  "rebuilt (above)." if step in run.model_states else
                  "this run keeps its weights only at the end (above), so this is where "
                  "training left them."))


def network_view(run: Run, model, step: int) -> None:
    """The whole small network with its weights, as TensorFlow Playground draws it."""
    kept = kept_step(run, step)
    weights = [layer.params["weight"] for layer in model.layers if isinstance(layer, Linear)]

    def frame() -> pd.DataFrame:
        return prepare.network_frame(weights, UNIT_MAPS, _feature_labels(model))

    st.markdown("**the network: every weight as a line**")
    render.chart(chart_key(run, "network", kept), lambda: charts.network_chart(frame()),
                 stretch=False, template=chart_key(run, "network"), data=frame)
    wide = any(w.shape[1] > UNIT_MAPS for w in weights[:-1])
    st.caption("The input features on the left, the two class outputs on the right; blue lines "
               "are positive weights, red negative, thicker for larger ones"
               + (f" (the first {UNIT_MAPS} units of each layer)" if wide else "") + ". "
               "Healthy: a few strong paths, no layer whose lines all fade out.")


def _feature_labels(model) -> list[str] | None:
    return model.features.labels if model.features is not None else None


def unit_maps(run: Run, model, block: int, step: int) -> None:
    """What every unit of the selected layer computes over the input plane (2-D tasks):
    the view TensorFlow Playground draws inside each neuron."""
    kept = kept_step(run, step)
    width = model.blocks[block].width
    output_range = ACTIVATIONS[run.config.act].output_range

    def cells() -> pd.DataFrame:
        xs, ys, values = queries.grid_activations(model, block, PLANE, 16)
        return prepare.unit_maps_frame(xs, ys, values, UNIT_MAPS)

    def build():
        frame = cells()
        span = float(frame["value"].abs().max()) or 1.0
        return charts.unit_maps_chart(frame, output_range or (-span, span))

    # With a bounded activation the colour scale is fixed, so other snapshots only swap data.
    template = chart_key(run, "unit_maps", block) if output_range else None
    st.markdown(f"**hidden {block + 1}: each unit over the input plane**")
    render.chart(chart_key(run, "unit_maps", block, kept), build, stretch=False, template=template,
                 data=cells)
    shown = f"the first {UNIT_MAPS} of {width} units" if width > UNIT_MAPS else "every unit"
    st.caption(f"The activation of {shown} at every point of the plane (x1 across, x2 up), "
               "blue high, red low. On x1, x2 the first layer draws lines (on squared "
               "features, ellipses); deeper layers combine them into the curves the "
               "boundary needs. Healthy: varied maps; many "
               "all-one-colour maps mean saturated or dead units.")

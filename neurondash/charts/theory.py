"""Theory beside measurement: the mean-field prediction of each layer's pre-activation std
at init, drawn over what the run measured at step 0."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from ..run import Run
from ..theory import Prediction


def theory_frame(run: Run, prediction: Prediction) -> pd.DataFrame:
    """layer (1..depth), std, series: the measured pre-activation std of every hidden layer
    at step 0 and the predicted one, sqrt(q^l)."""
    at_init = run.layers[run.layers["step"] == 0]
    measured = [float(at_init.loc[at_init["layer"] == f"hidden {i}", "preact_std"].iloc[0])
                for i in range(1, len(prediction.q) + 1)
                if (at_init["layer"] == f"hidden {i}").any()]
    rows = [{"layer": i, "std": std, "series": "measured at step 0"}
            for i, std in enumerate(measured, start=1)]
    rows += [{"layer": i, "std": math.sqrt(q), "series": "mean-field theory"}
             for i, q in enumerate(prediction.q, start=1) if math.isfinite(q) and q > 0]
    return pd.DataFrame(rows, columns=["layer", "std", "series"])


def theory_chart(frame: pd.DataFrame) -> alt.Chart:
    """Per-layer std at init on a log axis (an ordered net shrinks geometrically), theory
    dashed, measurement solid with dots."""
    return alt.Chart(frame, title="pre-activation std per layer at init: measured vs "
                                  "mean-field theory").mark_line(point=True).encode(
        x=alt.X("layer:Q", title="hidden layer", axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("std:Q", title="pre-activation std", scale=alt.Scale(type="log"),
                axis=alt.Axis(format=".3~g")),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["measured at step 0", "mean-field theory"],
                                        range=["#1f77b4", "#d62728"])),
        strokeDash=alt.StrokeDash("series:N", title=None, legend=alt.Legend(orient="top"),
                                  scale=alt.Scale(domain=["measured at step 0",
                                                          "mean-field theory"],
                                                  range=[[1, 0], [6, 4]])),
        tooltip=["series:N", "layer:Q", alt.Tooltip("std:Q", format=".4g")],
    ).properties(height=240)


def theory_sentence(prediction: Prediction) -> str:
    """The prediction in one sentence a learner can act on."""
    if not prediction.applies:
        return f"Mean-field theory does not describe this net: {prediction.note}."
    depth = (f"signals stay distinct over about {prediction.xi_c:.3g} layers (ξ_c; nets "
             f"deeper than about {6 * prediction.xi_c:.3g} do not train)"
             if prediction.xi_c is not None else "no finite depth scale")
    turn = {"ordered": "activations and gradients shrink layer by layer",
            "critical": "signals neither shrink nor grow: the edge of chaos",
            "chaotic": "gradients grow toward the input and inputs decorrelate"}[
        prediction.phase]
    edge = (f"the edge of chaos for {prediction.act} is at init_scale "
            f"{prediction.critical_init_scale:.3g}" if prediction.critical_init_scale
            else f"{prediction.act} has no stable edge of chaos without bias (σ_b = 0)")
    return (f"Mean-field theory (wide-network limit): σ_w = {prediction.sigma_w:.3g}, "
            f"σ_b = {prediction.sigma_b:.3g} puts this {prediction.act} net in the "
            f"{prediction.phase} phase (χ₁ = {prediction.chi1:.3g}): {turn}; {depth}; "
            f"{edge}.")

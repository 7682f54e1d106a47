"""Theory beside measurement: the mean-field prediction of each layer's pre-activation std
(and gradient std) at init, drawn over what the run measured at step 0 with the scatter of
other seeds, and the prediction in the words a learner acts on."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from ..gradient_rate import far_from_fixed_point, gradient_rate
from ..run import Run
from ..theory import Prediction

MEASURED, THEORY = "measured at step 0", "mean-field theory"


def spread_label(seeds: int) -> str:
    return f"{seeds} other seeds (range)"


def layer_frame(measured: list[float], predicted: list[float],
                spread: np.ndarray | None = None) -> pd.DataFrame:
    """layer (1..depth), std, series, low, high: the measured std of every layer, the
    predicted one (non-finite or zero predictions left out: a log axis cannot draw them),
    and where given the range over other seeds (rows: seeds, columns: layers)."""
    rows = [{"layer": i, "std": std, "series": MEASURED}
            for i, std in enumerate(measured, start=1)]
    rows += [{"layer": i, "std": std, "series": THEORY}
             for i, std in enumerate(predicted, start=1) if math.isfinite(std) and std > 0]
    if spread is not None and spread.size:
        label = spread_label(len(spread))
        rows += [{"layer": i, "std": float(np.median(column)), "series": label,
                  "low": float(column.min()), "high": float(column.max())}
                 for i, column in enumerate(spread.T, start=1)]
    return pd.DataFrame(rows, columns=["layer", "std", "series", "low", "high"])


def at_init(run: Run, column: str, depth: int) -> list[float]:
    """``column`` of hidden layers 1..depth at step 0 (the layers the run has)."""
    first = run.layers[run.layers["step"] == 0]
    return [float(first.loc[first["layer"] == f"hidden {i}", column].iloc[0])
            for i in range(1, depth + 1) if (first["layer"] == f"hidden {i}").any()]


def theory_frame(run: Run, prediction: Prediction,
                 spread: np.ndarray | None = None) -> pd.DataFrame:
    """Pre-activation std per layer at step 0: measured, sqrt(q^l), other seeds."""
    return layer_frame(at_init(run, "preact_std", len(prediction.q)),
                       [math.sqrt(q) if q >= 0 else math.nan for q in prediction.q], spread)


def gradient_frame(run: Run, predicted_ms: list[float],
                   spread: np.ndarray | None = None) -> pd.DataFrame:
    """∂loss/∂h std per layer at step 0: measured, the backward map's prediction, other
    seeds."""
    return layer_frame(at_init(run, "grad_std", len(predicted_ms)),
                       [math.sqrt(m) if m >= 0 else math.nan for m in predicted_ms], spread)


def log_ticks(frame: pd.DataFrame, count: int = 5) -> tuple[list[float], int]:
    """``count`` values spread evenly (in log) over the drawn stds, with the fewest
    significant digits (2 or more) that keep them apart. Within one decade Vega labels only
    its own round steps: a gradient std from 5e-5 to 1.7e-4 had labels up to 9e-5 and none
    over the top half of the axis. Returns the values and their significant digits."""
    values = frame[["std", "low", "high"]].to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return [], 3
    low, high = float(values.min()), float(values.max())
    spread = np.geomspace(low, high, count) if high > low else np.array([low])
    for digits in range(2, 8):
        ticks = sorted({float(f"{value:.{digits}g}") for value in spread})
        if len(ticks) == len(spread):
            break
    return ticks, digits


def theory_chart(frame: pd.DataFrame, quantity: str = "pre-activation std") -> alt.LayerChart:
    """Per-layer std at init on a log axis (an ordered net shrinks geometrically): theory
    dashed, measurement solid with dots, other seeds' range shaded."""
    series = [MEASURED, THEORY, *sorted(set(frame["series"]) - {MEASURED, THEORY})]
    color = alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                      scale=alt.Scale(domain=series,
                                      range=["#1f77b4", "#d62728", "#9e9e9e"][:len(series)]))
    x = alt.X("layer:Q", title="hidden layer", axis=alt.Axis(format="d", tickMinStep=1))
    # Not "nice": a log axis rounds out to whole decades and flattens a 1.1-1.9 range.
    y_scale = alt.Scale(type="log", nice=False, padding=8)
    ticks, digits = log_ticks(frame)
    base = alt.Chart(frame)
    band = base.transform_filter(alt.FieldOneOfPredicate("series", series[2:] or ["-"])
                                 ).mark_area(opacity=0.25).encode(
        x=x, y=alt.Y("low:Q", scale=y_scale), y2="high:Q", color=color,
        tooltip=["series:N", "layer:Q", alt.Tooltip("low:Q", format=".4g"),
                 alt.Tooltip("high:Q", format=".4g")])
    lines = base.transform_filter(alt.FieldOneOfPredicate("series", [MEASURED, THEORY])
                                  ).mark_line(point=True).encode(
        x=x, y=alt.Y("std:Q", title=quantity, scale=y_scale,
                     axis=alt.Axis(format=f".{max(digits, 3)}~g", values=ticks)),
        color=color,
        strokeDash=alt.StrokeDash("series:N", legend=None, scale=alt.Scale(
            domain=[MEASURED, THEORY], range=[[1, 0], [6, 4]])),
        tooltip=["series:N", "layer:Q", alt.Tooltip("std:Q", format=".4g")])
    return alt.layer(band, lines, title=f"{quantity} per layer at init: measured vs "
                                        "mean-field theory").properties(height=300)


def spread_sentence(frame: pd.DataFrame, prediction: Prediction, first: bool = False) -> str:
    """How far single seeds stray from theory, from the drawn band, at the deepest layer
    (the scatter grows with depth; the first layer's is only the input's); ``first``: at
    layer 1 (gradients, whose line starts from the last layer and runs toward the input)."""
    band = frame.dropna(subset=["low", "high"])
    theory = frame[frame["series"] == THEORY].set_index("layer")["std"]
    band = band[band["layer"].isin(theory.index)]
    if band.empty:
        return ""
    low = (band["low"].to_numpy() / theory[band["layer"]].to_numpy() - 1) * 100
    high = (band["high"].to_numpy() / theory[band["layer"]].to_numpy() - 1) * 100
    pick = np.argmin if first else np.argmax
    deepest = int(pick(band["layer"].to_numpy()))
    return (f"The shaded band is the std that {band['series'].iloc[0].split(' (')[0]} of this "
            f"net measure at init: at layer {int(band['layer'].iloc[deepest])} they lie between "
            f"{off_theory(low[deepest])} and {off_theory(high[deepest])}, so one {prediction.act} "
            "seed off the line by that much is finite width, not a wrong prediction.")


def theory_sentence(prediction: Prediction) -> str:
    """The prediction in full, under the chart."""
    if not prediction.applies:
        return f"Mean-field theory does not describe this net: {prediction.note}."
    depth = (f"signals stay distinct over about {prediction.xi_c:.2g} layers (ξ_c), and "
             f"theory's trainable depth, 6 ξ_c, is {layers(6 * prediction.xi_c)}: deeper "
             "nets at this scale train slowly or not at all"
             if prediction.xi_c is not None else "no finite depth scale")
    return (f"Mean-field theory (wide-network limit): σ_w = {prediction.sigma_w:.3g}, "
            f"σ_b = {prediction.sigma_b:.3g} puts this {prediction.act} net in the "
            f"{prediction.phase} phase (χ₁ = {prediction.chi1:.3g}): {behaviour(prediction)}; "
            f"{depth}; {edge_clause(prediction)}.")


def layers(depth: float) -> str:
    """A depth in whole layers, as a learner counts them."""
    return "under one layer" if depth < 1 else f"about {depth:.0f} layer{'s' * (depth >= 1.5)}"


def off_theory(percent: float) -> str:
    """A seed's signed distance from theory in words ("25% below")."""
    shown = round(percent)
    return "on theory" if shown == 0 else (
        f"{abs(shown)}% {'below' if shown < 0 else 'above'} theory")


def edge_clause(prediction: Prediction) -> str:
    """Which init scale puts this activation at the edge of chaos, or why none does."""
    act = prediction.act
    if prediction.phase == "critical":
        return f"this init_scale already puts {act} at the edge of chaos"
    if prediction.critical_init_scale is not None:
        return (f"init_scale {prediction.critical_init_scale:.3g} puts {act} at the edge "
                "of chaos, where the depth a signal survives has no limit")
    if prediction.sigma_b == 0:
        return (f"no init_scale puts {act} without bias at a stable edge of chaos: its "
                "χ₁ = 1 point is unstable (a large enough bias_init makes one)")
    return (f"no init_scale puts {act} with bias_init {prediction.sigma_b:.3g} at a stable "
            "edge of chaos" + (" (for ReLU only bias_init 0 does)" if act == "relu" else ""))


def behaviour(prediction: Prediction) -> str:
    """What the phase does to signals and gradients, saying only what holds for every
    activation in it: ordered, inputs become alike and gradients shrink (activations too
    only when q* = 0); chaotic, gradients grow, activations too only when q* is infinite (an
    unbounded side, as ReLU's), and inputs decorrelate only when c* < 1; critical at q* = 0
    (tanh without bias), activations still shrink, but as a power of depth."""
    grads = f"the gradient's mean square {gradient_rate(prediction)}"
    if prediction.phase == "critical":
        if prediction.q_star == 0:
            return ("activations shrink toward 0, but only slowly (as a power of depth, not "
                    f"exponentially), and {grads}")
        return "signals and gradients keep their size layer after layer"
    if prediction.phase == "ordered":
        return (f"activations shrink toward 0 and {grads}" if prediction.q_star == 0
                else f"inputs become alike layer by layer and {grads}")
    said = []
    if math.isinf(prediction.q_star):
        said.append(f"activations grow without bound ({prediction.act}'s positive side is "
                    "unbounded)")
    if prediction.c_star < 1.0 - 1e-6:
        said.append("nearby inputs decorrelate layer by layer")
    return " and ".join([*said, grads])


NEAR_EDGE = 1.25
"""χ₁ within this factor of 1 is said to be near the edge of chaos: the lectures' tanh
default (χ₁ = 1.21) is chaotic by the letter and trains well, and the header's bare
'Chaotic phase' beside a green 'Healthy' read as an alarm."""


def headline(prediction: Prediction) -> str:
    """One sentence for the header: the phase, χ₁, what it does, and the knob to turn."""
    if not prediction.applies:
        return f"Mean-field theory does not apply here ({prediction.note.split(';')[0]})."
    # ξ_c, like χ₁, is the fixed point's: no verdict on depth for a net still far from it.
    depth = "" if far_from_fixed_point(prediction) else depth_clause(prediction)
    near = (", near the edge of chaos" if prediction.phase != "critical"
            and 1 / NEAR_EDGE <= prediction.chi1 <= NEAR_EDGE else "")
    return (f"{prediction.phase.capitalize()} phase{near} (χ₁ = {prediction.chi1:.3g}): "
            f"{behaviour(prediction)}; {depth}{edge_clause(prediction)}.")


def depth_clause(prediction: Prediction) -> str:
    """Whether this net's depth is within 6 ξ_c, theory's bound on the depth that trains:
    a bound, not a promise (lesson 12's measured map stops training short of it), so
    being within it is not said to train readily."""
    if prediction.xi_c is None:
        return ""
    depth, limit = len(prediction.q), 6 * prediction.xi_c
    verdict = ("within" if depth <= limit else "beyond")
    after = "" if depth <= limit else ", so expect it to train slowly or not at all"
    return (f"{depth} hidden layer{'s' * (depth != 1)} {'is' if depth == 1 else 'are'} "
            f"{verdict} 6 ξ_c ({layers(limit)}), the depth beyond which theory says a net "
            f"stops training (lesson 12's map measures where it really does){after}; ")

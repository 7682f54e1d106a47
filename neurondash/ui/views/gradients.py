"""The Gradients view: gradient histograms, update:data and the backprop check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ... import charts
from ...charts import prepare
from ...charts.labels import parameter_labeller
from ...charts.theory import gradient_frame, spread_sentence, theory_chart
from ...diagnosis import UPDATE_BANDS
from ...engine import diagnostics
from ...engine.gradcheck import NOISE_FLOOR, TOLERANCE, check_gradients
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
    model_at,
)
from .common import diverged_past, histogram_view, over_training_view, table, x_end
from .mean_field import grad_prediction_of, prediction_of, spread_of


def gradients_tab(run: Run, step: int) -> None:
    if len(run.layers):
        histogram_view(run, step, "gradient", "activation gradients", "dloss/dh")
        st.caption("Healthy: every layer's gradient distribution has a similar width; "
                   "shrinking toward the input means vanishing gradients, growing toward it "
                   "exploding ones.")
        gradient_theory(run)
        over_training_view(run, "gradient", "activation gradients over training", "dloss/dh",
                           "Each layer's gradient histogram at every snapshot (each step "
                           "scaled to its own peak). Compare the ranges on the axes: a layer "
                           "whose band is far narrower than the others learns far more "
                           "slowly.")
    histogram_view(run, step, "weight_grad", "weight gradients", "dloss/dW")
    table(prepare.weight_table(run, step), hide_index=True)
    st.caption("grad:data = std(dW)/std(W). Healthy: similar across layers; an outlier "
               "layer trains faster or slower than the rest.")
    values = run.history[run.matrix_names].to_numpy(float)
    measured = np.isfinite(values).any(axis=1) if values.size else np.zeros(0, bool)
    if not measured.any():
        st.info("No update:data to draw: it compares each update with the weights it "
                "changed, and at no step is that ratio a finite number"
                + (f" (it diverged at step {run.diverged_step:,})."
                   if run.diverged_step is not None else "."))
    else:
        render.chart(chart_key(run, "update_data"), lambda: charts.over_steps_chart(
            prepare.update_data_frame(run), "update_data",
            "update:data (log10 std(ΔW)/std(W))", "log10", color="param", guide=-3.0,
            steps=x_end(run)))
    note = zero_update_note(run)
    if note:
        st.caption(note)
    strides = np.diff(np.flatnonzero(measured))
    if strides.size and strides.max() > 1:
        st.caption(f"Measured every {int(strides.max())} steps: {_why_strided(run, strides)} "
                   "(see the README)." + _drawn_as_means(run, int(measured.sum())))
    low, high = UPDATE_BANDS[run.config.opt]
    st.caption(f"Healthy: around -3 (each step changes weights by ~1/1000) in early and mid "
               f"training; the diagnosis judges {run.config.opt} between {low:g} and {high:g}. "
               "Far below then: lr too low; far above: lr too high. Later it may fall as the "
               "loss converges or the schedule cuts lr: that is no sign of a low rate.")
    backprop_check(run, step)


def _why_strided(run: Run, strides: np.ndarray) -> str:
    """Why update:data skips steps here: a long run's count (``UPDATE_DATA_POINTS``), or
    the cost of measuring for this model and batch size (``update_data_stride``)."""
    steps = run.config.steps
    if steps > diagnostics.LONG_RUN_STEPS and int(strides.max()) == -(
            -steps // diagnostics.UPDATE_DATA_POINTS):
        return (f"a run of more than {diagnostics.LONG_RUN_STEPS:,} steps measures it at "
                f"about {diagnostics.UPDATE_DATA_POINTS:,} steps over its whole length, which "
                "keeps its stored file small")
    return (f"for this model and batch size, measuring every matrix at every step would "
            f"cost more than {diagnostics.UPDATE_DATA_SHARE:.0%} of a step's own work")


def _drawn_as_means(run: Run, measured: int) -> str:
    """What the chart's points are when it has fewer than the measured steps (the hover
    gives steps further apart than the measurements)."""
    points = prepare.update_data_points(len(run.matrix_names))
    if measured <= points:
        return ""
    return (f" Each line draws the mean of about {measured / points:.0f} consecutive "
            f"measurements per point ({points:,} points a line).")


def gradient_theory(run: Run) -> None:
    """Backward mean-field theory (Schoenholz et al. 2017) over the gradients measured at
    step 0: each layer toward the input multiplies ∂loss/∂h by χ₁ of the layer above."""
    prediction = prediction_of(run)
    if prediction is None:
        return
    if not prediction.applies:
        st.caption(f"Mean-field theory does not describe these gradients: {prediction.note}.")
        return
    # Of the Config and step 0 alone: computed once, not at every redraw of a live run.
    frame = derived_at_init(run, "theory_grad_frame", lambda: gradient_frame(
        run, grad_prediction_of(run, prediction), spread_of(run)["grad"]))
    if len(frame):
        render.chart(init_key(run, "theory_grad"),
                     lambda: theory_chart(frame, "gradient std (dloss/dh)"))
    st.caption("Theory: going back one layer multiplies the gradient's mean square by σ_w² "
               "times the mean square of the activation's slope over that layer's "
               "pre-activations (σ_w² E[φ′(u)²]); once the layers reach their fixed "
               f"variance that factor is χ₁ = {prediction.chi1:.3g} "
               f"({prediction.phase} phase), before that each layer has its own. The line "
               "starts from the last hidden layer's measured gradient, which the output "
               "layer and the loss set. " + spread_sentence(frame, prediction, first=True))


CHECK_AUTO_PARAMS = 300_000
"""Models up to this size are checked as soon as the tab opens (well under a second);
larger ones wait for a click (a few seconds at the 5M-parameter cap)."""


CHECK_EXAMPLES = 32


def _agreement(checked: pd.DataFrame) -> str:
    """How every parameter agreed, by which test: a largest relative error of 1e-5 beside
    'agreement means below 1e-6' read as a contradiction where that parameter agreed by
    its differences, all below the finite-difference noise floor."""
    relative = checked[checked["relative_error"] < TOLERANCE]
    floor = checked[checked["relative_error"] >= TOLERANCE]
    zero = int((checked["relative_error"] == 0).sum())
    said = (f"Every one of the {len(checked)} parameters agrees with finite differences: "
            + (f"{len(relative)} within a relative error of {TOLERANCE:g} (largest "
               f"{relative['relative_error'].max():.1e})" if len(relative) else ""))
    if len(floor):
        said += (f"{'; ' if len(relative) else ''}{', '.join(floor['name'])} by differences "
                 f"of at most {floor['max_abs_diff'].max():.1e}, within what finite "
                 f"differences of this loss can resolve ({NOISE_FLOOR:g} per unit of loss: "
                 "the loss's own rounding, not the backward, makes up such a difference)")
    if zero:
        said += (f". A relative error of 0 marks a gradient that is zero both ways (within "
                 f"{NOISE_FLOOR:g})")
    return said + "."


def backprop_check(run: Run, step: int) -> None:
    """makemore part 4's comparison of hand-derived gradients, on the user's own model."""
    st.markdown("**Backprop check**")
    if run.status == "running":
        st.caption("Checked once training ends.")
        return
    st.caption("makemore part 4 derives every gradient by hand and compares it with "
               "PyTorch's. This engine's backward is hand-written too: here each parameter's "
               "gradient is compared with central finite differences of the loss, in float64, "
               f"on {CHECK_EXAMPLES} validation examples (a few entries per parameter).")
    if diverged_past(run, step, "check the gradients"):
        return
    kept = kept_step(run, step)
    name = f"backprop_check@{kept}"
    waits = not derived_ready(run, name) and run.config.n_params() > CHECK_AUTO_PARAMS
    if waits and not st.button(
            f"Check the gradients ({run.config.n_params():,} parameters: a few seconds)"):
        return
    data = dataset_of(run)
    checked = derived(run, name, lambda: check_gradients(
        model_at(run, kept, np.float64), data.x["val"][:CHECK_EXAMPLES],
        data.y["val"][:CHECK_EXAMPLES])).assign(
        name=lambda t: t["parameter"].map(parameter_labeller(run)))
    wrong = checked.loc[~checked["agrees"], "name"].tolist()
    worst = checked["relative_error"].max()
    if wrong:
        kink = (" A pre-activation at exactly 0 sits on ReLU's kink, where the derivative is "
                "undefined and finite differences straddling it disagree with either side."
                if run.config.act in ("relu", "leaky_relu") else "")
        st.error(f"Backward disagrees with finite differences for {', '.join(wrong)} "
                 f"(relative error up to {worst:.1e}).{kink}")
    else:
        st.success(_agreement(checked))
    scientific = dict.fromkeys(("max_abs_diff", "relative_error"), "%.1e")
    # The engine's name ("parameter") stays in the frame, out of sight.
    shown = ["name", *(c for c in checked.columns if c not in ("name", "parameter"))]
    table(checked, hide_index=True, formats=scientific, column_order=shown,
          column_config={"name": "parameter", "step": st.column_config.NumberColumn(
              "finite-difference step", format="%.1e")})


def zero_update_note(run: Run) -> str | None:
    """Which matrices had an update of exactly 0, whose log10 (-inf) the chart cannot draw,
    and which never had a ratio (all-equal weights, update 0: 0/0): without the note their
    line just stops or is absent, which reads like a drawing fault."""
    single = run.single_weights  # its std, and so its ratio, is 0 or 0/0 by definition
    values = run.history[run.matrix_names].to_numpy(float, copy=True)  # written below
    values[:, [run.matrix_names.index(n) for n in single]] = np.nan
    measured = ~np.isnan(values).all(axis=1)  # steps with a ratio of any matrix
    zero, label = np.isneginf(values), parameter_labeller(run)
    said = [f"{', '.join(label(n) for n in single)}: a single weight each, whose spread "
            "(std) is 0 by definition, so update:data says nothing about them."] \
        if single else []
    if zero.any():
        names = [label(n) for n, hit in zip(run.matrix_names, zero.any(axis=0), strict=True)
                 if hit]
        first = int(run.history["step"].to_numpy()[np.flatnonzero(zero.any(axis=1))[0]])
        counts = zero.sum(axis=0)[zero.any(axis=0)]
        times = (f"{int(counts[0]):,}" if counts.min() == counts.max()
                 else f"{int(counts.min()):,} to {int(counts.max()):,}")
        said.append(f"{', '.join(names)}: an update of exactly 0 at {times} measured "
                    f"step(s){' each' if len(names) > 1 else ''}, the first at step "
                    f"{first:,}. The log of 0 has no value, so those points are missing. A "
                    "matrix whose update stays 0 does not learn: its gradient is 0, as when "
                    "every unit it feeds or is fed by passes no gradient (inactive ReLU "
                    "units, fully saturated tanh units, or all-zero weights around it).")
    never = np.isnan(values[measured]).all(axis=0) if measured.any() else []
    if any(never[k] for k, n in enumerate(run.matrix_names) if n not in single):
        names = [label(n) for n, hit in zip(run.matrix_names, never, strict=True)
                 if hit and n not in single]
        said.append(f"{', '.join(names)}: no line: the weights stayed all equal (std 0, as "
                    "a zero init leaves them: equal weights get equal gradients), so the "
                    "update's std is 0 too and the ratio 0/0 at every step.")
    return " ".join(said) or None

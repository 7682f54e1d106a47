"""The header row above every view: losses, the most saturated layer, dead units, and the
phase mean-field theory puts the net in at init (what to turn if it is the wrong one)."""

from __future__ import annotations

import streamlit as st

from ...charts import prepare
from ...charts.theory import headline
from ...parts.activations import get_activation
from ...run import Run
from .mean_field import prediction_of


def _loss(value: float, decimals: int) -> str:
    """A loss in a header cell: fixed decimals, or 3 significant digits once it is too
    large for the cell (a diverging run's 23499427020800.000 was cut off)."""
    return f"{value:.{decimals}f}" if abs(value) < 1e4 else f"{value:.3g}"


def metrics(run: Run, step: int | None) -> None:
    """The header row: losses, the most saturated layer at the selected snapshot and the
    units dead on the whole training split."""
    cols = st.columns(5)
    cols[0].metric("initial loss", _loss(run.initial_loss, 3),
                   f"expected {run.expected_initial_loss:.3f}", delta_color="off",
                   delta_arrow="off",
                   help="Loss at step 0 vs -ln(1/V), the loss of a uniform guess")
    if run.final:
        # A walker read these as the slider's step, beside a saturation cell that is.
        after = (f"after training (step {run.steps_done:,}), whatever the snapshot slider "
                 "says: the loss at each step is the Loss tab's")
        # Said in the cell too: a walker read them beside the slider's step-0 saturation.
        end = f"end, step {run.steps_done:,}"
        cols[1].metric("train loss", _loss(run.final["train_loss"], 4), end,
                       delta_color="off", delta_arrow="off",
                       help=f"On the whole training split, {after}.")
        cols[2].metric("val loss", _loss(run.final["val_loss"], 4),
                       f"acc {run.final['val_acc']:.1%}, {end}" if not run.config.is_char_task
                       else end, delta_color="off", delta_arrow="off",
                       help=f"On the whole validation split, {after}.")
    else:
        running = run.status == "running"
        cols[1].metric("train loss", "—", help="The loss on the whole training split is "
                       "measured when training ends; the loss chart draws each batch's "
                       "loss meanwhile." if running else None)
        latest = run.evals.iloc[-1] if len(run.evals) and running else None
        cols[2].metric("val loss", "—" if latest is None else _loss(latest["val_loss"], 4),
                       None if latest is None else f"checkpoint, step {int(latest['step']):,}",
                       delta_color="off", delta_arrow="off",
                       help="The latest validation checkpoint while the run trains; the "
                            "final losses come when it ends." if running else None)
    name = prepare.saturation_name(run.config.act)
    if not run.config.depth:  # a blank cell and a count of 0 read as measured
        for col, label in ((cols[3], f"most {name} layer"), (cols[4], "dead units (train split)")):
            col.metric(label, "—", help="This model has no hidden layers: no activation to "
                                        "saturate, no unit to die.")
    else:
        _unit_cells(run, step, cols, name)
    prediction = prediction_of(run)
    if prediction is not None:
        drawn = (" (Activations and Gradients tabs draw it over the measurement.)"
                 if prediction.applies else "")
        st.caption(f"**At init, by mean-field theory:** {headline(prediction)}{drawn}")


def _unit_cells(run: Run, step: int | None, cols: list, name: str) -> None:
    """The most saturated (or inactive) layer at the snapshot and the dead-unit count."""
    if get_activation(run.config.act).saturated is None:
        cols[3].metric(f"most {name} layer", "—",
                       help=f"{run.config.act} has no flat region: no output is ever {name}.")
    elif len(run.layers) and step is not None:
        at_step = run.layers[run.layers["step"] == step]
        worst = at_step.loc[at_step["saturated_pct"].idxmax()]
        short = get_activation(run.config.act).short_label or name
        cols[3].metric(f"most {short} layer", f"{worst['saturated_pct']:.1f}%",
                       f"{worst['layer']}, step {step:,}", delta_color="off",
                       delta_arrow="off",
                       help=f"The largest share of {name} activations in one hidden layer "
                            f"at the selected snapshot, measured on the "
                            f"{run.sample_name} of the diagnostic batch.")
    if get_activation(run.config.act).saturated is None:
        cols[4].metric("dead units (train split)", "—",
                       help=f"{run.config.act} has no flat region: no unit ever stops "
                            "passing the gradient.")
    elif run.dead_units is not None:
        cols[4].metric("dead units (train split)", f"{sum(run.dead_units.values()):,}",
                       help=f"Hidden units {name} for every example of the whole training "
                            "split after training: they pass no gradient, so they no longer "
                            "learn. The Activations tab also counts units "
                            f"{name} on all {run.sample_name} at each snapshot, "
                            "which only bounds this count from above.")
    elif len(run.layers):
        cols[4].metric("dead units (train split)", "—",
                       help="Not counted: the run diverged, or its file predates the count.")

"""The Weights view: weight and pre-activation distributions over training, and each
matrix's spread beside the one its init prescribed."""

from __future__ import annotations

import functools

import streamlit as st

from ... import charts
from ...charts.weights import init_table, prescription_sentence, weight_std_frame
from ...run import Run
from .. import render
from ..cache import chart_key, template_key
from .common import histogram_view, over_training_view, table, x_end


def weights_tab(run: Run, step: int) -> None:
    histogram_view(run, step, "weight", "weights", "weight")
    table(init_table(run, step), hide_index=True, column_config={
        "prescribed_std": "std the init prescribes", "init_std": "std at init",
        "weight_std": f"std at step {step:,}", "vs_prescribed": "÷ prescribed"})
    small_output = (f" The output layer starts {1 / run.config.out_scale:g} times smaller "
                    "on purpose (out scale: logits near 0 at init), so its ratio growing far "
                    "past 1 as it learns is expected." if run.config.out_scale < 1
                    and run.config.init != "zero" else "")
    single = (" A 1x1 matrix holds one weight, whose std is 0 by definition: its ratio is "
              "left blank." if run.single_weights else "")
    st.caption(prescription_sentence(run) + " At init the measured std is the prescribed "
               "one up to sampling noise; training moves it (a ratio far from 1 means the "
               "weights left the scale the init chose for them)." + small_output + single)
    if len(run.weights):
        frame = functools.cache(lambda: weight_std_frame(run))
        render.chart(chart_key(run, "weight_std"), lambda: charts.over_steps_chart(
            frame(), "weight_std", "weight std over training", "std", color="param",
            steps=x_end(run)), template=template_key(run, "weight_std"), data=frame)
    over_training_view(run, "weight", "weights over training", "weight",
                       "Each matrix's weight histogram at every snapshot (each step scaled to "
                       "its own peak): a band that widens is a matrix whose weights grow.")
    if not len(run.layers):
        return
    histogram_view(run, step, "preactivation", "pre-activations",
                   "x·W + b")
    over_training_view(run, "preactivation", "pre-activations over training", "x·W + b",
                       "Each layer's pre-activation histogram (before the activation, after "
                       "normalisation when there is one) at every snapshot: a band drifting "
                       "far past the activation's bend is where units saturate or go "
                       "inactive.")

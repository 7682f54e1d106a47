"""The Logits view: logits and p(correct) at a snapshot, the next-character query, the
bigram tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ... import charts
from ...charts import prepare
from ...data.names import closest_smoothing, smoothed_bigram
from ...engine import queries
from ...run import Run
from .. import render
from ..cache import chart_key, dataset_of, derived, kept_step, model_of, template_key
from ..text import escape, notice
from .common import diverged_past


def logits_tab(run: Run, step: int) -> None:
    logits = lambda: prepare.compare_snapshots(run, step, "logits", "logits")  # noqa: E731
    render.chart(chart_key(run, "logits", step), lambda: charts.compare_histograms_chart(
        logits(), "logits: step 0 vs the selected step", "logit value"),
        template=template_key(run, "logits"), data=logits)
    st.caption("Each step's histogram is scaled to its own peak, so a narrow spike at step 0 "
               "does not flatten the later, wider one (hover a bar for its density). Healthy "
               "at init: logits near 0 (unconfident). Wide logits at step 0 mean "
               "confidently wrong predictions and a hockey-stick loss.")
    p_correct = lambda: prepare.compare_snapshots(run, step, "logits", "p_correct")  # noqa: E731
    render.chart(chart_key(run, "p_correct", step), lambda: charts.compare_histograms_chart(
        p_correct(), "p(correct class)", "probability"),
        template=template_key(run, "p_correct"), data=p_correct)
    st.caption("Healthy: mass moves right over training; at init it sits near 1/V.")
    if diverged_past(run, step, "sample words and query the model"):
        return
    # The weights at the slider's step where the run has them (or a replay within the
    # unasked limit rebuilds them), else after training: said beside the words, so a
    # step-0 slider over trained samples is not taken for the untrained model's.
    at = step if run.status == "diverged" else kept_step(run, step)
    model = model_of(run, at)
    weights = (f"the weights at step {at:,}" if at is not None else
               "the weights after training (this run keeps no others; the Neuron tab says "
               "why)" if step != run.snapshot_steps[-1] else "the weights after training")
    if run.config.is_char_task:
        text = st.text_input("context: type the start of a word", value="", key="ctx_text",
                             max_chars=40)
        try:
            probs = queries.next_char_probs(model, run.vocab, run.config.context, text)
            frame = pd.DataFrame({"char": list(run.vocab), "p": probs})
            render.chart(chart_key(run, "next", text, at), lambda: charts.bars_chart(
                frame, "char", "p", f"P(next character | '{text}'), "
                + (f"step {at:,}" if at is not None else "after training")))
            st.caption("Healthy: a few plausible characters take most of the probability; "
                       "a flat profile means the model has not learned this context.")
        except ValueError as err:
            notice("warning", err)
        if run.config.context == 1 and run.config.depth == 0:
            _bigram_tables(run, model)
        words = derived(run, f"samples@{at}", lambda: queries.sample_words(
            model, run.vocab, run.config.context, 20, seed=run.config.seed))
        st.write(f"**20 sampled words** from {weights}: " + escape(", ".join(words)))
        st.caption("Healthy: name-like words; random strings mean the model is near uniform.")
    else:
        st.caption("The decision boundary of this 2-D model is on the Overview.")


def _bigram_tables(run: Run, model) -> None:
    """The learned table beside the count model's at the add-k smoothing nearest to it:
    weight decay shows up as a larger k (makemore part 1's regularisation = smoothing)."""
    learned = queries.bigram_table(model, len(run.vocab))
    counts = dataset_of(run).bigram_counts
    smoothing, distance = derived(run, "smoothing", lambda: closest_smoothing(learned, counts))
    counted = smoothed_bigram(counts, smoothing)
    left, right = st.columns(2)
    render.chart(chart_key(run, "learned"), lambda: charts.heatmap_chart(
        _table(learned, run.vocab), "learned P(next | previous)"), left, False)
    render.chart(chart_key(run, "counted", smoothing), lambda: charts.heatmap_chart(
        _table(counted, run.vocab), f"counted P(next | previous), add-{smoothing:.2g}"),
        right, False)
    st.caption(f"The count model nearest to the learned table adds k = {smoothing:.2g} to "
               f"every count (KL {distance:.4f} nats, averaged over rows by their share of "
               "the training bigrams; k near 0 is the raw counts, 1 is add-one smoothing). "
               f"Weight decay (wd, here {run.config.wd:g}) pulls the learned logits toward "
               "0, that is the table toward uniform, as a larger k does: raise wd and k "
               "grows.")


def _table(probs: np.ndarray, vocab: str) -> pd.DataFrame:
    prev, nxt = np.meshgrid(np.arange(len(vocab)), np.arange(len(vocab)), indexing="ij")
    return pd.DataFrame({"previous": [vocab[i] for i in prev.ravel()],
                         "next": [vocab[i] for i in nxt.ravel()], "p": probs.ravel()})

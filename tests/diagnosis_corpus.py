"""Labelled configs for the diagnosis: each link with the warnings and errors it must get.

The label is what the config was built to show (its planted condition, at a mild and a
severe strength), or nothing for a healthy run. Info-level notes (a bigram net, no
nonlinearity, a hierarchy) are not labels: they describe, they do not warn. Used by
tests/test_diagnosis_corpus.py and printed as tables by benchmarks/diagnosis_table.py, both
through ``evaluate``, which also applies every finding's advice and measures the number the
finding is about before and after.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neurondash import Config, Run, train
from neurondash.data.names import load_names
from neurondash.diagnosis import Finding, diagnose
from neurondash.diagnosis.numbers import METRICS, improved, measure

WARNING_LEVELS = ("warning", "error")

HEALTHY: frozenset[str] = frozenset()

CORPUS: dict[str, frozenset[str]] = {
    # Healthy runs: every activation, norm and optimizer, both task families.
    "": HEALTHY,
    "depth=1&width=200&steps=3000": HEALTHY,  # makemore's one-layer MLP (first layer ~26%)
    "act=sigmoid&depth=1&lr=0.5&steps=3000": HEALTHY,
    "act=relu&lr=0.05&steps=3000": HEALTHY,
    "act=leaky_relu&lr=0.05&steps=3000": HEALTHY,
    "act=elu&lr=0.05&steps=3000": HEALTHY,
    "act=gelu&lr=0.05&steps=3000": HEALTHY,
    "act=silu&lr=0.1&steps=3000": HEALTHY,
    "norm=batch&depth=5&steps=3000": HEALTHY,
    "norm=layer&depth=5&steps=3000": HEALTHY,
    "opt=momentum&lr=0.01&steps=3000": HEALTHY,
    # Batch noise alone: its loss leaps up to 1.96 nats early on, 3.2x its late step-to-step
    # noise, short of a spike.
    "batch=4&steps=3000": HEALTHY,
    "opt=adam&lr=0.001&steps=3000": HEALTHY,
    "opt=adamw&lr=0.001&wd=0.01&steps=3000": HEALTHY,
    "task=moons&depth=2&width=16&steps=3000": HEALTHY,
    "task=spiral&depth=3&width=32&points=2000&steps=4000": HEALTHY,
    "task=circles&depth=2&width=8&act=relu&lr=0.1&steps=3000": HEALTHY,
    # A search's best moons run: 57% of a layer saturated at init, validation loss 0.0016;
    # init_scale 1, which the warning used to advise, ends at 0.0033.
    "task=moons&depth=2&width=16&init_scale=2.131&lr=1&steps=300": HEALTHY,
    # makemore's bigram net with Adam: large updates (about -1.5) and a steadily falling
    # loss to the counting model's: no warning.
    "context=1&depth=0&embed_dim=27&opt=adam&lr=0.1&batch=2048&steps=600&out_scale=0": HEALTHY,
    # Confidently wrong logits at init.
    "out_scale=3&steps=3000": frozenset({"Confidently wrong logits at init"}),
    "depth=1&width=200&out_scale=10&steps=3000": frozenset(
        {"Confidently wrong logits at init"}),
    # Saturated tanh from too large an init.
    "depth=5&init_scale=2&steps=2000": frozenset({"Saturated activations"}),
    "depth=5&init_scale=5&steps=2000": frozenset(
        {"Saturated activations", "Exploding gradients"}),
    # Vanishing gradients: sigmoid's derivative is at most 1/4 per layer.
    "act=sigmoid&lr=0.5&steps=3000": frozenset({"Vanishing gradients"}),
    # Collapsing activations from too small an init.
    "depth=5&init_scale=0.3&steps=2000": frozenset(
        {"Collapsing activations", "Vanishing gradients"}),
    "depth=8&init_scale=0.1&steps=2000": frozenset(
        {"Collapsing activations", "Vanishing gradients", "Stuck at the unigram baseline"}),
    # All-zero init.
    # Only the output bias learns: the model ends at the unigram baseline.
    "init=zero&steps=2000": frozenset(
        {"All-zero init: symmetry", "Stuck at the unigram baseline"}),
    "init=zero&act=relu&steps=2000": frozenset(
        {"All-zero init: symmetry", "Stuck at the unigram baseline"}),
    # Learning rate too low / too high (only lr differs from the defaults).
    "lr=0.001&sched=constant&steps=2000": frozenset(
        {"Learning rate too low", "Stuck at the unigram baseline"}),
    "lr=0.0001&sched=constant&steps=2000": frozenset(
        {"Learning rate too low", "Stuck at the uniform guess"}),
    "lr=1&sched=constant&steps=2000": frozenset(
        {"Learning rate too high", "Saturated activations", "Worse than a uniform guess"}),
    # Thrown off again after the first tenth: 38 nats above its lowest median at step 390.
    "lr=10&steps=2000": frozenset({"Learning rate too high", "Worse than a uniform guess",
                                   "Saturated activations", "Dead units", "Early loss spike",
                                   "Loss spike in training"}),
    # The first steps overshoot: the loss jumps from 3.28 to 4.94 at step 133 (5.60 at step
    # 46 with seed 1) and ends 0.13 above lr 0.3's.
    "lr=1&steps=3000": frozenset({"Early loss spike"}),
    # Dead ReLUs.
    # The large steps that kill units first throw the loss up (3.29 to 5.37 at step 3; 0.70
    # to 1.75 on the moons).
    "depth=2&act=relu&opt=momentum&lr=0.3&steps=2000": frozenset(
        {"Dead ReLUs", "Early loss spike"}),
    "task=moons&depth=2&width=16&act=relu&bias_init=3&steps=1000": frozenset(
        {"Dead ReLUs", "Early loss spike"}),
    # Overfitting.
    "task=spiral&points=100&noise=0.5&depth=3&width=64&steps=3000": frozenset(
        {"Overfitting"}),
    # Near zero training loss a step throws it from 0.02 to 0.57 at step 3,945 (46x its
    # late noise); back within ten steps.
    "task=spiral&points=100&noise=1&depth=4&width=128&steps=6000": frozenset(
        {"Overfitting", "Loss spike in training"}),
    # Divergence.
    # A unit-normal init on ReLU: huge logits and gradients at step 0, then divergence.
    "act=relu&init=normal&lr=10&steps=2000": frozenset(
        {"Divergence", "Confidently wrong logits at init", "Exploding gradients"}),
    # Added after a check on configs the rules had not seen, labelled by a neighbouring
    # rate (3x or 1/3, seeds 42 and 7): momentum on ELU at lr 0.003 (val 2.389/2.382
    # against 2.312/2.317 at 0.009), AdamW at 0.0003 (2.465/2.452 against 2.339/2.348 at
    # 0.0009), Adam on leaky ReLU at 0.03 (2.448/2.494 against 2.321/2.326 at 0.01, its
    # last two layers 98% on the leaky side), sigmoid at its edge of chaos at lr 0.1
    # (2.543/2.539 against 2.436/2.436 at 0.3).
    "act=elu&opt=momentum&lr=0.003&steps=1500": frozenset({"Learning rate too low"}),
    "opt=adamw&lr=0.0003&steps=1500": frozenset({"Learning rate too low"}),
    "act=leaky_relu&opt=adam&lr=0.03&steps=1500": frozenset(
        {"Learning rate too high", "Units on the leaky side rising in training"}),
    "act=sigmoid&init_scale=10&steps=1500": frozenset({"Learning rate too low"}),
    # From a second such check (three of four were right): Adam on ReLU at lr 0.02 ends
    # 0.12 nats above lr 0.0067 at both seeds, with 109 dead units.
    "act=relu&opt=adam&lr=0.02&steps=1500": frozenset({"Dead ReLUs", "Learning rate too high"}),
}

WORD_LIST_SIZE = 150
"""Configs with task=words train on the first 150 names of the bundled list."""

HELD_OUT: dict[str, frozenset[str]] = {
    # Labelled from the lectures' numbers before any of these was run; first result: 6 of
    # 15 exact. Three labels were wrong, not the findings (marked "relabelled", each a
    # fact on the run's own numbers); one config was invalid (a negative bias_init, which
    # links refuse) and is replaced. The rules were then changed for what the rest showed
    # (saturation after training with a loss that fell to the end; a converged run told to
    # raise lr).
    "depth=4&width=64&opt=adam&lr=0.003&steps=3000": HEALTHY,
    "act=gelu&norm=batch&depth=4&opt=momentum&lr=0.05&steps=2000": HEALTHY,
    "task=xor&depth=2&width=16&steps=2000": HEALTHY,
    "context=5&embed_dim=16&depth=2&width=128&steps=4000": HEALTHY,
    # Relabelled: a neighbouring rate reaches lower (lr 0.3: val 2.309/2.306 against
    # 2.389/2.375 at seeds 42/7); the large init shrinks LayerNorm's effective rate.
    "norm=layer&init_scale=3&depth=5&steps=2000": frozenset({"Learning rate too low"}),
    "opt=adamw&lr=0.01&wd=0.1&steps=3000": HEALTHY,
    "task=gauss&depth=1&width=8&act=relu&steps=1000": HEALTHY,
    # Relabelled: 0.55 nats above the uniform guess at init is below the 1-nat warning
    # line; it gets the "Somewhat confident logits" note (see tests/test_diagnosis.py).
    "out_scale=2&depth=2&steps=3000": HEALTHY,
    "task=words&depth=2&width=256&opt=adam&lr=0.01&steps=4000": frozenset({"Overfitting"}),
    "task=spiral&points=200&noise=0.8&depth=3&width=128&steps=6000": frozenset(
        {"Overfitting"}),
    "depth=3&init_scale=3&steps=2000": frozenset({"Saturated activations"}),
    # Relabelled: it also ends at the unigram baseline (val 2.825).
    "act=sigmoid&depth=4&init_scale=0.5&steps=2000": frozenset(
        {"Vanishing gradients", "Collapsing activations", "Stuck at the unigram baseline"}),
    # Relabelled: val 3.055 is past the midpoint between the uniform guess (3.30) and the
    # unigram baseline, so "unigram" is the nearer of the two stuck findings.
    "opt=adam&lr=0.00001&sched=constant&steps=2000": frozenset(
        {"Learning rate too low", "Stuck at the unigram baseline"}),
    # Relabelled: units saturated on every training example are dead by definition.
    "lr=3&sched=constant&steps=2000": frozenset(
        {"Learning rate too high", "Worse than a uniform guess", "Saturated activations",
         "Dead units", "Early loss spike"}),
    "act=relu&depth=3&bias_init=2&steps=2000": frozenset({"Dead ReLUs", "Early loss spike"}),
}


HELD_OUT |= {
    # Every activation pushed both ways from its edge of chaos (mean-field theory), and the
    # learning rate judged by what a neighbouring rate reaches (lr/3 or 3x gained >= 0.05
    # nats at seeds 42 and 7). Labelled with the planted condition and what the run's own
    # numbers show past the documented limits (a loss above a baseline, a gradient ratio
    # past 10x, units dead on the whole split, logits far above the uniform guess at init).
    "depth=5&init_scale=0.25&steps=1500": frozenset(
        {"Collapsing activations", "Vanishing gradients"}),
    "depth=4&init_scale=4&steps=1500": frozenset({"Saturated activations"}),
    "act=relu&init_scale=0.1&steps=1500": frozenset(
        {"Collapsing activations", "Vanishing gradients", "Stuck at the unigram baseline",
         "Dead ReLUs"}),
    # Its loss jumps again 23 nats at step 239, after the early tenth.
    "act=relu&init_scale=10&lr=0.001&steps=1500": frozenset(
        {"Worse than a uniform guess", "Confidently wrong logits at init", "Inactive units",
         "Exploding gradients", "Dead ReLUs", "Early loss spike", "Loss spike in training"}),
    "act=leaky_relu&init_scale=0.1&steps=1500": frozenset(
        {"Collapsing activations", "Vanishing gradients", "Stuck at the unigram baseline"}),
    "act=leaky_relu&init_scale=5&steps=1500": frozenset(
        {"Divergence", "Confidently wrong logits at init", "Exploding gradients"}),
    "act=gelu&init_scale=0.2&width=64&steps=1000": frozenset(
        {"Collapsing activations", "Vanishing gradients", "Stuck at the unigram baseline"}),
    "act=gelu&init_scale=3&width=64&steps=1000": frozenset(
        {"Confidently wrong logits at init", "Inactive units", "Dead units",
         "Early loss spike"}),
    "act=gelu&width=64&steps=1000": HEALTHY,
    "act=silu&init_scale=0.2&steps=1500": frozenset(
        {"Collapsing activations", "Vanishing gradients", "Stuck at the unigram baseline"}),
    "act=silu&init_scale=4&steps=1500": frozenset(
        {"Divergence", "Confidently wrong logits at init", "Inactive units",
         "Exploding gradients"}),
    # Kaiming's gain for sigmoid is 1, deep in the ordered phase (edge at init_scale 10).
    "act=sigmoid&steps=1500": frozenset(
        {"Vanishing gradients", "Stuck at the unigram baseline"}),
    "act=sigmoid&init_scale=40&steps=1500": frozenset(
        {"Confidently wrong logits at init", "Saturated activations"}),
    "act=elu&init_scale=0.2&steps=1500": frozenset(
        {"Collapsing activations", "Vanishing gradients"}),
    "act=elu&init_scale=3&steps=1500": frozenset(
        {"Divergence", "Confidently wrong logits at init", "Saturated activations",
         "Exploding gradients"}),
    "act=elu&steps=1500": HEALTHY,
    # Adam at lr 0.01: val 2.300/2.314 against 2.237/2.246 at lr 0.0033; the last layers
    # saturate to ~89% as training goes on.
    "opt=adam&lr=0.01&steps=3000": frozenset(
        {"Learning rate too high", "Saturated activations rising in training"}),
    # SGD at lr 0.01 levels off: val 2.542/2.513 against 2.415/2.401 at lr 0.03.
    "lr=0.01&sched=constant&steps=2000": frozenset({"Learning rate too low"}),
}

LABELLED = CORPUS | HELD_OUT


def labelled_run(query: str, change: Mapping[str, Any] | None = None) -> Run:
    """The run of one labelled config, with ``change`` applied (a finding's advice); a
    words config trains on the first names."""
    config, warnings = Config.from_query(query)
    if warnings:
        raise ValueError(f"{query}: {warnings}")
    config = config.replace(**(change or {}))
    words = list(load_names()[:WORD_LIST_SIZE]) if config.task == "words" else None
    return train(config, words=words)


@dataclass(frozen=True)
class Tried:
    """One finding's advice applied: the number the finding is about, before and after."""

    query: str
    finding: Finding
    before: float
    after: float

    @property
    def improved(self) -> bool:
        return improved(self.finding.metric, self.before, self.after)


def _diagnosed(query: str) -> tuple[str, list[Finding], list[float]]:
    run = labelled_run(query)
    findings = diagnose(run)
    return query, findings, [measure(run, f.metric, f.layers) if f.metric else math.nan
                             for f in findings]


Job = tuple[str, tuple[tuple[str, Any], ...], str, tuple[str, ...]]
"""A config, a change (as items), a number and its layers: one advised run to measure."""


def _after(job: Job) -> float:
    """The number on the advised run; one read at init needs only the run's first step."""
    query, change, metric, layers = job
    cut = {"until": 1} if METRICS[metric].at_init else {}
    return measure(labelled_run(query, dict(change) | cut), metric, layers)


def _job(query: str, finding: Finding) -> Job:
    return query, tuple(sorted(finding.change.items())), finding.metric, finding.layers


def evaluate(queries: list[str], processes: int = 2
             ) -> tuple[dict[str, list[Finding]], list[Tried]]:
    """Every config's findings, and every warning's or error's advice tried: the config
    with the finding's change trained and its number measured (``processes`` at a time)."""
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        done = pool.map(_diagnosed, queries, chunksize=1)
        jobs = [(query, f, before) for query, findings, befores in done
                for f, before in zip(findings, befores, strict=True)
                if f.change and f.metric and f.level in WARNING_LEVELS]
        # Findings of one config with the same advice and number are one training.
        keys = list(dict.fromkeys(_job(query, f) for query, f, _ in jobs))
        afters = dict(zip(keys, pool.map(_after, keys, chunksize=1), strict=True))
    tried = [Tried(query, f, before, afters[_job(query, f)]) for query, f, before in jobs]
    return {query: findings for query, findings, _ in done}, tried

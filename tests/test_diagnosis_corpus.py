"""The diagnosis on its labelled corpus (tests/diagnosis_corpus.py, the configs the rules
were built on and the held-out ones, which cover every activation pushed both ways from its
edge of chaos): healthy runs get no warning or error, every planted condition is named, at
least 90% of each set's configs get exactly their label, and applying a finding's advice
improves the number it was about in at least 90% of the cases.
`python benchmarks/diagnosis_table.py` prints the tables."""

from __future__ import annotations

import pytest

from neurondash.config import Config
from neurondash.diagnosis import Finding
from neurondash.parts.activations import ACTIVATIONS

from .diagnosis_corpus import CORPUS, HELD_OUT, LABELLED, WARNING_LEVELS, Tried, evaluate

ADVICE_HELPS = 0.9

pytestmark = [pytest.mark.xdist_group("diagnosis_corpus"), pytest.mark.slow]
"""One worker runs these tests: the corpus fixture trains about 70 s on both cores, and
each worker that ran one of them trained it again."""


UNIT_METRICS = ("saturated_init", "saturated_end", "dead_units", "std_ratio", "grad_ratio")
"""Numbers read per hidden layer: a finding about one of them names its layer(s)."""


@pytest.fixture(scope="module")
def evaluated() -> tuple[dict[str, frozenset[str]], list[Tried], dict[str, list[Finding]]]:
    findings, tried = evaluate(list(LABELLED))
    return {query: frozenset(f.lesson for f in found if f.level in WARNING_LEVELS)
            for query, found in findings.items()}, tried, findings


def test_the_corpus_covers_every_family():
    queries = " ".join(LABELLED)
    assert len(CORPUS) >= 30 and len(HELD_OUT) >= 30 and not set(CORPUS) & set(HELD_OUT)
    for part in ("act=sigmoid", "act=relu", "act=gelu", "norm=batch", "norm=layer",
                 "opt=momentum", "opt=adam", "opt=adamw", "task=moons", "task=spiral",
                 "task=words"):
        assert part in queries, part
    assert sum(1 for label in LABELLED.values() if not label) >= 20


def test_held_out_configs_push_every_activation_both_ways():
    """Each activation with a saturation rule has held-out configs below and above Kaiming's
    init scale (or, for sigmoid, whose Kaiming gain is already ordered, above it)."""
    scales: dict[str, set[str]] = {}
    for query in HELD_OUT:
        config = Config.from_query(query)[0]
        way = "low" if config.init_scale < 1 else "high" if config.init_scale > 1 else "one"
        scales.setdefault(config.act, set()).add(way)
    for name, activation in ACTIVATIONS.items():
        if activation.saturated is not None:
            assert "high" in scales.get(name, set()) and scales[name] & {"low", "one"}, name


def test_healthy_runs_get_no_warning_or_error(evaluated):
    named, _, _ = evaluated
    alarms = {q: named[q] for q, label in LABELLED.items() if not label and named[q]}
    assert not alarms


def test_every_planted_condition_is_named(evaluated):
    named, _, _ = evaluated
    missed = {q: label - named[q] for q, label in LABELLED.items() if label - named[q]}
    assert not missed


def test_nine_in_ten_configs_get_exactly_their_label(evaluated):
    named, _, _ = evaluated
    for corpus in (CORPUS, HELD_OUT):
        exact = sum(named[q] == label for q, label in corpus.items())
        assert exact >= 0.9 * len(corpus), {q: named[q] for q in corpus
                                            if named[q] != corpus[q]}


def test_applying_the_advice_improves_the_number_it_was_about(evaluated):
    _, tried, _ = evaluated
    assert len(tried) >= 40
    helped = sum(t.improved for t in tried)
    assert helped >= ADVICE_HELPS * len(tried), [
        (t.query, t.finding.lesson, t.finding.change, t.before, t.after)
        for t in tried if not t.improved]


def test_every_finding_about_units_names_its_layers(evaluated):
    _, _, findings = evaluated
    about_units = [f for found in findings.values() for f in found
                   if f.metric in UNIT_METRICS and f.level in WARNING_LEVELS]
    assert len(about_units) >= 30
    unnamed = [f for f in about_units if not f.layers or f.layers[0] not in f.text]
    assert not unnamed


def test_a_fix_several_findings_share_is_said_and_offered_once(evaluated):
    """One cause seen several ways (a chaotic init saturates, kills units and explodes the
    gradients) gets its paragraph and its Try it once; the other findings point to it."""
    _, _, findings = evaluated
    shared = 0
    for query, found in findings.items():
        offered = [(f.advice, tuple(sorted(f.change.items()))) for f in found if f.advice]
        assert len(offered) == len(set(offered)), query
        for finding in found:
            if "The fix is the one under" in finding.text:
                shared += 1
                assert not finding.change and not finding.advice, query
                named = finding.text.rsplit("\u201c", 1)[1].rstrip("\u201d.")
                assert any(f.lesson == named and f.change for f in found), query
    assert shared, "the corpus has a case where findings share one fix"

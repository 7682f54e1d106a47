"""The diagnosis on its labelled corpus (tests/diagnosis_corpus.py, the configs the rules
were built on and the held-out ones): healthy runs get no warning or error, every planted
condition is named, and at least 90% of the configs get exactly their label.
`python benchmarks/diagnosis_table.py` prints the confusion table."""

from __future__ import annotations

import pytest

from neurondash.diagnosis import diagnose

from .diagnosis_corpus import CORPUS, HELD_OUT, LABELLED, labelled_run

WARNING_LEVELS = ("warning", "error")


@pytest.fixture(scope="module")
def named() -> dict[str, frozenset[str]]:
    return {query: frozenset(f.lesson for f in diagnose(labelled_run(query))
                             if f.level in WARNING_LEVELS) for query in LABELLED}


def test_the_corpus_covers_every_family():
    queries = " ".join(LABELLED)
    assert len(CORPUS) >= 30 and len(HELD_OUT) >= 15 and not set(CORPUS) & set(HELD_OUT)
    for part in ("act=sigmoid", "act=relu", "act=gelu", "norm=batch", "norm=layer",
                 "opt=momentum", "opt=adam", "opt=adamw", "task=moons", "task=spiral",
                 "task=words"):
        assert part in queries, part
    assert sum(1 for label in LABELLED.values() if not label) >= 20


def test_healthy_runs_get_no_warning_or_error(named):
    alarms = {q: named[q] for q, label in LABELLED.items() if not label and named[q]}
    assert not alarms


def test_every_planted_condition_is_named(named):
    missed = {q: label - named[q] for q, label in LABELLED.items() if label - named[q]}
    assert not missed


def test_nine_in_ten_configs_get_exactly_their_label(named):
    for corpus in (CORPUS, HELD_OUT):
        exact = sum(named[q] == label for q, label in corpus.items())
        assert exact >= 0.9 * len(corpus), {q: named[q] for q in corpus
                                            if named[q] != corpus[q]}

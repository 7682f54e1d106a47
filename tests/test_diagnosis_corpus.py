"""The diagnosis on its labelled corpus (tests/diagnosis_corpus.py): healthy runs get no
warning or error, every planted condition is named, and at least 90% of the configs get
exactly their label. `python benchmarks/diagnosis_table.py` prints the confusion table."""

from __future__ import annotations

import pytest

from neurondash import Config, train
from neurondash.diagnosis import diagnose

from .diagnosis_corpus import CORPUS

WARNING_LEVELS = ("warning", "error")


@pytest.fixture(scope="module")
def named() -> dict[str, frozenset[str]]:
    results = {}
    for query in CORPUS:
        config, warnings = Config.from_query(query)
        assert not warnings, (query, warnings)
        run = train(config)
        results[query] = frozenset(f.lesson for f in diagnose(run)
                                   if f.level in WARNING_LEVELS)
    return results


def test_the_corpus_covers_every_family():
    queries = " ".join(CORPUS)
    assert len(CORPUS) >= 30
    for part in ("act=sigmoid", "act=relu", "act=gelu", "norm=batch", "norm=layer",
                 "opt=momentum", "opt=adam", "opt=adamw", "task=moons", "task=spiral"):
        assert part in queries, part
    assert sum(1 for label in CORPUS.values() if not label) >= 12


def test_healthy_runs_get_no_warning_or_error(named):
    alarms = {q: named[q] for q, label in CORPUS.items() if not label and named[q]}
    assert not alarms


def test_every_planted_condition_is_named(named):
    missed = {q: label - named[q] for q, label in CORPUS.items() if label - named[q]}
    assert not missed


def test_nine_in_ten_configs_get_exactly_their_label(named):
    exact = sum(named[q] == label for q, label in CORPUS.items())
    assert exact >= 0.9 * len(CORPUS), {q: named[q] for q in CORPUS if named[q] != CORPUS[q]}

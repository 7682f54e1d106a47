"""The diagnosis against its labelled corpus (tests/diagnosis_corpus.py): the configs the
rules were built on (fitted) and the held-out ones, each scored separately and per
activation (configs whose warnings and errors are exactly their label), a table of each
finding's hits, false alarms and misses, and the share of findings whose advice, applied
and trained, improved the number the finding was about (per finding and overall).

    python benchmarks/diagnosis_table.py [--limit N] [--processes 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict

ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from diagnosis_corpus import CORPUS, HELD_OUT, WARNING_LEVELS, Tried, evaluate  # noqa: E402

from neurondash.config import Config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N of each set")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    sets = {"fitted": dict(list(CORPUS.items())[:args.limit]),
            "held-out": dict(list(HELD_OUT.items())[:args.limit])}
    findings, tried = evaluate([q for corpus in sets.values() for q in corpus], args.processes)
    named = {q: frozenset(f.lesson for f in found if f.level in WARNING_LEVELS)
             for q, found in findings.items()}
    per_activation(sets, named)
    for title, corpus in sets.items():
        print(f"\n== {title} configs ==")
        table(corpus, named)
    advice(tried)


def per_activation(sets: dict[str, dict[str, frozenset[str]]],
                   named: dict[str, frozenset[str]]) -> None:
    """Exact configs per activation, fitted and held-out side by side."""
    scores: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for title, corpus in sets.items():
        for query, label in corpus.items():
            act = Config.from_query(query)[0].act
            scores[act][title]["configs"] += 1
            scores[act][title]["exact"] += named[query] == label
    print(f"{'activation':<12}" + "".join(f"{title:>14}" for title in sets))
    for act in sorted(scores):
        cells = [f"{scores[act][t]['exact']}/{scores[act][t]['configs']}" for t in sets]
        print(f"{act:<12}" + "".join(f"{cell:>14}" for cell in cells))
    totals = [f"{sum(scores[a][t]['exact'] for a in scores)}/"
              f"{sum(scores[a][t]['configs'] for a in scores)}" for t in sets]
    print(f"{'all':<12}" + "".join(f"{cell:>14}" for cell in totals))


def table(corpus: dict[str, frozenset[str]], named: dict[str, frozenset[str]]) -> None:
    counts: dict[str, Counter] = {}
    for query, label in corpus.items():
        got = named[query]
        for lesson in label | got:
            kind = ("named where planted" if lesson in label and lesson in got else
                    "missed" if lesson in label else "named, not planted")
            counts.setdefault(lesson, Counter())[kind] += 1
    columns = ("named where planted", "named, not planted", "missed")
    print(f"{'finding':<44}" + "".join(f"{c:>21}" for c in columns))
    for lesson in sorted(counts):
        print(f"{lesson:<44}" + "".join(f"{counts[lesson][c]:>21}" for c in columns))
    healthy = [q for q in corpus if not corpus[q]]
    alarms = [q for q in healthy if named[q]]
    print(f"healthy configs with a warning or error: {len(alarms)} of {len(healthy)}")
    wrong = [q for q in corpus if named[q] != corpus[q]]
    for query in wrong:
        print(f"  not exact: {query or '(defaults)'}: label {sorted(corpus[query])}, "
              f"named {sorted(named[query])}")
    print(f"exactly right: {len(corpus) - len(wrong)} of {len(corpus)} configs "
          f"({(len(corpus) - len(wrong)) / len(corpus):.0%})")


def advice(tried: list[Tried]) -> None:
    """Per finding: how often its advice improved its number; then every miss."""
    print("\n== advice applied and trained: did the finding's number improve? ==")
    by_lesson: dict[str, Counter] = defaultdict(Counter)
    for t in tried:
        by_lesson[t.finding.lesson]["tried"] += 1
        by_lesson[t.finding.lesson]["improved"] += t.improved
    for lesson in sorted(by_lesson):
        print(f"{lesson:<44}{by_lesson[lesson]['improved']:>4} of {by_lesson[lesson]['tried']}")
    for t in tried:
        if not t.improved:
            print(f"  not improved: {t.query}: {t.finding.lesson} {t.finding.change} "
                  f"{t.finding.metric} {t.before:.4g} -> {t.after:.4g}")
    helped = sum(t.improved for t in tried)
    print(f"advice improved its number in {helped} of {len(tried)} findings "
          f"({helped / max(1, len(tried)):.0%})")


if __name__ == "__main__":
    main()

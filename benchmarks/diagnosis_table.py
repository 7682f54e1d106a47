"""The diagnosis against its labelled corpus (tests/diagnosis_corpus.py), the configs the
rules were built on and the held-out ones, each as its own table: one row per finding with
how often it was named where planted (true positives), named where not (false positives)
and missed; then every config whose warnings and errors are not exactly its label, and the
share that are.

    python benchmarks/diagnosis_table.py [--limit N]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from diagnosis_corpus import CORPUS, HELD_OUT, labelled_run  # noqa: E402

from neurondash.diagnosis import diagnose  # noqa: E402

WARNING_LEVELS = ("warning", "error")


def named(query: str) -> frozenset[str]:
    """The warnings and errors the diagnosis gives the config's run."""
    run = labelled_run(query)
    return frozenset(f.lesson for f in diagnose(run) if f.level in WARNING_LEVELS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N configs")
    args = parser.parse_args()
    for title, labelled in (("configs the rules were built on", CORPUS),
                            ("held-out configs", HELD_OUT)):
        print(f"== {title} ==")
        table(dict(list(labelled.items())[:args.limit]))


def table(corpus: dict[str, frozenset[str]]) -> None:
    results = {query: named(query) for query in corpus}
    counts: dict[str, Counter] = {}
    for query, got in results.items():
        label = corpus[query]
        for lesson in label | got:
            kind = ("named where planted" if lesson in label and lesson in got else
                    "missed" if lesson in label else "named, not planted")
            counts.setdefault(lesson, Counter())[kind] += 1
    columns = ("named where planted", "named, not planted", "missed")
    print(f"{'finding':<36}" + "".join(f"{c:>22}" for c in columns))
    for lesson in sorted(counts):
        print(f"{lesson:<36}" + "".join(f"{counts[lesson][c]:>22}" for c in columns))
    healthy = [q for q in corpus if not corpus[q]]
    alarms = [q for q in healthy if results[q]]
    print(f"healthy configs with a warning or error: {len(alarms)} of {len(healthy)}")
    wrong = [q for q in corpus if results[q] != corpus[q]]
    for query in wrong:
        print(f"  not exact: {query or '(defaults)'}: label {sorted(corpus[query])}, "
              f"named {sorted(results[query])}")
    print(f"exactly right: {len(corpus) - len(wrong)} of {len(corpus)} configs "
          f"({(len(corpus) - len(wrong)) / len(corpus):.0%})")


if __name__ == "__main__":
    main()

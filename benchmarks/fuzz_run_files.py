"""A long fuzz run of run-file imports: structural mutations generated from the schema
(``tests/runfile_mutations.py``) of valid exports of several architectures, each read by
``runchecks.read_run_file`` (the reader behind the dashboard's upload and ``runs import``).
Every mutation must end in RunFormatError or a run whose views' data and Continue work.

Prints the count of mutations, refused, accepted and exceptions; exits 1 on any exception.

    python benchmarks/fuzz_run_files.py [--mutations 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from neurondash import Config, RunFormatError, train  # noqa: E402
from neurondash.runchecks import read_run_file  # noqa: E402
from tests.runfile_mutations import structural_mutations  # noqa: E402
from tests.test_runfile_fuzz import exercise  # noqa: E402

CONFIGS = {
    "names-bn-adam": Config(depth=2, width="8", norm="batch", opt="adam", lr=0.01, steps=12),
    "moons": Config(task="moons", depth=1, width="4", points=200, steps=12),
    "flat": Config(task="moons", depth=0, points=200, steps=6),
    "diverged": Config(act="relu", init_scale=10, depth=2, width="8", steps=20),
    "wavenet": Config(context=4, fuse=2, depth=2, width="6", steps=8),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    exports = {name: train(config).to_json(compact=False) for name, config in CONFIGS.items()}
    counts = {"refused": 0, "accepted": 0, "exceptions": 0}
    crashes: list[str] = []
    start = time.perf_counter()

    @seed(args.seed)
    @settings(max_examples=args.mutations, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(structural_mutations(exports))
    def check(mutation: tuple[str, str]) -> None:
        text, what = mutation
        try:
            run = read_run_file(text)
            exercise(run)
        except RunFormatError:
            counts["refused"] += 1
            return
        except Exception:  # noqa: BLE001 - counted and printed: that is the finding
            counts["exceptions"] += 1
            crashes.append(f"{what}\n{traceback.format_exc(limit=3)}")
            return
        counts["accepted"] += 1

    check()
    total = sum(counts.values())
    print(f"{total:,} structural mutations of {len(exports)} architectures in "
          f"{time.perf_counter() - start:.0f} s: {counts['refused']:,} refused with a "
          f"message, {counts['accepted']:,} accepted and usable, {counts['exceptions']} "
          "exceptions")
    for crash in crashes[:10]:
        print(crash)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())

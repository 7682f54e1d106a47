"""Memory a session's runs take: the session's shelf (only the shown run in memory, the rest
read back from the store) against holding every run, as the session did before.

Trains ``--runs`` default runs (seeds 0..N-1) into a temporary store, then, in this process,
measures with tracemalloc the memory that stays allocated once a session has opened them
all, both ways; then the time to read an older run back (what switching to it costs).

    python benchmarks/bench_shelf.py [--runs 12] [--steps 3000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurondash import Config, train  # noqa: E402
from neurondash.identity import run_key  # noqa: E402
from neurondash.store import LOADED_RUNS, RunStore  # noqa: E402
from neurondash.ui.shelf import RunShelf  # noqa: E402


def held_mb(open_all) -> float:
    """Megabytes still allocated after ``open_all()`` (its result kept alive)."""
    gc.collect()
    tracemalloc.start()
    kept = open_all()
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return current / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    configs = [Config(steps=args.steps, seed=seed) for seed in range(args.runs)]
    with tempfile.TemporaryDirectory() as root:
        writer = RunStore(root)
        for config in configs:
            writer.put(train(config))

        def every_run_held() -> dict:
            store = RunStore(root)
            return {run_key(c, None): store.get(run_key(c)) for c in configs}

        def shelf() -> tuple:
            store = RunStore(root)
            shelf = RunShelf(lambda: store)
            for config in configs:
                shelf[run_key(config, None)] = store.get(run_key(config))
            return shelf, store

        held = held_mb(every_run_held)
        shelved = held_mb(shelf)
        shelf_now, _ = shelf()
        start = time.perf_counter()
        oldest = shelf_now[run_key(configs[0], None)]
        read_back = time.perf_counter() - start
    print(f"{args.runs} runs of the default Config ({args.steps:,} steps) opened by one "
          f"session:")
    print(f"  every run held (before):        {held:7.1f} MB")
    print(f"  shelf (1 held + store LRU of {LOADED_RUNS}): {shelved:7.1f} MB "
          f"({held / shelved:.1f}x less)")
    print(f"  each further session: one run, {held / args.runs:.1f} MB, instead of "
          f"{held:.1f} MB (the store's LRU is the process's, shared)")
    print(f"  reading the oldest back from disk: {read_back * 1000:.0f} ms "
          f"({oldest.steps_done:,} steps)")


if __name__ == "__main__":
    main()

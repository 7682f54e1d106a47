"""Sweep throughput: runs per second serially and with the local process pool, and the
executor's overhead per run.

    python benchmarks/bench_sweep.py [--runs 8] [--steps 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from neurondash import Config  # noqa: E402
from neurondash.search import SearchSpec, choice_range, run_search  # noqa: E402
from neurondash.sweep import make_executor, run_one  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    spec = SearchSpec(Config(depth=2, width="64", steps=args.steps),
                      (choice_range("seed", tuple(range(args.runs))),), method="grid")
    run_one(spec.trial(0, spec.grid_values()[0]).config.to_dict())  # warm the data cache
    timings = {}
    for kind, workers in (("serial", None), ("process", 1), ("process", 2)):
        start = time.perf_counter()
        with make_executor(kind, workers) as executor:
            run_search(spec, executor)
        timings[(kind, workers)] = time.perf_counter() - start
    serial = timings[("serial", None)]
    print(f"{args.runs} runs of {args.steps} steps (names, 2 x 64 tanh), {os.cpu_count()} cores")
    for (kind, workers), seconds in timings.items():
        label = kind if workers is None else f"{kind} pool, {workers} worker(s)"
        print(f"  {label:26s}: {seconds:6.2f} s  {args.runs / seconds:5.2f} runs/s  "
              f"speed-up {serial / seconds:4.2f}x")
    overhead = (timings[("process", 1)] - serial) / args.runs
    print(f"  pool overhead per run (1 worker vs serial, incl. worker start-up): "
          f"{1000 * overhead:.0f} ms")


if __name__ == "__main__":
    main()

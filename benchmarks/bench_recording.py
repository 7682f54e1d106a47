"""What recording costs over not recording, for the whole default run, measured side by side.

Issue 27's target: ``train(Config())`` with the recorder on takes at most 10% longer than
with it off. Each round trains the default run once with ``record=False`` and once with
``record=True`` (same process, same dataset, interleaved, in alternating order), and the
ratio of the two is printed per round and as the median. Then where the difference goes:
the diagnostics snapshots (each a forward and backward pass over the 512-example
diagnostic batch, statistics and histograms of every layer and matrix), the per-step
update:data measurements, and turning the records into a Run.

Run it without the kernel overrides some shells set, so that OpenBLAS picks its own:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_recording.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from neurondash import Config  # noqa: E402
from neurondash.data import load_dataset  # noqa: E402
from neurondash.engine.train import Trainer, blas_description, deterministic_blas  # noqa: E402
from neurondash.parts.losses import cross_entropy  # noqa: E402
from neurondash.training import train  # noqa: E402

TARGET = 1.10


def whole_runs(config: Config, rounds: int) -> list[tuple[float, float]]:
    """(seconds off, seconds on) of ``train(config)`` per round, interleaved."""
    dataset = load_dataset(config)
    train(config, record=True, dataset=dataset)  # warm caches and imports
    found = []
    for index in range(rounds):
        seconds = {}
        for record in ((False, True) if index % 2 == 0 else (True, False)):
            start = time.perf_counter()
            train(config, record=record, dataset=dataset)
            seconds[record] = time.perf_counter() - start
        found.append((seconds[False], seconds[True]))
    return found


def parts(config: Config, repeats: int) -> dict[str, float]:
    """Milliseconds: one snapshot, its forward and backward pass alone, and the steps of
    the whole run with the per-step series on but no snapshot, against recording off."""
    dataset = load_dataset(config)
    trainer = Trainer(config, dataset, record=True)
    trainer.run(config.steps // 2)
    recorder, model = trainer.recorder, trainer.model

    def timed(work) -> float:
        return 1000 * min(timeit.repeat(work, number=1, repeat=repeats))

    def passes() -> None:
        model.set_running_updates(False)
        logits = model.forward(recorder.diag_x, train=True)
        model.backward(cross_entropy(logits, recorder.diag_y)[1])
        model.set_running_updates(True)

    with deterministic_blas(), np.errstate(all="ignore"):
        snapshot = timed(lambda: recorder.snapshot(config.steps // 2))
        forward_backward = timed(passes)

    def steps(record: bool, snapshots: bool) -> float:
        trainer = Trainer(config, dataset, record=record)
        if not snapshots:
            trainer.recorder.snapshot = lambda step: None
        start = time.perf_counter()
        trainer.run(config.total_steps)
        return time.perf_counter() - start

    series = statistics.median(1000 * (steps(True, False) - steps(False, False))
                               for _ in range(repeats))
    return {"snapshot": snapshot, "forward_backward": forward_backward, "series": series}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved off/on rounds")
    args = parser.parse_args()
    config = Config()
    print(f"BLAS: {blas_description()}; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"default Config ({config.steps} steps, {config.snapshot_count()} snapshots), "
          f"whole train(), {args.rounds} interleaved rounds:")
    rounds = whole_runs(config, args.rounds)
    for index, (off, on) in enumerate(rounds, 1):
        print(f"  round {index}: recorder off {off:.3f} s, on {on:.3f} s, on/off "
              f"{on / off:.3f}")
    ratio = statistics.median(on / off for off, on in rounds)
    fastest = min(on for _, on in rounds) / min(off for off, _ in rounds)
    print(f"  median on/off ratio {ratio:.3f} (fastest rounds {fastest:.3f}); target <= "
          f"{TARGET:.2f}: {'met' if ratio <= TARGET else 'NOT met'}")
    found = parts(config, max(3, args.rounds))
    off = statistics.median(off for off, _ in rounds)
    count = config.snapshot_count()
    print(f"where it goes (share of the run with the recorder off, {1000 * off:.0f} ms):")
    print(f"  {count} snapshots x {found['snapshot']:.2f} ms = "
          f"{count * found['snapshot']:.0f} ms (+{count * found['snapshot'] / off / 10:.1f}%), "
          f"of which the forward and backward pass over the diagnostic batch "
          f"{found['forward_backward']:.2f} ms each")
    stride = Trainer(config, load_dataset(config)).recorder.stride
    print(f"  per-step series (update:data every {stride} steps): {found['series']:.0f} ms "
          f"(+{found['series'] / off / 10:.1f}%)")


if __name__ == "__main__":
    main()

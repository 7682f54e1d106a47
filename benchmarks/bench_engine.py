"""Time training steps of the engine, with and without the diagnostics recorder.

Models: the canonical makemore MLP (V 27, context 3, embed 10, 5 x 100 BatchNorm + tanh,
batch 32) and a 2-D spiral model. If PyTorch is importable (``pip install torch==2.13.0``,
CPU, benchmarks only) the same makemore model is timed in PyTorch eager on one thread and
the ratio is printed.

The step timings come from several fresh processes (as pyperf does): the same code runs
up to 20% faster or slower from one process to the next here (PyTorch 1400-1690 us/step in
six processes on one day), so one process's figure is one draw of that spread.

    python benchmarks/bench_engine.py [--steps 200] [--rounds 15] [--processes 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from neurondash import Config, train  # noqa: E402
from neurondash.config import MAX_WORK  # noqa: E402
from neurondash.data import load_dataset  # noqa: E402
from neurondash.engine.train import Trainer, blas_description, split_metrics  # noqa: E402
from neurondash.parts.activations import ACTIVATIONS  # noqa: E402

MAKEMORE = Config(task="names", context=3, embed_dim=10, depth=5, width="100", norm="batch",
                  act="tanh", init="kaiming", out_scale=0.1, batch=32, lr=0.1, opt="sgd")
SPIRAL = Config(task="spiral", depth=3, width="16", act="tanh", batch=32, lr=0.1)


def engine_stepper(config: Config, record: bool):
    """A function that takes ``n`` more steps of a fresh run of ``config`` (no checkpoint
    is due within a round: they are timed separately by ``snapshot_ms``)."""
    trainer = Trainer(config, load_dataset(config), record=record)

    def steps(n: int) -> None:
        trainer.run(n, checkpoint_last=False)
        if trainer.status == "diverged":  # its steps would cost nothing: say so, not time it
            raise RuntimeError(f"the timed run diverged ({config.to_query()}): "
                               f"{trainer.message}")
    return steps


def torch_stepper(config: Config = MAKEMORE):
    """The same names model in PyTorch eager, one thread; None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    dataset = load_dataset(config)
    x = torch.from_numpy(dataset.x["train"])
    y = torch.from_numpy(dataset.y["train"])
    gen = torch.Generator().manual_seed(0)
    layers: list[torch.nn.Module] = []
    fan = config.context * config.embed_dim
    for width in config.widths:
        layers += [torch.nn.Linear(fan, width, bias=False), torch.nn.BatchNorm1d(width),
                   torch.nn.Tanh()]
        fan = width
    layers.append(torch.nn.Linear(fan, 27))
    embedding = torch.nn.Embedding(27, config.embed_dim)
    net = torch.nn.Sequential(*layers)
    params = list(embedding.parameters()) + list(net.parameters())
    opt = torch.optim.SGD(params, lr=0.1)
    batch = config.batch

    def step(n: int) -> None:
        for _ in range(n):
            idx = torch.randint(0, x.shape[0], (batch,), generator=gen)
            logits = net(embedding(x[idx]).view(batch, -1))
            loss = torch.nn.functional.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return step


def round_us(steppers: dict, steps: int, rounds: int) -> dict[str, list[float]]:
    """Every contender's us/step in each of ``rounds`` interleaved rounds.

    This machine's timings drift by tens of percent over seconds; interleaving exposes
    every contender to the same drift, so the fastest round of each (and the ratio within
    each round) filters out interruptions.
    """
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for step in steppers.values():
        step(min(50, steps))  # warm up
    for _ in range(rounds):
        for name, step in steppers.items():
            start = time.perf_counter()
            step(steps)
            times[name].append((time.perf_counter() - start) / steps * 1e6)
    return times


def per_step_us(steppers: dict, steps: int, rounds: int) -> dict[str, float]:
    """Each contender's fastest interleaved round, in us/step."""
    return {name: min(times) for name, times in round_us(steppers, steps, rounds).items()}


def ratio_spread(slow: list[float], fast: list[float]) -> str:
    """Median and range of the per-round ratios slow/fast (both timed in the same round)."""
    ratios = sorted(a / b for a, b in zip(slow, fast, strict=True))
    return (f"median of per-round ratios {statistics.median(ratios):.2f}x "
            f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}x)")


def process_medians(per_process: list[dict], slow: str, fast: str) -> str:
    """Each process's median per-round ratio slow/fast: how far one process's figure moves."""
    medians = [statistics.median(a / b for a, b in zip(run[slow], run[fast], strict=True))
               for run in per_process]
    return "median per-round ratio in each process: " + ", ".join(f"{m:.2f}x" for m in medians)


def snapshot_ms(config: Config, repeats: int = 5) -> tuple[float, float]:
    """Milliseconds of one diagnostics snapshot and of one validation evaluation."""
    trainer = Trainer(config, load_dataset(config), record=True)
    snaps, vals = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        trainer.recorder.snapshot(0)
        snaps.append(time.perf_counter() - start)
        start = time.perf_counter()
        split_metrics(trainer.model, trainer.val_x, trainer.val_y)
        vals.append(time.perf_counter() - start)
    return 1000 * min(snaps), 1000 * min(vals)


def whole_run_seconds(config: Config, repeats: int = 3) -> dict[bool, float]:
    """Fastest end-to-end ``train()`` (steps, checkpoints, final evaluation, Run) with the
    recorder off and on, interleaved."""
    dataset = load_dataset(config)
    best = {False: float("inf"), True: float("inf")}
    for _ in range(repeats):
        for record in best:
            start = time.perf_counter()
            train(config, record=record, dataset=dataset)
            best[record] = min(best[record], time.perf_counter() - start)
    return best


def step_rounds(steps: int, rounds: int) -> dict[str, list[float]]:
    """This process's interleaved rounds of the makemore step: recorder off, on, PyTorch."""
    # Snapshots are timed separately: here the runs are long enough that none is due.
    long = MAKEMORE.replace(steps=200_000)
    steppers = {"off": engine_stepper(long, record=False),
                "on": engine_stepper(long, record=True)}
    torch_step = torch_stepper()
    if torch_step is not None:
        steppers["torch"] = torch_step
    return round_us(steppers, steps, rounds)


def rounds_from_processes(steps: int, rounds: int, processes: int) -> list[dict]:
    """``step_rounds`` in each of ``processes`` fresh Python processes, one after another."""
    command = [sys.executable, __file__, "--child", "--steps", str(steps),
               "--rounds", str(rounds)]
    return [json.loads(subprocess.run(command, capture_output=True, text=True,
                                      check=True).stdout) for _ in range(processes)]


SIZES = ((32, 100), (256, 100), (32, 512), (256, 512), (2, 100), (2, 1024), (8, 512),
         (32, 1024))
"""(batch, width) of the 5-layer tanh names model that recording is timed at: the issue's
four, and the sidebar's extremes (width up to 1024; small batches, where the recorder
measures update:data every ceil(32 / batch) steps). Below batch 32 the model has no
BatchNorm and lr 0.01: BatchNorm over 2 examples divides by a near-zero spread and blows the
weights up within ~100 steps (here as in PyTorch), and a diverged run's steps cost nothing.
Those sizes have no PyTorch peer."""
SMALL_BATCH = 32


def median_ratio(times: dict[str, list[float]], slow: str, fast: str = "off") -> float:
    """Median over rounds of slow/fast, both timed in the same round."""
    return statistics.median(a / b for a, b in zip(times[slow], times[fast], strict=True))


def recording_by_size(steps: int, rounds: int) -> list[tuple]:
    """(batch, width, us/step recorder off, median per-round on/off ratio, median per-round
    PyTorch/off ratio or None) per size: the per-step series only (snapshots are timed
    separately)."""
    found = []
    for batch, width in SIZES:
        probe = MAKEMORE.replace(batch=batch, width=str(width), steps=1)
        if batch < SMALL_BATCH:
            probe = probe.replace(norm="none", lr=0.01)
        # As long a run as the server allows, so that no checkpoint falls in a round.
        longest = int(min(200_000, MAX_WORK / (probe.n_params() * batch)))
        config = probe.replace(steps=longest, snap_every=longest)
        steppers = {"off": engine_stepper(config, record=False),
                    "on": engine_stepper(config, record=True)}
        torch_step = torch_stepper(config) if batch >= SMALL_BATCH else None
        if torch_step is not None:
            steppers["torch"] = torch_step
        times = round_us(steppers, max(10, steps * 32 // (batch * max(1, width // 100))),
                         rounds)
        found.append((batch, width, min(times["off"]), median_ratio(times, "on"),
                      median_ratio(times, "torch") if "torch" in times else None))
    return found


def by_activation(steps: int, rounds: int) -> dict[str, float]:
    """Each activation's us/step on the dashboard's default model, over tanh's, timed in
    interleaved rounds (median of per-round ratios): no activation should cost a multiple
    of another (gelu's float32 ``x**3`` once made it 12x tanh)."""
    base = Config(steps=200_000)
    steppers = {name: engine_stepper(base.replace(act=name), record=False)
                for name in ACTIVATIONS}
    times = round_us(steppers, steps, rounds)
    return {name: median_ratio(times, name, "tanh") for name in ACTIVATIONS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per round")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per process")
    parser.add_argument("--processes", type=int, default=3,
                        help="fresh processes the step timings are taken in")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(step_rounds(args.steps, args.rounds)))
        return
    per_process = rounds_from_processes(args.steps, args.rounds, args.processes)
    rounds = {name: [t for run in per_process for t in run[name]] for name in per_process[0]}
    best = {name: min(times) for name, times in rounds.items()}
    snap, val = snapshot_ms(MAKEMORE)
    off, on = best["off"], best["on"]
    print(f"BLAS: {blas_description()}; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"makemore MLP (5x100 BatchNorm tanh, batch 32); fastest of {args.rounds} "
          f"interleaved rounds of {args.steps} steps in each of {args.processes} processes")
    print(f"  neurondash, recorder off          : {off:8.1f} us/step")
    print(f"  neurondash, per-step series on    : {on:8.1f} us/step  "
          f"(+{100 * (on / off - 1):.1f}%; {ratio_spread(rounds['on'], rounds['off'])})")
    print(f"    {process_medians(per_process, 'on', 'off')}")
    print(f"  one diagnostics snapshot          : {snap:8.1f} ms  (validation pass, done "
          f"with or without recording: {val:.1f} ms)")
    # The fastest "on" and "off" rounds may come from different moments of a noisy machine;
    # the median of the per-round ratios compares the two within each round.
    ratio = median_ratio(rounds, "on")
    for label, steps in (("makemore 200k-step run", 200_000), ("makemore 3000-step run", 3000)):
        count = MAKEMORE.replace(steps=steps).snapshot_count()
        snapshots = 1000 * snap * count / (off * steps)
        print(f"  recording overhead, {label} ({count} snapshots): "
              f"+{100 * (on / off - 1 + snapshots):.1f}% (fastest rounds), "
              f"+{100 * (ratio - 1 + snapshots):.1f}% (median per-round ratio)")
    if "torch" in best:
        print(f"  PyTorch eager, 1 thread           : {best['torch']:8.1f} us/step")
        print(f"  speed-up vs PyTorch: {best['torch'] / off:.2f}x (recorder off), "
              f"{best['torch'] / on:.2f}x (per-step series on), fastest rounds")
        print(f"  speed-up vs PyTorch, recorder off: "
              f"{ratio_spread(rounds['torch'], rounds['off'])}")
        print(f"    {process_medians(per_process, 'torch', 'off')}")
    else:
        print("  PyTorch eager: not installed (pip install torch==2.13.0)")
    whole = whole_run_seconds(Config(), repeats=min(3, args.rounds))
    print(f"dashboard default Config ({Config().steps} steps, {Config().snapshot_count()} "
          f"snapshots), whole train(): {whole[False]:.2f} s recorder off, {whole[True]:.2f} s "
          f"on (+{100 * (whole[True] / whole[False] - 1):.1f}%)")
    print("recording overhead by size (5 layers, BatchNorm tanh; per-step series, median of "
          "per-round ratios):")
    for batch, width, off_us, ratio, torch_ratio in recording_by_size(args.steps, args.rounds):
        versus = (f"; PyTorch eager {torch_ratio:.2f}x the time (recorder off)"
                  if torch_ratio is not None else "")
        print(f"  batch {batch:>3}, width {width}: {off_us:8.1f} us/step recorder off, "
              f"+{100 * (ratio - 1):.1f}% on{versus}")
    ratios = by_activation(args.steps, args.rounds)
    print("us/step by activation on the default model, over tanh's: "
          + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items()))
    spiral = per_step_us({"off": engine_stepper(SPIRAL.replace(steps=200_000), False)},
                         args.steps, 3)["off"]
    print(f"spiral 2-D model (3x16 tanh), recorder off: {spiral:.1f} us/step")


if __name__ == "__main__":
    main()

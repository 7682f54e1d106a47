"""Time training steps of the engine, with and without the diagnostics recorder.

Models: the canonical makemore MLP (V 27, context 3, embed 10, 5 x 100 BatchNorm + tanh,
batch 32) and a 2-D spiral model. If PyTorch is importable (``pip install torch==2.13.0``,
CPU, benchmarks only) the same makemore model is timed in PyTorch eager on one thread and
the ratio is printed.

    python benchmarks/bench_engine.py [--steps 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from neurondash import Config  # noqa: E402
from neurondash.data import load_dataset  # noqa: E402
from neurondash.engine.train import Trainer  # noqa: E402

MAKEMORE = Config(task="names", context=3, embed_dim=10, depth=5, width="100", norm="batch",
                  act="tanh", init="kaiming", out_scale=0.1, batch=32, lr=0.1, opt="sgd")
SPIRAL = Config(task="spiral", depth=3, width="16", act="tanh", batch=32, lr=0.1)


def time_engine(config: Config, steps: int, record: bool, repeats: int,
                snapshots: int = 25) -> float:
    """Median microseconds per step (snapshot cost included, ~``snapshots`` per run)."""
    config = config.replace(steps=steps, snap_every=max(1, steps // snapshots))
    dataset = load_dataset(config)
    times = []
    for _ in range(repeats):
        trainer = Trainer(config, dataset, record=record)
        start = time.perf_counter()
        trainer.run(steps)
        times.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(times)


def time_torch(steps: int, repeats: int) -> float | None:
    """The same makemore model in PyTorch eager, one thread; None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    dataset = load_dataset(MAKEMORE)
    x = torch.from_numpy(dataset.x["train"])
    y = torch.from_numpy(dataset.y["train"])
    gen = torch.Generator().manual_seed(0)
    layers: list[torch.nn.Module] = []
    fan = MAKEMORE.context * MAKEMORE.embed_dim
    for _ in range(MAKEMORE.depth):
        layers += [torch.nn.Linear(fan, 100, bias=False), torch.nn.BatchNorm1d(100),
                   torch.nn.Tanh()]
        fan = 100
    layers.append(torch.nn.Linear(fan, 27))
    embedding = torch.nn.Embedding(27, MAKEMORE.embed_dim)
    net = torch.nn.Sequential(*layers)
    params = list(embedding.parameters()) + list(net.parameters())
    opt = torch.optim.SGD(params, lr=0.1)

    def step() -> None:
        idx = torch.randint(0, x.shape[0], (32,), generator=gen)
        logits = net(embedding(x[idx]).view(32, -1))
        loss = torch.nn.functional.cross_entropy(logits, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    times = []
    for _ in range(repeats):
        for _ in range(100):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    off = time_engine(MAKEMORE, args.steps, False, args.repeats)
    on = time_engine(MAKEMORE, args.steps, True, args.repeats)
    on_long = time_engine(MAKEMORE, args.steps, True, args.repeats, snapshots=3)
    print(f"makemore MLP (5x100 BatchNorm tanh, batch 32), {args.steps} steps, median of "
          f"{args.repeats}:")
    print(f"  neurondash, recorder off        : {off:8.1f} us/step")
    print(f"  neurondash, recorder on (25 snapshots/run): {on:8.1f} us/step  "
          f"(+{100 * (on / off - 1):.1f}%)")
    print(f"  neurondash, recorder on (per-step series, 3 snapshots): {on_long:8.1f} us/step"
          f"  (+{100 * (on_long / off - 1):.1f}%)")
    torch_us = time_torch(args.steps, args.repeats)
    if torch_us is None:
        print("  PyTorch eager                   : not installed (pip install torch==2.13.0)")
    else:
        print(f"  PyTorch eager, 1 thread         : {torch_us:8.1f} us/step")
        print(f"  speed-up vs PyTorch (recorder off): {torch_us / off:.2f}x   "
              f"(recorder on: {torch_us / on:.2f}x)")
    spiral = time_engine(SPIRAL, args.steps, False, args.repeats)
    spiral_on = time_engine(SPIRAL, args.steps, True, args.repeats)
    print(f"spiral 2-D model (3x16 tanh): off {spiral:.1f} us/step, on {spiral_on:.1f} us/step")


if __name__ == "__main__":
    main()

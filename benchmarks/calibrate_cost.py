"""Calibrate the training-time model (neurondash/cost.py) against measured runs.

Trains a fixed, seeded set of Configs across sizes (names and 2-D tasks; depth, width,
batch, steps, snapshot cadence, norm, fuse), times each whole ``train()`` call with its
data already loaded, and prints every run's measured seconds against the model's
estimate (with and without the safety factor), then a least-squares refit of the
coefficients (relative error, non-negative) to paste into cost.SECONDS_PER_TERM.
Users' machines do not set OpenBLAS overrides, so run it with them unset:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/calibrate_cost.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from neurondash import Config, cost, train  # noqa: E402
from neurondash.config import ACTIVATION_NAMES, ConfigError  # noqa: E402
from neurondash.cost import SAFETY, SECONDS_PER_TERM, TERMS, estimate_seconds, terms  # noqa: E402
from neurondash.data import load_dataset  # noqa: E402
from neurondash.engine.model import Model  # noqa: E402
from neurondash.engine.train import blas_description  # noqa: E402
from neurondash.parts.activations import ACTIVATIONS  # noqa: E402
from neurondash.parts.layers import NORMS, ActivationLayer  # noqa: E402

FIXED = (
    "depth=12&width=600&steps=20",
    "batch=1&snap_every=1&steps=199&width=300&depth=12",
    "",  # the defaults
    "depth=5&norm=batch&steps=1000",
    "context=8&fuse=2&depth=3&width=68&embed_dim=10&norm=batch&steps=1000",
    "task=spiral&depth=8&width=64&steps=2000",
    "task=moons&points=20000&depth=2&width=300&batch=512&steps=300",
    "depth=1&width=1024&batch=256&steps=300",
    "depth=12&width=100&steps=2000&snap_every=20",
    "steps=13777&lr=0.0371&width=37&depth=7&act=gelu&norm=batch",  # a walk's link
    "depth=7&width=37&steps=3000&norm=layer&act=elu",
    # Small nets over many steps: the per-step and per-layer Python overhead dominates.
    "depth=2&width=16&steps=100000",
    "steps=20000",
    "depth=8&width=16&act=relu&norm=layer&steps=20000",
    "task=moons&depth=1&width=8&steps=50000",
)


MAX_ESTIMATE = 40.0
"""Random configs are drawn up to this estimate (seconds), so that both sides of the
dashboard's auto-train limit are measured."""
FLOOR = 0.5
"""Runs shorter than this (seconds) weigh as if they took this long: their relative error
is mostly timer noise, and the estimate matters near the auto-train limit and above."""


def random_configs(count: int, seed: int) -> list[Config]:
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        char = rng.random() < 0.6
        values = {
            "task": "names" if char else str(rng.choice(["spiral", "moons", "circles"])),
            "depth": int(rng.integers(0, 13)),
            "width": str(int(rng.choice([8, 32, 100, 200, 400, 800]))),
            "batch": int(rng.choice([1, 8, 32, 128, 512])),
            "steps": int(rng.choice([20, 50, 200, 600, 1500, 4000])),
            "snap_every": int(rng.choice([0, 0, 1, 5, 50])),
            "norm": str(rng.choice(["none", "batch", "layer"])),
            "act": str(rng.choice(ACTIVATION_NAMES)),
        }
        if not char:
            values["points"] = int(rng.choice([200, 1000, 5000, 20000]))
        try:
            config = Config(**values)
        except ConfigError:
            continue
        if estimate_seconds(config) < MAX_ESTIMATE:
            configs.append(config)
    return configs


def relative_costs(shape: tuple[int, int] = (128, 256), repeats: int = 200
                   ) -> tuple[dict[str, float], dict[str, float]]:
    """Each activation's forward and backward pass over a ``shape`` float32 array relative
    to tanh's, and each normalization layer's relative to BatchNorm's (best of
    ``repeats``): the ``cost.ACTIVATION_COST`` and ``cost.NORM_COST`` tables."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    grad = rng.normal(size=shape).astype(np.float32)

    def best(work) -> float:
        return min(timeit.repeat(work, number=1, repeat=repeats))

    def activation(name: str) -> float:
        layer = ActivationLayer(ACTIVATIONS[name])
        return best(lambda: (layer.forward(x), layer.backward(grad)))

    def norm(name: str) -> float:
        model = Model([NORMS[name](shape[1])])  # binds its scale and shift
        return best(lambda: (model.forward(x), model.backward(grad)))

    tanh = activation("tanh")
    acts = {name: round(activation(name) / tanh, 2) for name in ACTIVATION_NAMES}
    batch = norm("batch")
    norms = {"none": 0.0} | {name: round(norm(name) / batch, 2)
                             for name, layer in NORMS.items() if layer is not None}
    return acts, norms


def timed(config: Config) -> float:
    """Seconds of one ``train(config)``: the faster of two for short runs (the first run of
    new shapes pays for fresh memory)."""
    load_dataset(config)  # data loading is cached per process: not part of the run's cost
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        train(config)
        best = min(best, time.perf_counter() - start)
        if best > 3:
            break
    return best


def refit(rows: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Non-negative least squares on relative error (runs under FLOOR weigh less)."""
    weighted = rows / np.maximum(seconds, FLOOR)[:, None]
    target = seconds / np.maximum(seconds, FLOOR)
    active = np.ones(rows.shape[1], dtype=bool)
    coef = np.zeros(rows.shape[1])
    while active.any():
        solution, *_ = np.linalg.lstsq(weighted[:, active], target, rcond=None)
        if (solution >= 0).all():
            coef[active] = solution
            break
        active[np.flatnonzero(active)[np.argmin(solution)]] = False
    return coef


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=30, help="random configs besides the "
                        "fixed ones")
    parser.add_argument("--quick", action="store_true", help="three small runs (a smoke test)")
    parser.add_argument("--activations", action="store_true",
                        help="also measure ACTIVATION_COST and NORM_COST (paste them first)")
    args = parser.parse_args()
    print(f"BLAS: {blas_description()}; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    if args.activations:  # used by the refit below too
        acts, norms = relative_costs()
        cost.ACTIVATION_COST.update(acts)
        cost.NORM_COST.update(norms)
        print(f"ACTIVATION_COST = {acts}\nNORM_COST = {norms}")
    if args.quick:
        configs = [Config(steps=30, depth=1, width="16"), Config(task="moons", steps=50),
                   Config(steps=20, depth=2, width="32", snap_every=2)]
    else:
        configs = [Config.from_query(q)[0] for q in FIXED] + random_configs(args.random, 7)
    rows, seconds = [], []
    print(f"{'measured s':>10} {'estimate s':>10} {'ratio':>6}  config")
    for config in configs:
        took = timed(config)
        estimate = estimate_seconds(config)
        rows.append([terms(config)[t] for t in TERMS])
        seconds.append(took)
        print(f"{took:10.2f} {estimate:10.2f} {estimate / took:6.2f}  "
              f"{config.to_query() or '(defaults)'}")
    rows_array, measured = np.array(rows), np.array(seconds)
    current = rows_array @ np.array([SECONDS_PER_TERM[t] for t in TERMS]) * SAFETY
    ratio = current / measured
    print(f"estimate/measured with SAFETY {SAFETY}: min {ratio.min():.2f}, median "
          f"{np.median(ratio):.2f}, max {ratio.max():.2f} over {len(ratio)} runs "
          f"({int((ratio < 1).sum())} underestimated)")
    if len(configs) > len(TERMS):
        coef = refit(rows_array, measured)
        fitted = rows_array @ coef / measured
        print(f"refit (no safety factor): min {fitted.min():.2f}, median "
              f"{np.median(fitted):.2f}, max {fitted.max():.2f}")
        for config, value in zip(configs, fitted, strict=True):
            if not 0.8 <= value <= 1.25:
                print(f"  refit/measured {value:.2f}: {config.to_query() or '(defaults)'}")
        print("SECONDS_PER_TERM = {" + ", ".join(f'"{t}": {c:.1e}'
                                                  for t, c in zip(TERMS, coef, strict=True))
              + "}")


if __name__ == "__main__":
    main()

"""`theory --json` beside the engine's measured pre-activation variance at init.

For tanh, ReLU and GELU at init scales 0.5, 1 and 2 (no norm, no bias, Kaiming's gain):
the CLI's prediction (given the measured mean square of the first layer's input as --q0)
against the variance the engine's own model measures at init, per hidden layer. tanh is
one seed at width 1024; ReLU and GELU, whose single seeds scatter 20-50% at finite width,
the mean over 16 seeds at width 256 (``--width 1024`` shows the finite-width drift
shrink: GELU at scale 1 sits near a marginal map, where the mean of log-normally scattered
seeds drifts ~11% by layer 10 at width 256). Depth 10 at width 1024 is past the
dashboard's caps: a valid Config is built and its depth and width set afterwards, so
``build_model`` draws exactly what training would.

    python benchmarks/theory_table.py [--depth 10] [--seeds 16]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurondash import Config  # noqa: E402
from neurondash.cli import main  # noqa: E402
from neurondash.engine.model import build_model  # noqa: E402
from neurondash.engine.train import deterministic_blas  # noqa: E402

SEEDED = {"tanh": False, "relu": True, "gelu": True}
"""Activation -> whether it is measured as a mean over seeds (tanh: one seed at 1024)."""
SCALES = (0.5, 1.0, 2.0)
SHOWN = (1, 2, 5, 10)
"""Hidden layers shown in the table (1-based; those past --depth are left out)."""


def measured(act: str, scale: float, width: int, seed: int, depth: int
             ) -> tuple[float, np.ndarray]:
    """The first layer's input mean square and each hidden layer's pre-activation variance
    of the engine's model at init, on 512 random contexts (16 characters × embed 64 give
    1024 input dimensions, so no layer sees a low-rank signal)."""
    config = Config(act=act, init_scale=scale, depth=3, width="64", context=16, embed_dim=64)
    object.__setattr__(config, "depth", depth)
    object.__setattr__(config, "width", str(width))
    model = build_model(config, 27, 27, np.random.default_rng(seed))
    x = np.random.default_rng(seed + 10_000).integers(0, 27, (512, config.context))
    with deterministic_blas():
        model.forward(x, train=False)
    q0 = float(np.mean(model.layers[model.blocks[0].linear].x.astype(np.float64) ** 2))
    return q0, np.array([np.var(model.layers[b.activation].x, dtype=np.float64)
                         for b in model.blocks])


def predicted(act: str, scale: float, depth: int, q0: float) -> dict:
    """What `python -m neurondash theory ... --json` prints for this case."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["theory", "--act", act, "--init-scale", str(scale), "--depth", str(depth),
              "--q0", repr(q0), "--json"])
    return json.loads(out.getvalue())


def main_table(depth: int, seeds: int, width: int) -> None:
    shown = [layer for layer in SHOWN if layer <= depth]
    head = " | ".join(f"layer {layer} pred / meas" for layer in shown)
    print(f"| act | scale | chi1 | phase | xi_c | critical scale | {head} | worst |")
    print("|---|---|---|---|---|---|" + "---|" * len(shown) + "---|")
    for act, seeded in SEEDED.items():
        for scale in SCALES:
            draws = [measured(act, scale, width if seeded else 1024, seed, depth)
                     for seed in range(seeds if seeded else 1)]
            q0 = float(np.mean([q for q, _ in draws]))
            theory = predicted(act, scale, depth, q0)
            ratios = np.mean([m / np.array(predicted(act, scale, depth, q)["q"])
                              for q, m in draws], axis=0)
            mean = np.mean([m for _, m in draws], axis=0)
            cells = " | ".join(f"{theory['q'][layer - 1]:.3g} / {mean[layer - 1]:.3g}"
                               for layer in shown)
            xi = "none" if theory["xi_c"] is None else f"{theory['xi_c']:.1f}"
            critical = theory["critical_init_scale"]
            critical = "none" if critical is None else f"{critical:.3f}"
            worst = float(np.max(np.abs(ratios - 1)))
            print(f"| {act} | {scale} | {theory['chi1']:.3f} | {theory['phase']} | {xi} | "
                  f"{critical} | {cells} | {worst:.1%} |", flush=True)
    print("\nmeasured: tanh 1 seed at width 1024; ReLU and GELU the mean of "
          f"{seeds} seeds at width {width}; worst = the largest "
          "|measured/predicted - 1| over all layers (the mean of per-seed ratios).")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=16, help="seeds for ReLU and GELU")
    parser.add_argument("--width", type=int, default=256, help="width for ReLU and GELU")
    args = parser.parse_args()
    main_table(args.depth, args.seeds, args.width)

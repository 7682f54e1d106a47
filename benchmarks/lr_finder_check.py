"""Does the LR finder's suggestion train as well as the best learning rate? For the best
names config found by hand (AdamW) and its plain-SGD twin and four smaller names configs
(the set ``MIN_FRACTION`` was fitted on), or three configs chosen after the fit: the
finder's minimum and suggestion (median of 3 seeds, with their spread), a grid of rates
trained in full, and the gap between the suggestion's validation loss and the grid's best
(target: within 0.02).

    python benchmarks/lr_finder_check.py [--steps 2000] [--only best|all|held-out]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurondash import Config  # noqa: E402
from neurondash.engine.lr_finder import MIN_FRACTION, find_lr  # noqa: E402
from neurondash.sweep import make_executor, run_one  # noqa: E402

BEST = Config(context=8, embed_dim=24, depth=3, width="256", opt="adamw", lr=0.003, wd=0.1,
              batch=512, steps=2000)
OTHERS = {
    "default": Config(),
    "small-b128": Config(depth=2, width="32", batch=128, steps=2000),
    "relu-bn": Config(depth=4, width="64", act="relu", norm="batch", batch=64, steps=2000),
    "ctx8-b256": Config(context=8, embed_dim=16, depth=2, width="128", batch=256, steps=1500),
}
HELD_OUT = {
    "gelu-d3": Config(depth=3, width="64", act="gelu", batch=64, steps=2000),
    "wide-d1": Config(depth=1, width="300", batch=64, steps=2000),
    "ctx5-e8": Config(context=5, embed_dim=8, depth=2, width="128", steps=3000),
}
"""Configs chosen after ``MIN_FRACTION`` was fitted (on BEST and OTHERS): out of sample."""
GRIDS = {"adamw": np.logspace(-3.5, -1, 11), "sgd": np.logspace(-2, 0.5, 11)}
"""Rates trained in full: 11 per optimizer, 4 per decade, over where its useful rates lie."""


def check(name: str, base: Config, pool) -> float:
    start = time.perf_counter()
    result = find_lr(base)
    finder_seconds = time.perf_counter() - start
    minimum = result.suggestion / MIN_FRACTION[base.opt]
    suggested = float(f"{result.suggestion:.3g}")
    rates = sorted({*(float(f"{r:.3g}") for r in GRIDS[base.opt]), suggested})
    configs = [base.replace(lr=rate) for rate in rates]
    runs = list(pool.map(run_one, [c.to_dict() for c in configs]))
    val = {c.lr: run.final.get("val_loss", float("nan")) for c, run in zip(configs, runs,
                                                                           strict=True)}
    best = min((r for r in val if np.isfinite(val[r])), key=val.get)
    gap = val[suggested] - val[best]
    low, high = result.spread
    print(f"{name:11s} {base.opt:5s} finder {finder_seconds:4.1f} s: minimum {minimum:.3g}, "
          f"suggests {suggested:.3g} (seeds {low:.3g}-{high:.3g}) -> val {val[suggested]:.4f};"
          f" best lr {best:.3g} (val {val[best]:.4f}, {best / minimum:.2f}x the minimum); "
          f"gap {gap:+.4f}", flush=True)
    return gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per full run (default: each config's own)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=("best", "all", "held-out", "smoke"), default="all",
                        help="all: the configs MIN_FRACTION was fitted on; held-out: others; "
                             "smoke: one tiny config (the script's own test)")
    args = parser.parse_args()
    configs = {"held-out": HELD_OUT, "smoke": {"tiny": Config(depth=1, width="8")},
               "best": {"best": BEST}}.get(args.only, {"best": BEST, **OTHERS})
    gaps = []
    with make_executor("process", args.workers, wait=True) as pool:
        for name, config in configs.items():
            for opt in ("adamw", "sgd"):
                base = config.replace(opt=opt, wd=config.wd if opt == "adamw" else 0.0)
                if args.steps is not None:
                    base = base.replace(steps=args.steps)
                gaps.append(check(name, base, pool))
    print(f"suggestion's gap to the best rate: worst {max(gaps):+.4f}, "
          f"median {float(np.median(gaps)):+.4f} (target <= 0.02)")


if __name__ == "__main__":
    main()

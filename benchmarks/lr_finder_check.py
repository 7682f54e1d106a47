"""Does the LR finder's suggestion train as well as the best learning rate? For the best
names config found by hand (AdamW) and its plain-SGD twin: the finder's suggestion (median
of 3 seeds, with their spread), a grid of rates around it trained in full, and the gap
between the suggestion's validation loss and the grid's best (target: within 0.02).

    python benchmarks/lr_finder_check.py [--steps 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurondash import Config  # noqa: E402
from neurondash.engine.lr_finder import find_lr  # noqa: E402
from neurondash.sweep import make_executor, run_one  # noqa: E402

BEST = Config(context=8, embed_dim=24, depth=3, width="256", opt="adamw", lr=0.003, wd=0.1,
              batch=512, steps=2000)
GRIDS = {"adamw": (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02),
         "sgd": (0.03, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)}
"""Rates trained in full around where each optimizer's useful rates lie."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    bases = {"adamw": BEST.replace(steps=args.steps),
             "sgd": BEST.replace(steps=args.steps, opt="sgd", wd=0.0)}
    for name, base in bases.items():
        start = time.perf_counter()
        result = find_lr(base)
        finder_seconds = time.perf_counter() - start
        rates = sorted({*GRIDS[name], round(result.suggestion, 6)})
        configs = [base.replace(lr=rate) for rate in rates]
        with make_executor("process", args.workers, wait=True) as pool:
            runs = list(pool.map(run_one, [c.to_dict() for c in configs]))
        val = {config.lr: run.final["val_loss"] for config, run in zip(configs, runs,
                                                                        strict=True)}
        best_rate = min(val, key=val.get)
        suggested = round(result.suggestion, 6)
        low, high = result.spread
        print(f"{name}: {base.to_query()}")
        print(f"  finder ({finder_seconds:.1f} s, 3 seeds): suggests {result.suggestion:.3g} "
              f"(seeds {low:.3g}-{high:.3g})")
        for rate in rates:
            mark = " <- suggested" if rate == suggested else ""
            print(f"  lr {rate:<9g} val {val[rate]:.4f}{mark}")
        gap = val[suggested] - val[best_rate]
        print(f"  best lr {best_rate:g} (val {val[best_rate]:.4f}); suggestion's gap "
              f"{gap:+.4f} (target <= 0.02)")


if __name__ == "__main__":
    main()

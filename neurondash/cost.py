"""How long a Config takes to train here: a small linear cost model, calibrated by
``benchmarks/calibrate_cost.py`` on this machine class (2 cores, one BLAS thread).

A link is how strangers reach the dashboard, so opening one may train only a few seconds'
work unasked. Parameters x steps x batch misses what dominates many runs: the fixed cost
of every layer's NumPy calls per step, the snapshots (a 512-example forward and backward
pass, histograms and unit maps each), the validation checkpoints and the final pass over
every split. Each is a term here, with a coefficient fitted to measured runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import Config

DIAG_EXAMPLES = 512
VAL_EXAMPLES = 4096
NAMES_EXAMPLES = (185_307, 23_092, 23_319)
"""Train, val and test examples of the names task (SSA 2017, split by word)."""
WORDS_EXAMPLES_GUESS = 200_000
"""Examples assumed for a word list not given (about what the 1 MB upload cap allows)."""

TERMS = ("runs", "steps", "step_layers", "step_flops", "step_units", "step_params",
         "step_act_layers", "step_norm_layers", "step_norm_units", "snapshots",
         "snapshot_layers", "snapshot_flops", "snapshot_units", "snapshot_params",
         "eval_flops", "eval_units")
SECONDS_PER_TERM = {
    "runs": 1.1e-02, "steps": 2.5e-05, "step_layers": 0.0, "step_flops": 2.2e-11,
    "step_units": 2.4e-09, "step_params": 6.1e-10, "step_act_layers": 1.6e-06,
    "step_norm_layers": 1.8e-05, "step_norm_units": 3.2e-09, "snapshots": 2.7e-03,
    "snapshot_layers": 0.0, "snapshot_flops": 4.1e-11, "snapshot_units": 1.8e-08,
    "snapshot_params": 0.0, "eval_flops": 2.2e-12, "eval_units": 0.0,
}
"""Seconds per unit of each term (see ``benchmarks/calibrate_cost.py``, which measures
runs across sizes and prints a refit of these numbers and every run's predicted/measured
ratio)."""
SAFETY = 1.5
"""Estimates are rounded up by this factor: an underestimate trains unasked. A linear
model cannot follow BLAS's speed across matrix sizes: over the 45 calibration runs (every
activation and normalization among them) the rounded-up estimate was 0.70-1.70x the
measured time for the 27 runs of half a second or more (median 1.5x; 0.58-10x for tiny
runs, where start-up dominates), so a run estimated at the dashboard's 4 s limit takes at
most about 5.7 s."""


ACTIVATION_COST = {"tanh": 1.0, "sigmoid": 1.58, "relu": 1.08, "leaky_relu": 3.88, "elu": 5.05,
                   "gelu": 5.86, "silu": 3.36, "identity": 0.34}
"""Each activation's forward and backward pass, relative to tanh's (``python
benchmarks/calibrate_cost.py --activations`` measures them); one not listed counts as
tanh. GELU's polynomial and tanh take several NumPy passes where ReLU takes one."""
NORM_COST = {"none": 0.0, "batch": 1.0, "layer": 2.13}
"""Each normalization layer's forward and backward pass, relative to BatchNorm's (measured
with the activations); one not listed counts as BatchNorm."""


def example_counts(config: Config, words: Sequence[str] | None = None
                   ) -> tuple[int, int, int]:
    """Train, val and test examples of the Config's data (split 80/10/10 for word lists,
    as the names are: each word gives one example per character and one for its end)."""
    if config.task == "names":
        return NAMES_EXAMPLES
    if config.task == "words":
        total = sum(len(word) + 1 for word in words) if words else WORDS_EXAMPLES_GUESS
        return int(total * 0.8), int(total * 0.1), total - int(total * 0.8) - int(total * 0.1)
    train = int(round(config.points * config.train_frac))
    val = config.points - train
    return train, val, val


def forward_flops(config: Config, vocab: int | None = None) -> float:
    """Multiply-adds of one example's forward pass (a fused model's lower levels run once
    per group of positions)."""
    vocab = vocab or config.vocab_bound()
    fans = config.fan_ins()
    widths = (*config.widths, vocab)
    levels = config.fuse_levels
    total = 0.0
    for level, (fan, width) in enumerate(zip(fans, widths, strict=True)):
        rows = config.context // config.fuse ** (level + 1) if level < levels else 1
        total += rows * fan * width
    return total


def terms(config: Config, words: Sequence[str] | None = None) -> dict[str, float]:
    """The amounts the cost model multiplies by its coefficients."""
    steps = config.total_steps
    layers = config.depth + 1
    flops = forward_flops(config)
    params = config.n_params()
    snapshots = config.snapshot_count()
    units = sum(config.widths)
    train, val, test = example_counts(config, words)
    # Every snapshot step is also a validation checkpoint; then the final pass over all.
    eval_examples = snapshots * min(val, VAL_EXAMPLES) + train + val + test
    diag = min(train, DIAG_EXAMPLES)
    act = ACTIVATION_COST.get(config.act, 1.0)
    norm = NORM_COST.get(config.norm, 1.0)
    return {
        "runs": 1.0, "steps": steps, "step_layers": steps * layers,
        "step_flops": steps * 3.0 * config.batch * flops,
        "step_units": steps * config.batch * units * act, "step_params": steps * params,
        "step_act_layers": steps * config.depth * act,
        "step_norm_layers": steps * config.depth * norm,
        "step_norm_units": steps * config.batch * units * norm,
        "snapshots": snapshots, "snapshot_layers": snapshots * layers,
        "snapshot_flops": snapshots * 3.0 * diag * flops,
        "snapshot_units": snapshots * diag * units, "snapshot_params": snapshots * params,
        "eval_flops": eval_examples * flops, "eval_units": eval_examples * units,
    }


def estimate_seconds(config: Config, words: Sequence[str] | None = None) -> float:
    """Seconds ``train(config)`` takes here, rounded up by ``SAFETY``."""
    amounts = terms(config, words)
    return SAFETY * sum(SECONDS_PER_TERM[name] * amounts[name] for name in TERMS)


WORKER_START_SECONDS = 1.5
"""A spawned worker process's start-up (importing NumPy, pandas and the engine) before its
first run."""


def expected_wall_seconds(configs: Sequence[Config], workers: int) -> float:
    """The wait for training ``configs`` on ``workers`` processes: the cost model's
    estimate without ``SAFETY`` (its median over the calibration runs), shared by the
    workers, plus their start-up. What a user is told to expect for many runs at once;
    one link's unasked training keeps the rounded-up ``estimate_seconds``."""
    seconds = sum(estimate_seconds(config) for config in configs) / SAFETY
    return WORKER_START_SECONDS + seconds / max(1, min(workers, len(configs)))


def describe_seconds(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 2 h': the wait a user is told of."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"

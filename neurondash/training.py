"""Training that gives Runs: the engine's Trainer in, a Run out, and a Run back into a
Trainer to continue it. The one place where the engine and ``Run`` meet (the engine knows
nothing of Runs; a Run is built only by ``Run.from_trainer``)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .config import Config
from .data import Dataset, load_dataset
from .engine.train import ProgressCallback, StopRequest, Trainer
from .run import Run

Snapshots = Callable[[Callable[[], Run]], None]
"""Told, in the training thread, at every checkpoint: a function that builds the run as it
stood there (call it from any thread; it reads only what the recorder has finished)."""


def train(config: Config, on_progress: ProgressCallback | None = None,
          should_stop: StopRequest | None = None, record: bool = True,
          words: list[str] | None = None, dataset: Dataset | None = None,
          on_snapshot: Snapshots | None = None) -> Run:
    """Train a model for ``config.steps`` steps, and ``config.more`` after them at the last
    learning rate, and return its Run.

    ``words`` is the word list for the 'words' task. ``record=False`` skips diagnostics
    (benchmarks); the loss series is always kept.
    """
    dataset = dataset or load_dataset(config, words)
    trainer = Trainer(config, dataset, record)
    _watch(trainer, on_snapshot)
    trainer.run(config.total_steps, on_progress, should_stop)
    return _run_of(trainer)


def _watch(trainer: Trainer, on_snapshot: Snapshots | None) -> None:
    if on_snapshot is not None:
        trainer.on_checkpoint = lambda mark: on_snapshot(
            functools.partial(Run.from_trainer, trainer, mark))


def _run_of(trainer: Trainer) -> Run:
    """The trainer's Run. A stopped one is the run of its first k steps (``until``): the
    engine stops only where resuming is exact, so its link trains it again and continuing
    it gives the uninterrupted run."""
    if trainer.status == "stopped":
        trainer.config = longer_config(trainer.config, trainer.step)
    return Run.from_trainer(trainer)


def restore_trainer(run: Run) -> Trainer:
    """A live Trainer in exactly ``run``'s state (to continue it)."""
    trainer = Trainer(run.config, load_dataset(run.config, run.words), record=True)
    model = trainer.model
    model.flat[...] = run.state["params"]
    for name, value in run.state["buffers"].items():
        model.buffers()[name][...] = value
    trainer.optimizer.load_state(run.state["optimizer"])
    trainer.batch_rng.bit_generator.state = run.state["rng"]
    trainer.step = run.steps_done
    trainer.restarts = {**run.checkpoints, run.steps_done: run.state}
    trainer.status, trainer.message = run.status, run.message
    trainer.elapsed = run.elapsed
    trainer.eval_rows = run.evals.to_dict("records")
    history = run.history
    trainer.recorder.restore(
        loss=history["loss"].to_numpy(), lr=history["lr"].to_numpy(),
        update_data=history[trainer.recorder.matrix_names].to_numpy(np.float32),
        layer_rows=run.layers.to_dict("records"), weight_rows=run.weights.to_dict("records"),
        logit_rows=run.logits.to_dict("records"),
        hist_rows=[(int(step), str(name), str(quantity),
                    np.append(group["bin_start"].to_numpy(), group["bin_end"].iloc[-1]),
                    group["density"].to_numpy())
                   for (step, name, quantity), group in run.histograms.groupby(
                       ["step", "name", "quantity"], sort=False, observed=True)],
        dead_maps=run.dead_maps, model_states=run.model_states)
    return trainer


def continue_training(run: Run, steps: int, on_progress: ProgressCallback | None = None,
                      should_stop: StopRequest | None = None,
                      on_snapshot: Snapshots | None = None) -> Run:
    """Train ``run`` for ``steps`` more steps from its saved state; returns a new Run whose
    Config says how far it went: ``until`` while inside the run's steps, else ``more`` counts
    the steps past the schedule.

    Continued steps use the schedule's final learning rate and the same RNG streams, so the
    losses and weights equal those of one uninterrupted run: ``train(result.config)``. Its
    snapshots are the same too when ``run`` ended on one of that Config's snapshot steps
    (``continues_exactly``), which is what makes a link to a continued run reproduce it.
    Raises ConfigError when the longer run exceeds the caps (steps + more, snapshots, work).
    """
    if run.status == "diverged":
        raise ValueError("a diverged run cannot be continued; change the settings and retrain")
    config = longer_config(run.config, run.steps_done + steps)
    trainer = restore_trainer(run)
    if run.status == "stopped" and run.steps_done not in config.snapshot_steps():
        trainer.forget_snapshot(run.steps_done)  # taken for the stop alone
    trainer.adopt(config)
    _watch(trainer, on_snapshot)
    trainer.run(steps, on_progress, should_stop)
    return _run_of(trainer)


def longer_config(config: Config, total: int) -> Config:
    """``config`` trained to ``total`` steps: its first ``total`` steps (``until``) while
    that is inside them, else its steps with ``more`` after them."""
    if total < config.steps + config.more:
        return config.replace(until=total)
    return config.replace(until=0, more=max(config.more, total - config.steps))


def continues_exactly(run: Run) -> bool:
    """Whether continuing ``run`` gives exactly the run its longer Config trains in one go:
    it ended on a snapshot step of that Config (every interval, or the schedule's end), or
    was stopped by request (the engine stops only where resuming is exact)."""
    done, config = run.steps_done, run.config
    stopped = run.status == "stopped" and done == config.until
    return run.status != "diverged" and (stopped or done % config.snapshot_interval() == 0
                                         or done == config.steps)

"""A run's training done again from its Config, to rebuild weights it did not keep.

Below ``run`` (which asks for it) and beside ``training``: it needs the engine and the
data, not the Run, so a run can replay itself without the module that builds runs."""

from __future__ import annotations

import threading

import numpy as np

from .config import Config
from .data import load_dataset
from .engine.train import ProgressCallback, Trainer


def latest_kept(checkpoints, step: int) -> int:
    """The latest kept training state at or before ``step`` (0: training from the start)."""
    return max((kept for kept in checkpoints if kept <= step), default=0)


class Replay:
    """A run's training done again, to rebuild the weights at its snapshots (a run read
    from a file keeps a digest of them, not a copy: ``Run.model_states``).

    Training is deterministic, and recording changes no number, so training the run's
    Config again from step 0 (or from the latest of the run's ``checkpoints`` before the
    step: where it was resumed, which is where its BatchNorm blocks started afresh) with
    its checkpoints at the same steps gives the same weights bit for bit. The Trainer is
    kept between calls, so stepping forward through the snapshots trains each step once;
    every snapshot passed on the way is kept until asked for."""

    def __init__(self, config: Config, words: list[str] | None, checkpoints: dict[int, dict],
                 dtype: np.dtype):
        self.config, self.words = config, words
        self.checkpoints = dict(checkpoints)
        self.dtype = dtype
        self.trainer: Trainer | None = None
        self.states: dict[int, dict] = {}
        self.lock = threading.Lock()

    def state(self, step: int, on_progress: ProgressCallback | None = None) -> dict:
        """The model state at snapshot ``step``, handed over (the caller holds it);
        ``on_progress`` is told how the training goes (a long replay shows a bar)."""
        with self.lock:
            if step not in self.states:
                self._train_to(step, on_progress)
            return self.states.pop(step)

    def start(self, step: int) -> int:
        """The step a replay to ``step`` trains from: the latest kept state before it, or
        where this replay's trainer stands (an earlier or paused replay) if that is later."""
        start = latest_kept(self.checkpoints, step)
        trainer = self.trainer
        return trainer.step if trainer is not None and start <= trainer.step <= step else start

    def _train_to(self, step: int, on_progress: ProgressCallback | None) -> None:
        start = self.start(step)
        trainer = self.trainer
        if trainer is None or trainer.step != start:
            trainer = self.trainer = self._trainer_at(start)
        if trainer.step == step:
            self._keep(trainer, step)
            return
        trainer.on_checkpoint = lambda mark: self._keep(trainer, mark.step)
        # A callback that raises (a page that reran) stops the trainer between two steps
        # with its RNG settled: the next replay goes on from there.
        trainer.run(step - trainer.step, on_progress)

    def _keep(self, trainer: Trainer, step: int) -> None:
        model = trainer.model
        self.states[step] = {"params": model.flat.copy(),
                             "buffers": {k: v.copy() for k, v in model.buffers().items()}}

    def _trainer_at(self, step: int) -> Trainer:
        dataset = getattr(self, "dataset", None) or load_dataset(self.config, self.words)
        self.dataset = dataset
        trainer = Trainer(self.config, dataset, record=False, dtype=self.dtype)
        saved = self.checkpoints.get(step)
        if saved is not None:
            model = trainer.model
            model.flat[...] = saved["params"]
            for name, value in saved["buffers"].items():
                model.buffers()[name][...] = value
            trainer.optimizer.load_state(saved["optimizer"])
            trainer.batch_rng.bit_generator.state = saved["rng"]
            trainer.step = step
        return trainer

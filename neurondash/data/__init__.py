"""Datasets for every task, split under the seed, with the baselines a model should beat."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from .names import (
    bigram_counts,
    bigram_nll,
    encode,
    load_names,
    parse_word_list,
    unigram_entropy,
    vocabulary,
)
from .points import POINT_GENERATORS

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Dataset:
    """Train/val/test arrays plus what the dashboard needs to explain them.

    ``x`` holds context indices (N x context) for character tasks and coordinates (N x 2)
    for points; ``y`` the class (next character or point label).
    """

    task: str
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    n_inputs: int
    n_classes: int
    vocab: str | None = None
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    baselines: dict[str, float] = field(default_factory=dict)
    bigram_counts: np.ndarray | None = None
    source_words: tuple[str, ...] | None = None
    """The word list as given, before the split (what a run file keeps to rebuild it)."""

    @property
    def is_chars(self) -> bool:
        return self.vocab is not None

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.y.items())
        return f"Dataset({self.task}, classes={self.n_classes}, {sizes})"


def data_rngs(seed: int) -> dict[str, np.random.Generator]:
    """Independent streams, so changing e.g. the step count never changes the init."""
    names = ("data", "init", "batches", "diagnostics")
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children,
                                                                         strict=True)}


def word_order(n: int, seed: int) -> np.ndarray:
    """The order in which ``char_dataset`` deals n words out to train, val and test."""
    return data_rngs(seed)["data"].permutation(n)


def _split_counts(n: int, fractions: tuple[float, float]) -> tuple[int, int]:
    n_train = int(round(n * fractions[0]))
    n_val = int(round(n * fractions[1]))
    return n_train, n_train + n_val


def char_dataset(words: tuple[str, ...], context: int, seed: int, task: str = "names"
                 ) -> Dataset:
    """Split the words 80/10/10 *by word* under the seed and build the examples."""
    vocab = vocabulary(words)
    order = word_order(len(words), seed)
    a, b = _split_counts(len(words), (0.8, 0.1))
    parts = {"train": order[:a], "val": order[a:b], "test": order[b:]}
    split_words = {k: tuple(words[i] for i in idx) for k, idx in parts.items()}
    xs, ys = {}, {}
    for name, ws in split_words.items():
        xs[name], ys[name] = encode(ws, vocab, context)
    counts = bigram_counts(split_words["train"], vocab)
    baselines = {
        "uniform": math.log(len(vocab)),
        "unigram": unigram_entropy(counts),
        "bigram": bigram_nll(counts, split_words["val"], vocab, smoothing=1.0),
    }
    return Dataset(task, xs, ys, len(vocab), len(vocab), vocab, split_words, baselines, counts,
                   tuple(words))


def point_dataset(task: str, points: int, noise: float, train_frac: float, seed: int
                  ) -> Dataset:
    """Generate the points, then split train/val by ``train_frac`` (val doubles as test)."""
    rng = data_rngs(seed)["data"]
    x, y = POINT_GENERATORS[task](rng, points, noise)
    order = rng.permutation(points)
    n_train = int(round(points * train_frac))
    train, val = order[:n_train], order[n_train:]
    xs = {"train": x[train], "val": x[val], "test": x[val]}
    ys = {"train": y[train], "val": y[val], "test": y[val]}
    return Dataset(task, xs, ys, 2, 2, baselines={"uniform": math.log(2)})


@functools.lru_cache(maxsize=8)
def _cached(task: str, context: int, points: int, noise: float, train_frac: float, seed: int,
            words: tuple[str, ...] | None) -> Dataset:
    if task == "names":
        return char_dataset(load_names(), context, seed, task)
    if task == "words":
        return char_dataset(words, context, seed, task)
    return point_dataset(task, points, noise, train_frac, seed)


def load_dataset(config: Config, words: list[str] | tuple[str, ...] | None = None) -> Dataset:
    """The dataset a Config asks for; ``words`` is required for the 'words' task.

    Results are cached (they are read-only), so re-running a Config costs nothing here.
    """
    if config.task == "words":
        if not words:
            raise ValueError("task 'words' needs a word list (upload one, or pass words=...)")
        words = tuple(parse_word_list("\n".join(words)))
    key_words = tuple(words) if config.task == "words" else None
    if config.is_char_task:
        return _cached(config.task, config.context, 0, 0.0, 0.0, config.split_seed,
                       key_words)
    return _cached(config.task, 0, config.points, config.noise, config.train_frac,
                   config.split_seed, None)

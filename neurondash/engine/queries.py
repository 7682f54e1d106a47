"""Questions the dashboard asks a trained model (all in eval mode, none change it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..parts.arrays import distinct_rows
from ..parts.losses import softmax
from .model import Model

MAX_WORD_LENGTH = 40
CHUNK = 16384


def _forward(model: Model, x: np.ndarray) -> np.ndarray:
    """An eval-mode forward pass for a query: a model whose weights grew huge (a run about
    to diverge) overflows to inf or NaN, which the views show as such, not as an error."""
    with np.errstate(all="ignore"):
        return model.forward(x, train=False)


def dead_on_split(model: Model, x: np.ndarray) -> dict[str, int]:
    """``dead_units`` over a whole split: each distinct input once (character contexts
    repeat; 2-D points do not)."""
    return dead_units(model, distinct_rows(x)[0] if x.dtype.kind in "iu" else x)


def dead_units(model: Model, x: np.ndarray) -> dict[str, int]:
    """Per hidden layer, the units dead on every row of ``x``: saturated (tanh, sigmoid) or
    inactive (ReLU) by the activation's strict ``dead`` rule, in eval mode.

    This is the count the word "dead" may be used for when ``x`` is a whole split (a unit
    inactive on all of a sample may still be active elsewhere). In eval mode the model is a
    fixed function of its input, so repeated inputs (character contexts) need one row each.
    """
    alive = {block.index: np.zeros(block.width, dtype=bool) for block in model.blocks}
    for lo in range(0, len(x), CHUNK):
        _forward(model, x[lo:lo + CHUNK])
        for block in model.blocks:
            layer = model.layers[block.activation]
            rule = layer.activation.dead
            if rule is None:  # no output of this activation stops its gradient
                alive[block.index][:] = True
            else:
                alive[block.index] |= ~rule(layer.x, layer.y).all(axis=0)
    return {block.name: int(np.count_nonzero(~alive[block.index]))
            for block in model.blocks}


def sample_words(model: Model, vocab: str, context: int, count: int = 20, seed: int = 0
                 ) -> list[str]:
    """Sample ``count`` words character by character, all words in parallel."""
    rng = np.random.default_rng(seed)
    contexts = np.zeros((count, context), dtype=np.int64)
    chars = np.zeros((count, MAX_WORD_LENGTH), dtype=np.int64)
    alive = np.ones(count, dtype=bool)
    for position in range(MAX_WORD_LENGTH):
        probs = softmax(_forward(model, contexts).astype(np.float64))
        cumulative = probs.cumsum(axis=1)
        draws = rng.random(count)[:, None] * cumulative[:, -1:]
        nxt = np.minimum((cumulative < draws).sum(axis=1), len(vocab) - 1)
        nxt[~alive] = 0
        chars[:, position] = nxt
        alive &= nxt != 0
        if not alive.any():
            break
        contexts = np.concatenate([contexts[:, 1:], nxt[:, None]], axis=1)
    return ["".join(vocab[i] for i in row[row != 0]) if (row == 0).any() else
            "".join(vocab[i] for i in row) for row in chars]


def encode_context(text: str, vocab: str, context: int) -> np.ndarray:
    """The last ``context`` characters of '.'*context + text as indices.

    Raises ValueError naming characters the vocabulary does not have.
    """
    text = text.lower()
    unknown = sorted(set(text) - set(vocab[1:]))
    if unknown:
        raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
    padded = vocab[0] * context + text
    return np.array([[vocab.index(c) for c in padded[len(padded) - context:]]])


def next_char_probs(model: Model, vocab: str, context: int, text: str) -> np.ndarray:
    """P(next character | the typed text), over the vocabulary."""
    logits = _forward(model, encode_context(text, vocab, context))
    return softmax(logits.astype(np.float64))[0]


def bigram_table(model: Model, vocab_size: int) -> np.ndarray:
    """V x V table P(next | previous) of a context-1 model: row = previous character."""
    logits = _forward(model, np.arange(vocab_size)[:, None])
    return softmax(logits.astype(np.float64))


def plane_grid(bounds: tuple[float, float, float, float], resolution: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid coordinates xs, ys over (xmin, xmax, ymin, ymax) and the grid's points, row by
    row (y outer, x inner), as model inputs."""
    xs = np.linspace(bounds[0], bounds[1], resolution)
    ys = np.linspace(bounds[2], bounds[3], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def grid_probs(model: Model, bounds: tuple[float, float, float, float], resolution: int = 60
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(class 1) on a resolution x resolution grid over (xmin, xmax, ymin, ymax)."""
    xs, ys, points = plane_grid(bounds, resolution)
    probs = softmax(_forward(model, points).astype(np.float64))[:, 1]
    return xs, ys, probs.reshape(resolution, resolution)


def grid_activations(model: Model, block: int, bounds: tuple[float, float, float, float],
                     resolution: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unit of one hidden layer over a grid of 2-D inputs: what each neuron computes
    over the plane, as TensorFlow Playground draws it. Values have shape
    (resolution, resolution, units), y outer as in ``grid_probs``."""
    xs, ys, points = plane_grid(bounds, resolution)
    _forward(model, points)
    values = model.layers[model.blocks[block].activation].y.astype(np.float64)
    return xs, ys, values.reshape(resolution, resolution, -1)


def embedding_points(model: Model) -> tuple[np.ndarray, float]:
    """Each character's embedding as a point in 2-D, and the share of the embeddings'
    variance those two axes show (1.0 when the embedding has at most two dimensions).

    Wider embeddings are projected on their first two principal components, each signed so
    that its largest loading is positive: the picture does not flip between snapshots.
    """
    table = model.layers[0].params["weight"].astype(np.float64)
    if table.shape[1] <= 2:
        return np.pad(table, ((0, 0), (0, 2 - table.shape[1]))), 1.0
    centered = table - table.mean(axis=0)
    _, singular, components = np.linalg.svd(centered, full_matrices=False)
    axes = components[:2]
    largest = axes[np.arange(2), np.abs(axes).argmax(axis=1)]
    axes = axes * np.where(largest < 0, -1.0, 1.0)[:, None]
    total = float(np.sum(singular**2))
    shown = float(np.sum(singular[:2] ** 2)) / total if total > 0 else 1.0
    return centered @ axes.T, shown


@dataclass(frozen=True)
class NeuronTrace:
    """One hidden unit on one example: the textbook neuron with this network's numbers."""

    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    weighted_sum: float
    bias: float | None
    """None for a layer without one (followed by BatchNorm, whose shift stands in)."""
    linear: float
    normalized: float | None
    output: float
    activation: str
    pre_activations: np.ndarray
    """The unit's input to its activation on every row of ``x`` (the histogram behind it)."""
    positions: int
    """Rows per example: groups of positions in a fused (hierarchical) layer, else 1."""


def trace_neuron(model: Model, x: np.ndarray, block: int, unit: int, example: int
                 ) -> NeuronTrace:
    """Inputs, weights, products, sum, bias, pre-activation and output of one unit.

    ``x`` is a batch of model inputs; the forward runs in eval mode so each example's
    numbers do not depend on the rest of the batch. In a fused (hierarchical) model a layer
    below the top sees an example at several groups of positions; the trace is of the last.
    """
    info = model.blocks[block]
    _forward(model, x)
    linear = model.layers[info.linear]
    act_layer = model.layers[info.activation]
    # A fusing layer sees each example as several rows, one per group of positions: take
    # the example's last (the positions next to the character being predicted).
    positions = linear.x.shape[0] // len(x)
    row = (example + 1) * positions - 1
    inputs = np.asarray(linear.x[row], dtype=np.float64)
    weights = np.asarray(linear.params["weight"][:, unit], dtype=np.float64)
    products = inputs * weights
    bias = float(linear.params["bias"][unit]) if linear.has_bias else None
    weighted_sum = float(products.sum())
    normalized = None
    if info.norm is not None:
        normalized = float(act_layer.x[row, unit])
    return NeuronTrace(inputs, weights, products, weighted_sum, bias, weighted_sum + (bias or 0.0),
                       normalized, float(act_layer.y[row, unit]),
                       act_layer.activation.name,
                       np.array(act_layer.x[:, unit], dtype=np.float64), positions)

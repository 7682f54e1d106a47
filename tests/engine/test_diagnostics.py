"""Diagnostics building blocks: the pre-binned histogram and the ranges it is drawn over."""

from __future__ import annotations

import numpy as np
import pytest

from neurondash import Config
from neurondash.data import load_dataset
from neurondash.engine.diagnostics import BINS, histogram
from neurondash.engine.train import Trainer
from neurondash.parts.activations import ACTIVATIONS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogram_matches_numpy_inside_the_range(dtype):
    values = np.random.default_rng(0).standard_normal(10_000).astype(dtype)
    edges, density = histogram(values, -5.0, 5.0)
    expected, expected_edges = np.histogram(values, bins=BINS, range=(-5.0, 5.0), density=True)
    np.testing.assert_allclose(edges, expected_edges)
    np.testing.assert_allclose(density, expected, rtol=1e-12)


def test_histogram_default_range_is_symmetric_and_keeps_every_value():
    values = np.array([-0.5, 0.1, 0.2, 2.0])
    edges, density = histogram(values)
    assert edges[0] == -2.0 and edges[-1] == 2.0 and len(edges) == BINS + 1
    counts = density * np.diff(edges) * values.size
    np.testing.assert_allclose(counts.sum(), values.size)
    assert counts[-1] == pytest.approx(1.0)  # the maximum lands in the last bin


def test_histogram_clips_outliers_into_the_end_bins_and_drops_non_finite():
    values = np.array([-10.0, 0.5, 10.0, np.nan, np.inf])
    edges, density = histogram(values, 0.0, 1.0, bins=4)
    counts = density * np.diff(edges) * 3
    np.testing.assert_allclose(counts, [1.0, 0.0, 1.0, 1.0])
    _, integers = histogram(np.arange(4), 0.0, 4.0, bins=4)
    np.testing.assert_allclose(integers, [0.25] * 4)


def test_histogram_of_denormal_values_keeps_every_value():
    # A collapsed layer's float32 gradients can all be denormal: the bin width's reciprocal
    # then overflows float32, which once turned every bin index into NaN and raised.
    tiny = np.finfo(np.float32).smallest_subnormal
    values = np.array([-600, -3, 0, 1, 600], np.float32) * tiny
    edges, density = histogram(values)
    counts = density * np.diff(edges.astype(np.float64)) * values.size
    np.testing.assert_allclose(counts.sum(), values.size)
    assert counts[0] == pytest.approx(1.0) and counts[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_histograms_span_what_the_function_can_output(name):
    """A bounded function's histogram spans its range; any other spans the values it gave
    (a ReLU layer's from 0, never a mirror image of nothing below it)."""
    config = Config(task="moons", act=name, steps=20, depth=2, width="16")
    trainer = Trainer(config, load_dataset(config))
    trainer.run(config.total_steps)
    model, recorder = trainer.model, trainer.recorder
    for block in model.blocks:
        out = model.layers[block.activation].y
        edges = next(row[3] for row in reversed(recorder.hist_rows)
                     if row[1] == block.name and row[2] == "activation")
        low, high = ACTIVATIONS[name].output_range or (out.min(), out.max())
        assert (edges[0], edges[-1]) == pytest.approx((low, high), rel=1e-6, abs=1e-7)
        assert edges[0] <= out.min() and out.max() <= edges[-1]
        if name == "relu":
            assert edges[0] == 0.0

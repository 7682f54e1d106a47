"""Training: known answers, determinism, divergence, stop, continue, bounded memory."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from neurondash import Config, Run, continue_training, train
from neurondash.data import load_dataset
from neurondash.engine.diagnostics import Recorder
from neurondash.engine.model import build_model
from neurondash.engine.train import (
    BATCH_DRAWS,
    BatchDraws,
    Trainer,
    distinct_rows,
    split_metrics,
)
from neurondash.parts.activations import ACTIVATIONS
from neurondash.parts.losses import cross_entropy, log_softmax
from neurondash.run import TABLES
from neurondash.training import continues_exactly

SMALL = Config(depth=2, width="32", steps=200, batch=32)


def test_zero_output_layer_gives_exactly_ln_v():
    config = Config(out_scale=0.0)
    data = load_dataset(config)
    model = build_model(config, 27, 27, np.random.default_rng(0), np.float64)
    loss, _ = cross_entropy(model.forward(data.x["train"][:512]), data.y["train"][:512])
    assert loss == math.log(27)
    run = train(config.replace(steps=1))
    assert run.initial_loss == pytest.approx(math.log(27), abs=1e-6)


def test_same_config_is_bit_identical_and_seed_matters():
    first, second = train(SMALL), train(SMALL)
    pd.testing.assert_frame_equal(first.history, second.history, check_exact=True)
    pd.testing.assert_frame_equal(first.layers, second.layers, check_exact=True)
    assert np.array_equal(first.state["params"], second.state["params"])
    assert first.final == second.final
    other = train(SMALL.replace(seed=1))
    assert not np.array_equal(other.state["params"], first.state["params"])


def test_bigram_net_reaches_the_counting_model():
    """Context 1, no hidden layer, embed >= V: the net converges to the count table."""
    config = Config(context=1, depth=0, embed_dim=27, opt="adam", lr=0.1, batch=2048, steps=600,
                    out_scale=0.0)
    run = train(config)
    assert run.final["val_loss"] == pytest.approx(run.baselines["bigram"], abs=0.01)


def test_fusing_the_whole_context_at_once_is_the_flat_mlp():
    """FlattenConsecutive(context) then Linear is the flat MLP's first layer: same numbers."""
    flat, fused = (train(Config(context=4, depth=2, width="16", norm="batch", steps=60,
                                fuse=fuse)) for fuse in (0, 4))
    np.testing.assert_array_equal(flat.history["loss"], fused.history["loss"])
    np.testing.assert_array_equal(flat.state["params"], fused.state["params"])


def test_a_hierarchical_model_trains_and_measures_positions_as_rows():
    run = train(Config(context=8, fuse=2, depth=3, width="32", norm="batch", steps=300))
    assert run.status == "finished" and run.final["val_loss"] < run.initial_loss - 0.4
    assert len(run.layers["layer"].unique()) == 3


def test_divergence_is_reported_not_raised():
    run = train(Config(act="relu", init="normal", lr=10.0, steps=500))
    assert run.status == "diverged"
    assert run.diverged_step is not None and run.diverged_step < 500
    assert "diverged at step" in run.message
    assert len(run.history) == run.steps_done + (1 if "loss became" in run.message else 0)
    assert run.snapshot_steps[0] == 0 and len(run.layers) > 0
    assert run.final == {}
    with pytest.raises(ValueError, match="diverged"):
        continue_training(run, 10)


def test_progress_and_stop_request():
    seen = []
    run = train(SMALL.replace(steps=1000), on_progress=seen.append,
                should_stop=lambda: seen[-1].step >= 300)
    assert run.status == "stopped" and 300 <= run.steps_done < 1000
    assert seen[0].step < seen[-1].step and seen[-1].total == 1000
    assert run.snapshot_steps[-1] == run.steps_done
    assert "Stopped" in run.message


def test_continue_training_matches_one_long_run():
    config = SMALL.replace(sched="constant", steps=300)
    whole = train(config)
    part = train(config.replace(steps=200))
    more = continue_training(part, 100)
    assert more.steps_done == 300
    assert np.array_equal(more.history["loss"].to_numpy(), whole.history["loss"].to_numpy())
    assert np.array_equal(more.state["params"], whole.state["params"])
    via_json = continue_training(Run.from_json(part.to_json()), 100)
    assert np.array_equal(via_json.state["params"], whole.state["params"])


@pytest.mark.parametrize(("steps", "snap_every"), [(60, 0), (37, 0), (40, 8), (40, 7)])
def test_a_continued_run_is_the_run_of_its_longer_config(steps, snap_every):
    """What makes a link to a continued run reproduce it: continuing from the end of the
    schedule (and again from a snapshot step) gives, bit for bit, the run that the Config
    with `more` trains in one go: every series, table, snapshot and weight."""
    config = SMALL.replace(steps=steps, snap_every=snap_every, norm="batch")
    once = continue_training(train(config), steps)
    assert once.config == config.replace(more=steps)
    assert_same_run(once, train(once.config))
    assert continues_exactly(once) == (2 * steps % once.config.snapshot_interval() == 0)
    twice = continue_training(once, steps)
    assert twice.config.more == 2 * steps and twice.steps_done == 3 * steps
    whole = train(twice.config)
    if continues_exactly(once):
        assert_same_run(twice, whole)
    else:  # one extra snapshot, where `once` ended; the numbers are still the same
        assert set(twice.snapshot_steps) - set(whole.snapshot_steps) == {2 * steps}
    assert np.array_equal(twice.history["loss"], whole.history["loss"])
    assert np.array_equal(twice.state["params"], whole.state["params"])


def test_continuing_past_the_weight_copy_budget_drops_the_copies_as_one_run_would():
    config = Config(depth=2, width="300", steps=50)  # 108k parameters, 26 snapshots
    base = train(config)
    assert base.model_states, "26 copies fit the budget"
    more = continue_training(base, 50)  # 51 snapshots x 108k parameters do not
    assert more.model_states == {} and train(more.config).model_states == {}


def assert_same_run(a: Run, b: Run) -> None:
    assert a.config == b.config and a.final == b.final
    assert a.snapshot_steps == b.snapshot_steps == a.config.snapshot_steps()
    for name in ("history", *TABLES):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert np.array_equal(a.state["params"], b.state["params"])
    assert set(a.model_states) == set(b.model_states)


def test_a_run_stopped_mid_block_continues_like_one_long_run():
    """Batches are drawn many steps at a time; a stop in the middle of a block must leave
    the RNG where one draw per step would, so continuing gives the same numbers."""
    config = SMALL.replace(sched="constant", steps=300)
    whole = train(config)
    seen = []
    stopped = train(config, on_progress=seen.append, should_stop=lambda: seen[-1].step >= 37)
    assert stopped.status == "stopped" and stopped.steps_done % BATCH_DRAWS != 0
    more = continue_training(stopped, 300 - stopped.steps_done)
    assert np.array_equal(more.history["loss"].to_numpy(), whole.history["loss"].to_numpy())
    assert np.array_equal(more.state["params"], whole.state["params"])


@pytest.mark.parametrize("batch", [32, 33])
def test_batch_draws_equal_one_draw_per_step(batch):
    bulk, single = np.random.default_rng(3), np.random.default_rng(3)
    draws = BatchDraws(bulk, 182_000, batch)
    taken = [draws.next(1000) for _ in range(BATCH_DRAWS + 10)]
    draws.settle()
    expected = [single.integers(0, 182_000, batch) for _ in range(BATCH_DRAWS + 10)]
    assert np.array_equal(np.array(taken), np.array(expected))
    assert bulk.bit_generator.state == single.bit_generator.state


def test_snapshots_follow_the_design():
    run = train(SMALL.replace(steps=250, snap_every=100))
    assert run.snapshot_steps == [0, 100, 200, 250]
    assert set(run.layers["layer"]) == {"hidden 1", "hidden 2"}
    assert len(run.weights["param"].unique()) == 4  # embedding, 2 hidden, output
    columns = [c for c in run.history.columns if c.startswith("layers.")]
    assert columns == run.matrix_names
    late = run.history[columns].iloc[50:].dropna().to_numpy()
    assert len(late) >= 200 // 11 and np.all(np.isfinite(late)) and -6 < np.median(late) < -1
    density = run.histograms.groupby(["step", "name", "quantity"], observed=True).apply(
        lambda g: float((g["density"] * (g["bin_end"] - g["bin_start"])).sum()))
    assert np.allclose(density.to_numpy(), 1.0)


@pytest.mark.parametrize("opt", ["sgd", "adamw"])
def test_update_data_is_the_std_ratio_of_the_applied_update(opt):
    """Every step's update:data equals log10(std(dW)/std(W)) computed from scratch, over
    more steps than the carried sums go between recomputations."""
    config = SMALL.replace(opt=opt, lr=0.05 if opt == "sgd" else 0.01, wd=0.01, steps=150)
    trainer = Trainer(config, load_dataset(config))
    model, step = trainer.model, trainer.optimizer.step
    expected = []

    def checked_step(params, grad, lr):
        update = step(params, grad, lr)
        expected.append([
            math.log10(update[sl].astype(np.float64).std() / params[sl].astype(np.float64).std())
            for sl in (model.slices[k] for k in model.matrix_indices())])
        return update

    trainer.optimizer.step = checked_step
    trainer.run(config.steps)
    recorded = trainer.recorder.update_data[:config.steps]
    measured = np.arange(config.steps) % trainer.recorder.stride == 0
    assert len(expected) == config.steps > 2 * trainer.recorder.matrix_sums.RESYNC
    np.testing.assert_allclose(recorded[measured], np.array(expected)[measured], atol=2e-5)
    assert np.isnan(recorded[~measured]).all()


def test_update_data_is_measured_every_few_steps_where_a_step_does_little_work():
    """Small batches and narrow layers are measured every few steps (at most every 11th,
    as the README says), wide layers with large batches every step, and a larger batch is
    never measured less often (see UPDATE_DATA_SHARE)."""
    import itertools

    from neurondash.config import ConfigError
    from neurondash.engine.diagnostics import update_data_stride
    from neurondash.engine.model import build_model

    def stride(**settings) -> int:
        config = Config(**settings)
        model = build_model(config, 27, 27, np.random.default_rng(0), np.float32)
        return update_data_stride(model, config.batch)

    assert stride(batch=256, width="512", depth=5) == 1 < stride(batch=4)
    for width, depth, norm in itertools.product(("1", "100", "1024"), (1, 4, 12),
                                                ("none", "batch")):
        try:
            strides = [stride(batch=batch, width=width, depth=depth, norm=norm)
                       for batch in (1, 8, 32, 256, 4096)]
        except ConfigError:  # over the parameter cap
            continue
        assert strides == sorted(strides, reverse=True) and max(strides) <= 11, strides


def test_a_long_run_measures_update_data_at_about_4000_steps():
    """Past LONG_RUN_STEPS the stride grows with the steps (about UPDATE_DATA_POINTS
    measurements); up to it, and wherever the cost rule is sparser, it is the cost rule's."""
    from neurondash.engine import LONG_RUN_STEPS
    from neurondash.engine.diagnostics import UPDATE_DATA_POINTS, update_data_stride
    from neurondash.engine.model import build_model

    for settings in ({}, {"batch": 256, "width": "512", "depth": 5}, {"batch": 1}):
        config = Config(**settings)
        model = build_model(config, 27, 27, np.random.default_rng(0), np.float32)
        cost = update_data_stride(model, config.batch)
        for steps in (1_000, LONG_RUN_STEPS, LONG_RUN_STEPS + 1, 77_777, 200_000):
            stride = update_data_stride(model, config.batch, steps)
            if steps <= LONG_RUN_STEPS:
                assert stride == cost, (settings, steps)
            else:
                assert stride == max(cost, -(-steps // UPDATE_DATA_POINTS)), (settings, steps)
                assert -(-steps // stride) <= UPDATE_DATA_POINTS


def test_a_strided_update_data_series_continues_exactly():
    """With a stride, a continued run still equals the run trained in one go."""
    config = SMALL.replace(batch=4, steps=100)
    whole = train(config.replace(more=30))
    assert_same_run(continue_training(train(config), 30), whole)
    series = whole.history[whole.matrix_names].to_numpy()
    stride = Trainer(config, load_dataset(config)).recorder.stride
    assert stride > 1 and np.isfinite(series[::stride]).all()
    assert np.isnan(np.delete(series, np.s_[::stride], axis=0)).all()


def test_a_long_runs_sparser_update_data_continues_exactly(monkeypatch):
    """The long-run stride is one of the Config's steps, not of the steps trained so far:
    a long run stopped and continued measures the steps of one run trained in one go."""
    from neurondash.engine import diagnostics

    monkeypatch.setattr(diagnostics, "LONG_RUN_STEPS", 50)
    monkeypatch.setattr(diagnostics, "UPDATE_DATA_POINTS", 8)
    config = SMALL.replace(steps=100)
    whole = train(config)
    assert_same_run(continue_training(train(config.replace(until=40)), 60), whole)
    series = whole.history[whole.matrix_names].to_numpy()
    assert np.isfinite(series[::13]).all() and np.isnan(np.delete(series, np.s_[::13], 0)).all()


def _init_stats(act: str, init_scale: float, norm: str = "none") -> pd.DataFrame:
    run = train(Config(depth=5, width="100", act=act, init_scale=init_scale, norm=norm,
                       steps=1, batch=32))
    return run.layers[run.layers["step"] == 0]


def test_deep_tanh_init_reference_numbers():
    """docs/DESIGN.md: gain 5/3 keeps std ~0.65-0.75 and 5-20% saturated; gain 3 saturates
    40-48%; gain 0.5 collapses activations to ~0.02."""
    kaiming = _init_stats("tanh", 1.0)
    assert kaiming["act_std"].between(0.6, 0.8).all()
    assert kaiming["saturated_pct"].iloc[1:].between(2, 20).all()
    hot = _init_stats("tanh", 3 / (5 / 3))
    assert hot["saturated_pct"].iloc[1:].between(35, 55).all()
    cold = _init_stats("tanh", 0.5 / (5 / 3))
    assert cold["act_std"].iloc[-1] < 0.05
    assert cold["grad_std"].iloc[0] < cold["grad_std"].iloc[-1]


def test_batchnorm_makes_init_scale_irrelevant():
    small = _init_stats("tanh", 0.05, norm="batch")["act_std"].to_numpy()
    large = _init_stats("tanh", 20.0, norm="batch")["act_std"].to_numpy()
    assert np.allclose(small, large, atol=0.02)


def test_dead_relus_are_counted():
    """Zero weights and random biases: every unit is constant, so negative-bias units are
    inactive for every example, i.e. dead."""
    run = train(Config(act="relu", steps=1, bias_init=1.0, init="zero"))
    first = run.layers[run.layers["step"] == 0]
    assert first["dead_units"].between(25, 75).all()
    assert first["saturated_pct"].to_numpy() == pytest.approx(first["dead_units"].to_numpy())


def test_recorder_memory_is_bounded_for_the_longest_run():
    config = Config(depth=12, width="200", steps=200_000, batch=1)
    data = load_dataset(config)
    model = build_model(config, 27, 27, np.random.default_rng(0))
    recorder = Recorder(model, data.x["train"][:8], data.y["train"][:8], config.steps, 1)
    per_step = recorder.loss.nbytes + recorder.lr.nbytes + recorder.update_data.nbytes
    assert per_step < 20e6
    assert config.snapshot_count() <= 30


@pytest.mark.parametrize(("base", "columns"), [(27, 3), (100, 10)])
def test_distinct_rows_rebuild_every_row(base, columns):
    """Small rows are encoded as integers; long ones (here 66 bits) take np.unique."""
    x = np.random.default_rng(0).integers(0, base, (5000, columns))
    x[1000:2000] = x[:1000]
    inputs, row = distinct_rows(x)
    assert np.array_equal(inputs[row], x)
    assert len(inputs) == len(np.unique(x, axis=0)) < len(x)


def test_split_metrics_equal_the_per_example_computation():
    config = SMALL.replace(norm="batch", steps=50)
    trainer = Trainer(config, load_dataset(config), dtype=np.float64)
    trainer.run(config.steps)
    x, y = trainer.dataset.x["val"], trainer.dataset.y["val"]
    logits = trainer.model.forward(x, train=False)
    expected = -log_softmax(logits)[np.arange(len(y)), y].mean()
    loss, accuracy = split_metrics(trainer.model, x, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert accuracy == np.mean(logits.argmax(axis=1) == y)


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_every_activation_and_norm_trains_in_float32(act, norm):
    """The engine's products write into float32 buffers with np.dot, which refuses another
    dtype: a float64 constant anywhere in a layer would stop training here."""
    run = train(Config(act=act, norm=norm, depth=2, width="8", steps=3, batch=4))
    assert run.status == "finished", run.message
    assert np.isfinite(run.history["loss"]).all()


def test_weight_decay_reaches_every_matrix_and_nothing_else():
    """The embedding decays with the weights (else a bigram net escapes the decay by
    growing its embedding); biases and BatchNorm's gain and shift do not."""
    from neurondash.engine.model import build_model

    config = Config(depth=2, width="16", norm="batch")
    model = build_model(config, 27, 27, np.random.default_rng(0), np.float64)
    mask = model.decay_mask()
    for sl, role in zip(model.slices, model.roles, strict=True):
        assert (mask[sl] == (role in ("weight", "embedding"))).all(), role
    assert {"embedding", "weight"} < set(model.roles) and len(set(model.roles)) > 2

"""Does an imported Run fit together? Checked against the engine, before anything uses it.

The schema (``runfile``) has checked each field on its own. Here the fields are checked
against each other and against what the engine builds for the run's Config: a trainer
for that Config, measured once at step 0, has exactly the tables, layer names, array
shapes, buffers and optimizer state a genuine file of it holds. Every failure raises
RunFormatError naming the part that does not fit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .data import load_dataset
from .data.names import WordListError, load_names, parse_word_list, vocabulary
from .run import Run
from .runfile import RunFormatError

SPLITS = ("train", "val", "test")


def read_run_file(text: str | bytes) -> Run:
    """A run file from anybody (an upload, ``runs import``): parsed, then checked here.

    Fields that parse but do not fit together would break views or Continue long after the
    import: they are refused now, saying which part does not fit. The reference is the
    engine itself: a trainer for this Config, measured once at step 0, has the tables,
    layers, arrays and optimizer state that the file must match."""
    run = Run.from_json(text)
    check_run(run)
    return run


def check_run(run: Run) -> None:
    """Raise RunFormatError unless ``run`` is one the engine could have written."""
    _check_words(run)
    try:
        dataset = load_dataset(run.config, run.words)
    except (ValueError, WordListError) as err:
        raise RunFormatError(f"the run's data cannot be rebuilt ({err})") from None
    from .engine.train import Trainer

    reference = Trainer(run.config, dataset, record=True)
    reference.recorder.snapshot(0)
    _check_progress(run)
    _check_final(run, dataset)
    _check_tables(run, reference)
    _check_arrays(run, reference)
    _check_dead_units(run, reference.model)
    if run.diagnostic_examples not in (None, len(reference.recorder.diag_y)):
        _fail("the diagnostic batch size does not match the run's data")


def _fail(what: str) -> None:
    raise RunFormatError(what)


def _check_words(run: Run) -> None:
    config = run.config
    if config.task != "words":
        if run.words is not None:
            _fail(f"the file carries a word list, but task {config.task!r} does not use one")
        expected = vocabulary(load_names()) if config.task == "names" else None
    else:
        if run.words is None:
            _fail("task 'words' needs the run's word list, and the file has none")
        try:
            valid = parse_word_list("\n".join(run.words))
        except WordListError as err:
            raise RunFormatError(f"the file's word list is not valid: {err}") from None
        if tuple(valid) != run.words:
            _fail("the file's word list is not in its normal form (lowercase, trimmed)")
        expected = vocabulary(run.words)
    if run.vocab != expected:
        _fail("the file's vocabulary does not match its task's characters")


def _check_progress(run: Run) -> None:
    """Steps, status and history length agree with each other and with the Config."""
    config, steps = run.config, run.steps_done
    if steps > config.total_steps:
        _fail(f"steps_done {steps:,} is more than the config's {config.total_steps:,} steps")
    if run.state["step"] != steps:
        _fail("the trained state's step does not match steps_done")
    if (run.status == "diverged") != (run.diverged_step is not None):
        _fail("diverged_step must be given exactly when the status is 'diverged'")
    if run.diverged_step is not None and run.diverged_step > steps:
        _fail("diverged_step is after the last step")
    if run.status == "finished" and steps != config.total_steps:
        _fail(f"a finished run has trained all {config.total_steps:,} steps, not {steps:,}")
    history = run.history
    if not steps <= len(history) <= steps + 1:
        _fail(f"the history has {len(history):,} steps for a run of {steps:,}")
    if not np.array_equal(history["step"].to_numpy(), np.arange(1, len(history) + 1)):
        _fail("the history's steps are not 1, 2, 3, ...")


def _check_final(run: Run, dataset) -> None:
    """Final metrics: none for a diverged run, else finite ones for every split that has
    examples; baselines equal to what the data gives."""
    expected_keys = {f"{split}_{metric}" for split in SPLITS if len(dataset.y[split])
                     for metric in ("loss", "acc")}
    if run.status == "diverged":
        if run.final:
            _fail("a diverged run has no final metrics")
    elif set(run.final) != expected_keys:
        _fail(f"the final metrics must be {sorted(expected_keys)}")
    for key, value in run.final.items():
        if not math.isfinite(value) or (key.endswith("_acc") and value > 1):
            _fail(f"final {key} is {value}, not a finite "
                  + ("share from 0 to 1" if key.endswith("_acc") else "loss"))
    if set(run.baselines) != set(dataset.baselines) or any(
            not math.isclose(run.baselines[k], v, rel_tol=1e-9, abs_tol=1e-12)
            for k, v in dataset.baselines.items()):
        _fail("the file's baselines do not match its data")


def _reference_tables(reference) -> dict[str, pd.DataFrame]:
    rec = reference.recorder
    return {"layers": pd.DataFrame(rec.layer_rows), "weights": pd.DataFrame(rec.weight_rows),
            "logits": pd.DataFrame(rec.logit_rows), "histograms": rec.histogram_frame(),
            "evals": pd.DataFrame(columns=["step", "val_loss", "val_acc"])}


def _check_tables(run: Run, reference) -> None:
    """Same columns of the same kinds as the engine writes, rows only at snapshot steps,
    and at every snapshot the layers, matrices and histograms the model has."""
    rec = reference.recorder
    if run.matrix_names != list(rec.matrix_names):
        _fail("the history in the file does not match its weight matrices")
    if list(run.history.columns) != ["step", "loss", "lr", *rec.matrix_names]:
        _fail("the history in the file does not match its weight matrices")
    # Each table's columns, their kinds and ranges were checked by the schema
    # (runfile.TABLE_COLUMNS); here they are checked against this model.
    references = _reference_tables(reference)
    steps = run.snapshot_steps
    if steps and (steps[0] != 0 or steps[-1] > run.steps_done):
        _fail("the snapshots are not between step 0 and the last step")
    evals = run.evals["step"].to_numpy()
    if len(evals) and (evals.min() < 0 or evals.max() > run.steps_done):
        _fail("the validation checkpoints are not between step 0 and the last step")
    for name, key in (("layers", "layer"), ("weights", "param")):
        table = getattr(run, name)
        expected = references[name]
        want = sorted(expected[key].astype(str)) if len(expected) else []
        if not want:
            if len(table):
                _fail(f"the {name} table has rows this model does not make")
            continue
        for step in steps:
            got = sorted(table.loc[table["step"] == step, key].astype(str))
            if got != want:
                _fail(f"the {name} table does not list this model's {key}s at step {step}")
        if len(table) != len(want) * len(steps):
            _fail(f"the {name} table has rows outside the snapshot steps")
    _check_histograms(run, references["histograms"], steps)
    _check_dead_maps(run, rec, steps)


def _check_histograms(run: Run, expected: pd.DataFrame, steps: list[int]) -> None:
    table = run.histograms
    if not len(expected):
        if len(table):
            _fail("the histograms table has rows this model does not make")
        return
    if not len(table) and not steps:
        return  # trained without recording
    bins = len(expected) // expected.groupby(["name", "quantity"], observed=True).ngroups
    want = sorted(map(tuple, expected[["name", "quantity"]].astype(str).drop_duplicates()
                      .to_numpy()))
    if len(table) != len(want) * bins * len(steps):
        _fail("the histograms table does not have one set of histograms per snapshot")
    for step in steps:
        rows = table[table["step"] == step]
        groups = rows.groupby(["name", "quantity"], observed=True).size()
        got = sorted((str(n), str(q)) for n, q in groups.index)
        if got != want or set(groups) != {bins}:
            _fail(f"the histograms at step {step} do not match this model's layers")
    edges = table[["bin_start", "bin_end"]].to_numpy()
    density = table["density"].to_numpy()
    if not (np.all(np.isfinite(edges)) and np.all(edges[:, 0] <= edges[:, 1])
            and np.all(np.isfinite(density)) and np.all(density >= 0)):
        _fail("the histograms hold bins that are not finite, ordered and non-negative")


def _check_dead_maps(run: Run, rec, steps: list[int]) -> None:
    expected = rec.dead_maps.get(0, {})
    if not expected:
        if any(run.dead_maps.values()) or (steps and set(run.dead_maps) - set(steps)):
            _fail("the dead-unit maps in the file do not match its layers")
        return
    if set(run.dead_maps) != set(steps):
        _fail("the dead-unit maps in the file do not match its layers")
    for maps in run.dead_maps.values():
        if set(maps) != set(expected) or any(
                maps[k].dtype != np.uint8 or maps[k].shape != v.shape
                for k, v in expected.items()):
            _fail("the dead-unit maps in the file do not match its layers")


def _check_dead_units(run: Run, model) -> None:
    """The split-wide dead count names each hidden layer once, within its width."""
    if run.dead_units is None:
        return
    if run.status == "diverged":
        _fail("a diverged run has no dead-unit count")
    widths = {block.name: block.width for block in model.blocks}
    if set(run.dead_units) != set(widths) or any(
            run.dead_units[name] > width for name, width in widths.items()):
        _fail("the dead-unit count does not match the model's hidden layers")


def _check_arrays(run: Run, reference) -> None:
    """The trained state (and every kept snapshot of it) has the model's shapes, and its
    parameters are finite for a finished run (the engine's divergence rule: a BatchNorm
    statistic may overflow first); the optimizer and RNG state can be loaded."""
    model = reference.model
    # A stopped run is the state at one step: a BatchNorm variance or a bias may already
    # have overflowed there before the loss shows it (the whole run diverges later).
    finite = run.status == "finished"
    _check_model_state(run.state, model, finite, "the trained state")
    snapshots = set(run.snapshot_steps)
    for step in run.model_states:  # the steps alone: a replayed state is checked by digest
        if step not in snapshots:
            _fail(f"weights are kept for step {step}, which is not a snapshot")
    for step, state in run.model_states.held().items():
        _check_model_state(state, model, True, f"the weights kept at step {step}")
    _check_optimizer(run.state, run.steps_done, reference, finite, "the trained state")
    for step, state in run.checkpoints.items():
        if not 0 < step < run.steps_done or state["step"] != step:
            _fail(f"the checkpoint at step {step} is not a step inside the run")
        _check_model_state(state, model, True, f"the checkpoint at step {step}")
        _check_optimizer(state, step, reference, True, f"the checkpoint at step {step}")


def _check_optimizer(state: dict, steps_done: int, reference, finite: bool,
                     what: str) -> None:
    """The optimizer and RNG state of ``what`` can be loaded into the reference trainer."""
    optimizer = state["optimizer"]
    wanted = reference.optimizer.state()
    if set(optimizer) != set(wanted):
        _fail(f"the optimizer state must hold {sorted(wanted)} for {reference.config.opt}")
    if optimizer["t"] != steps_done:
        _fail(f"the optimizer's step count does not match the step of {what}")
    for key, value in optimizer.items():
        if key == "t":
            continue
        if not isinstance(value, np.ndarray) or value.shape != wanted[key].shape \
                or value.dtype != wanted[key].dtype:
            _fail(f"the optimizer's {key!r} does not fit the model")
        if finite and not np.all(np.isfinite(value)):
            _fail(f"the optimizer's {key!r} is not finite")
    try:
        reference.batch_rng.bit_generator.state = state["rng"]
    except (TypeError, ValueError, KeyError) as err:
        raise RunFormatError(f"the random-generator state cannot be restored ({err})") from None


def _check_model_state(state: dict, model, finite: bool, what: str) -> None:
    params = state["params"]
    if params.shape != model.flat.shape or params.dtype != model.flat.dtype:
        _fail(f"{what} does not fit the model its config describes "
              f"({params.shape} {params.dtype} for {model.flat.shape} {model.flat.dtype})")
    buffers = model.buffers()
    if set(state["buffers"]) != set(buffers) or any(
            state["buffers"][k].shape != v.shape or state["buffers"][k].dtype != v.dtype
            for k, v in buffers.items()):
        _fail(f"{what} does not fit the model its config describes (its buffers)")
    if finite and not np.all(np.isfinite(params)):  # the engine's rule for divergence
        _fail(f"{what} is not finite, yet the run did not diverge")

"""Sweeps (grid searches): every executor gives the same numbers; the CLI writes a CSV; bad
specs fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from neurondash import Config, ConfigError
from neurondash.search import SearchError, SearchLog, SearchSpec, choice_range, run_search
from neurondash.sweep import SerialExecutor, make_executor, parse_values

ROOT = Path(__file__).resolve().parents[1]
BASE = Config(depth=2, width="16", batch=32)


def grid(base: Config, axes: dict[str, tuple]) -> SearchSpec:
    """Every combination of the values, as the CLI's --vary makes it."""
    return SearchSpec(base, tuple(choice_range(name, values) for name, values in axes.items()),
                      method="grid")


SPEC = grid(BASE.replace(steps=80), {"init_scale": (0.3, 1.0, 3.0), "act": ("tanh", "relu")})
NUMBERS = ["initial_loss", "train_loss", "val_loss", "saturation_init_pct", "update_data",
           "dead_units"]


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    with make_executor("serial") as executor:
        return run_search(SPEC, executor)


def test_serial_sweep_covers_every_combination(serial):
    assert len(serial) == 6
    assert serial[["init_scale", "act"]].drop_duplicates().shape[0] == 6
    assert (serial["status"] == "finished").all()
    tanh = serial[serial["act"] == "tanh"].set_index("init_scale")
    assert tanh.loc[3.0, "saturation_init_pct"] > tanh.loc[1.0, "saturation_init_pct"] \
        > tanh.loc[0.3, "saturation_init_pct"]
    assert all(Config.from_query(q)[0].steps == 80 for q in serial["query"])


def test_process_pool_gives_identical_numbers(serial):
    with make_executor("process", workers=2) as executor:
        pooled = run_search(SPEC, executor)
    pd.testing.assert_frame_equal(pooled[NUMBERS], serial[NUMBERS], check_exact=True)


def test_dask_cluster_gives_identical_numbers(serial, monkeypatch):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        monkeypatch.setenv("NEURONDASH_SCHEDULER", cluster.scheduler_address)
        with make_executor("process") as executor:  # the environment variable wins
            assert type(executor).__module__.startswith("distributed")
            remote = run_search(SPEC, executor)
    pd.testing.assert_frame_equal(remote[NUMBERS], serial[NUMBERS], check_exact=True)


def test_stop_keeps_finished_runs():
    log = SearchLog()
    with make_executor("serial") as executor:
        result = run_search(SPEC, executor, log=log, should_stop=lambda: bool(log.results))
    assert (result["status"] == "finished").sum() == 1
    assert len(result) == 1, "no run starts after the stop"


def test_invalid_sweeps_are_rejected():
    with pytest.raises(SearchError, match="cannot be searched"):
        grid(BASE, {"task": ("names",)})
    with pytest.raises(SearchError, match="at most"):
        grid(BASE, {"seed": tuple(range(60)), "depth": tuple(range(10))})
    with pytest.raises(ConfigError, match="lr"):
        parse_values("lr", "0.1,fast")
    assert parse_values("width", "8;16,8") == ("8", "16,8")


def test_cli_sweep_writes_csv(tmp_path):
    out = tmp_path / "sweep.csv"
    result = subprocess.run(
        [sys.executable, "-m", "neurondash", "sweep", "--task", "moons", "--depth", "1",
         "--width", "8", "--steps", "40", "--vary", "lr=0.01,0.1", "--executor", "serial",
         "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert list(table["lr"]) == [0.01, 0.1] and table["val_loss"].notna().all()


def test_a_failing_run_cancels_the_runs_not_yet_started(monkeypatch):
    import time
    from concurrent.futures import ThreadPoolExecutor

    import neurondash.sweep as sweep

    started = []

    def failing_run(values, words=None):
        started.append(values)
        time.sleep(0.05)
        raise RuntimeError("worker lost")

    monkeypatch.setattr(sweep, "run_one", failing_run)
    with ThreadPoolExecutor(max_workers=1) as executor, pytest.raises(RuntimeError):
        run_search(SPEC, executor)
    assert 1 <= len(started) <= 2 < SPEC.trial_count


def test_a_repeated_sweep_reads_its_runs_from_the_store(tmp_path, monkeypatch):
    """The first sweep trains and stores every run; the second trains none and gives the
    same table; a cell's run is the stored one."""
    import neurondash.sweep as sweep
    from neurondash.identity import run_key
    from neurondash.store import RunStore

    store = RunStore(tmp_path / "store")
    trained = []
    original = sweep.run_one

    def counting_run(values, words=None):
        trained.append(values)
        return original(values, words)

    monkeypatch.setattr(sweep, "run_one", counting_run)
    first = run_search(SPEC, SerialExecutor(), store=store)
    assert len(trained) == SPEC.trial_count == len(store.list())
    again = run_search(SPEC, SerialExecutor(), store=store)
    assert len(trained) == SPEC.trial_count
    pd.testing.assert_frame_equal(first, again)
    cell = Config.from_query(first["query"].iloc[0])[0]
    assert store.get(run_key(cell)).config == cell

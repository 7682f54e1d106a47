"""Running many Configs (``run_configs``: the core of searches and sweeps, ``search/``),
summarising each run, and reading a sweep's values (``--vary``).

Runs go through any ``concurrent.futures``-style executor: serial (in this process), a
local process pool (the default), or a Dask cluster when a scheduler address is given
(``--scheduler`` or the ``NEURONDASH_SCHEDULER`` environment variable), so a large sweep
can leave this machine. Each run is deterministic, so every executor gives the same numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from contextlib import contextmanager
from typing import Any

from .config import SETTINGS_BY_NAME, Config, ConfigError
from .summary import summarize

SCHEDULER_ENV = "NEURONDASH_SCHEDULER"
SCHEDULER_TIMEOUT = 10
"""Seconds to wait for a Dask scheduler before saying it cannot be reached."""


class SchedulerError(ConnectionError):
    """The Dask scheduler named for a sweep cannot be reached; the message says which."""


def parse_values(name: str, text: str) -> tuple:
    """'0.1, 0.3,1' -> typed, validated values of one setting (';' separates values that
    are comma lists themselves: widths and feature sets)."""
    setting = SETTINGS_BY_NAME[name]
    return tuple(setting.coerce(part) for part in text.split(value_separator(name))
                 if part.strip())


def value_separator(name: str) -> str:
    """What separates a list of one setting's values: ';' where a value is itself a comma
    list (widths, feature sets), else ','."""
    return ";" if name == "width" or SETTINGS_BY_NAME[name].multi else ","


def run_one(values: dict[str, Any], words: Sequence[str] | None = None):
    """Train one Config (given as a plain dict, cheap to ship to a worker) and return the
    Run: the process that asked for it summarises it and writes it to the store, so the
    store never has to be reachable from the workers."""
    from .training import train

    return train(Config.from_dict(values), words=list(words) if words else None)


def continue_one(run, steps: int):
    """Continue a Run by ``steps`` (a search's promoted trial): the same run as training
    its longer Config from scratch, without retraining the steps it has."""
    from .training import continue_training

    return continue_training(run, steps)


class SerialExecutor(Executor):
    """Runs each task at submit time in this process (the reference for the others)."""

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - delivered through the future
            future.set_exception(err)
        return future


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A local process pool with spawn start (fork is unsafe under Streamlit's threads)."""
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count(),
                               mp_context=multiprocessing.get_context("spawn"))


@contextmanager
def make_executor(kind: str = "process", workers: int | None = None,
                  scheduler: str | None = None, wait: bool = False):
    """serial | process (local pool, spawn start so it is safe under Streamlit's threads) |
    dask (needs ``scheduler``, or NEURONDASH_SCHEDULER; uses distributed's executor).

    ``wait``: a local pool's workers have exited when the block ends. A command line that
    ends right after must wait: otherwise the pool's shutdown can race the interpreter's,
    and Python 3.11 then prints an OSError traceback at exit. The dashboard does not wait,
    so a stopped sweep returns at once."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler:
        kind = "dask"
    if kind == "serial":
        yield SerialExecutor()
    elif kind == "process":
        pool = process_pool(workers)
        try:
            yield pool
        finally:
            # An interrupted caller (a Streamlit rerun) must not wait for queued runs.
            pool.shutdown(wait=wait, cancel_futures=True)
    elif kind == "dask":
        if not scheduler:
            raise ValueError("a Dask sweep needs a scheduler address (tcp://host:port)")
        from distributed import Client

        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError) as err:
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler} within "
                                 f"{SCHEDULER_TIMEOUT} s ({type(err).__name__})") from None
        with client:
            executor = client.get_executor()
            executor.window = sum(client.nthreads().values()) + 1
            yield executor
    else:
        raise ValueError(f"unknown executor {kind!r}: serial, process or dask")


def run_configs(configs: Sequence[Config], executor: Executor | None = None,
                on_result: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                words: Sequence[str] | None = None,
                results: dict[int, dict] | None = None, store=None,
                deadline: float | None = None, first_index: int = 0,
                train: bool = True) -> dict[int, dict]:
    """Train ``configs`` (index -> summary in ``results``, filled as runs finish): the core
    of sweeps and searches. Runs the store holds are read, not trained; new ones are
    written to it by this process. Past ``deadline`` (a ``time.monotonic()`` value) or
    when ``should_stop`` says so, runs not yet started are cancelled. Results are keyed
    ``first_index + i``; ``train=False`` only reads what the store holds."""
    if executor is None and train:
        with make_executor("process") as pool:
            return run_configs(configs, pool, on_result, should_stop, words, results, store,
                               deadline, first_index)
    results = results if results is not None else {}
    word_list = list(words) if words else None
    stored = 0
    if store is not None:
        from .identity import run_key

        keys = [run_key(config, word_list) for config in configs]
        indexed = store.metrics(keys)
        for i, key in enumerate(keys):
            if key in indexed:
                results[first_index + i] = indexed[key]
            else:
                found = store.get(key)
                if found is None:
                    continue
                results[first_index + i] = summarize(found)
            stored += 1
            if on_result is not None:
                on_result(stored, len(configs))
    waiting = [i for i in range(len(configs)) if first_index + i not in results and train]
    window = window_size(executor)
    futures: dict[Future, int] = {}
    done = stored
    try:
        while waiting or futures:
            # Runs are handed out a few at a time, in order: a budget or a stop then leaves
            # the later runs unstarted, whatever the executor (a serial one runs at submit).
            while waiting and len(futures) < window and not _ended(None, deadline):
                i = waiting.pop(0)
                futures[executor.submit(run_one, configs[i].to_dict(), words)] = i
            if not futures:
                break
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                run = future.result()
                summarized = summarize(run)
                results[first_index + futures.pop(future)] = summarized
                if store is not None:
                    store.put(run, summarized)
                done += 1
                if on_result is not None:
                    on_result(done, len(configs))
            if _ended(should_stop, deadline):
                break
    finally:
        # A stop, an error or an interrupted caller (a Streamlit rerun) ends the sweep:
        # runs not yet started must not keep the workers busy.
        for pending in futures:
            pending.cancel()
    return results


def _ended(should_stop: Callable[[], bool] | None, deadline: float | None) -> bool:
    return (should_stop is not None and should_stop()) or (
        deadline is not None and time.monotonic() > deadline)


def window_size(executor: Executor) -> int:
    """Runs handed to an executor at once: one more than its workers keeps them busy."""
    if isinstance(executor, SerialExecutor):
        return 1
    if hasattr(executor, "window"):  # a Dask cluster's, set by make_executor
        return max(1, executor.window)
    workers = getattr(executor, "_max_workers", None) or 2 * (os.cpu_count() or 1)
    return workers + 1


def axes_from_pairs(pairs: Iterable[str]) -> dict[str, tuple]:
    """CLI '--vary lr=0.01,0.1' pairs -> {name: values}; a setting given twice takes the
    values of both (each once, in the order given)."""
    axes: dict[str, tuple] = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if name not in SETTINGS_BY_NAME:
            raise ConfigError("vary", name, "a setting name, as in --vary lr=0.01,0.1")
        axes[name] = tuple(dict.fromkeys(axes.get(name, ()) + parse_values(name, text)))
    return axes

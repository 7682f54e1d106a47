"""The Optuna side of a search: the study its sampler and pruner live in, a trial's value,
the stored runs told to a new study (warm start), and which settings mattered."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from ..config import Config, ConfigError
from ..identity import run_key
from .spec import REDUCTION, SearchSpec, Trial

optuna.logging.set_verbosity(optuna.logging.WARNING)


def make_study(spec: SearchSpec, warm: bool = False) -> optuna.Study:
    """An in-memory study with the spec's sampler (``warm``: see ``SearchSpec.sampler``)
    and, with rungs, successive halving."""
    pruner = (optuna.pruners.SuccessiveHalvingPruner(min_resource=1,
                                                     reduction_factor=REDUCTION)
              if spec.rungs > 1 else optuna.pruners.NopPruner())
    study = optuna.create_study(direction="minimize", sampler=spec.sampler(warm), pruner=pruner)
    if spec.method == "grid":
        for values in spec.grid_values():
            study.enqueue_trial(values)
    return study


def ask(spec: SearchSpec, study: optuna.Study, index: int) -> tuple[optuna.trial.Trial, Trial]:
    """The study's next trial and its drawn values as the search's trial ``index`` (ranges
    that others depend on drawn first, a conditional one only where its condition holds)."""
    trial = study.ask()
    values: dict[str, Any] = {}
    for searched in spec.ordered():
        if searched.applies(values, spec.base):
            values[searched.name] = searched.suggest(trial, values, spec.base)
    return trial, spec.trial(index, values)


def trial_value(summaries: Iterable[dict]) -> float:
    """A trial's validation loss, the mean over its repeats; a diverged run (or one worse
    than guessing) counts as the uniform guess, so the sampler learns to avoid it."""
    values = []
    for summary in summaries:
        value = summary.get("val_loss", math.nan)
        ceiling = summary.get("expected_initial_loss", math.nan)
        if summary.get("status") != "finished" or not math.isfinite(value):
            value = ceiling
        if math.isfinite(ceiling):
            value = min(value, ceiling)
        values.append(value)
    return float(np.mean(values)) if values else math.nan


def params_of(spec: SearchSpec, config: Config) -> dict[str, Any] | None:
    """The sampler's parameters of a Config, when the Config is a trial of this search:
    every other setting as the base has it, every searched one inside its range (and a
    conditional one at the base's value where its condition does not hold)."""
    params: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for searched in spec.ordered():
        value = getattr(config, searched.name)
        if not searched.applies(values, spec.base):
            if value != getattr(spec.base, searched.name):
                return None
            continue
        param = searched.param_of(value, values, spec.base)
        if param is None:
            return None
        params[searched.name], values[searched.name] = param, value
    try:
        same = spec.base.replace(**values) == config
    except ConfigError:
        return None
    return params if same else None


def stored_trials(spec: SearchSpec, store, words: Sequence[str] | None
                  ) -> list[tuple[Config, dict[str, Any], list[dict]]]:
    """(Config, parameters, summaries of its repeats) of every stored run that is a whole
    trial of this search: the same task, base settings, data split and word list, its
    searched values inside the ranges, and every repeat stored, least recently used
    first."""
    return [(config, params, summaries) for config, params, summaries
            in _stored(spec, store, words, whole=True)]


def stored_rungs(spec: SearchSpec, store, words: Sequence[str] | None
                 ) -> dict[Config, tuple[dict[str, Any], dict[int, float]]]:
    """Trial Config -> (parameters, {resource: value}) of every trial of this search with
    a stored rung run (every repeat of it stored), the whole trial's or one stopped there:
    what an earlier search with these rungs learnt short of the whole runs."""
    found: dict[Config, tuple[dict[str, Any], dict[int, float]]] = {}
    for config, params, summaries in _stored(spec, store, words, whole=False):
        whole = config.replace(until=0)
        resource = dict((steps, resource) for resource, steps in spec.ladder(whole))
        found.setdefault(whole, (params, {}))[1][resource[config.until]] = \
            trial_value(summaries)
    return found


def _stored(spec: SearchSpec, store, words: Sequence[str] | None, whole: bool):
    """(Config, parameters, repeats' summaries) of the stored whole trials (``whole``) or
    stored rung runs short of the whole (not ``whole``) of this search, least recently used
    first."""
    word_list = list(words) if words else None
    found = []
    for stored in reversed(store.list()):
        try:
            config = stored.config
        except (ConfigError, KeyError, TypeError):
            continue
        if whole == bool(config.until):
            continue
        trial = config.replace(until=0)
        params = params_of(spec, trial)
        if params is None or stored.key != run_key(config, word_list) or (
                config.until and config.until not in
                [steps for _, steps in spec.ladder(trial)[:-1]]):
            continue
        keys = [run_key(c, word_list) for c in spec.repeat_configs(config)]
        metrics = store.metrics(keys)
        if all(key in metrics for key in keys):
            found.append((config, params, [metrics[key] for key in keys]))
    return found


def tell_stored(spec: SearchSpec, study: optuna.Study, stored,
                rungs: dict[Config, tuple[dict[str, Any], dict[int, float]]] | None = None
                ) -> None:
    """Give the study the stored trials as finished ones (warm start), and with ``rungs``
    what their shorter runs reached: the whole trials' rung values, and the trials that
    stopped at a rung as pruned there. The pruner then ranks a new trial's rung against
    every stored one, not only this search's, and TPE learns where the stopped ones were."""
    distributions = {r.name: r.distribution() for r in spec.ranges}
    rungs = dict(rungs or {})
    for config, params, summaries in stored:
        _, reached = rungs.pop(config, (params, {}))
        _add(study, params, distributions, reached, value=trial_value(summaries))
    for params, reached in rungs.values():
        _add(study, params, distributions, reached, value=None)


def _add(study: optuna.Study, params: dict[str, Any], distributions: dict,
         reached: dict[int, float], value: float | None) -> None:
    """One stored trial: complete with ``value``, else pruned at its last rung; each rung's
    value where Optuna's successive halving keeps it (the rung's system attribute)."""
    reached = {resource: v for resource, v in sorted(reached.items()) if math.isfinite(v)}
    if value is None and not reached:
        return
    study.add_trial(optuna.trial.create_trial(
        params=params, distributions={k: distributions[k] for k in params},
        value=value, state=TrialState.COMPLETE if value is not None else TrialState.PRUNED,
        intermediate_values=reached,
        system_attrs={f"completed_rung_{round(math.log(resource, REDUCTION))}": v
                      for resource, v in reached.items()}))


def importances(spec: SearchSpec, trials: Sequence[tuple[Config, float]]
                ) -> dict[str, float]:
    """Each searched setting's share of the variance of the trials' values (Optuna's
    fANOVA over a random forest, seeded), from whole trials only; empty when fewer than
    two trials or a single setting varies."""
    distributions = {r.name: r.distribution() for r in spec.ranges}
    study = optuna.create_study(direction="minimize")
    for config, value in trials:
        params = params_of(spec, config)
        if params is None or not math.isfinite(value):
            continue
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={k: distributions[k] for k in params}, value=value))
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2 or len(spec.ranges) < 2:
        return {}
    try:
        found = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0),
            normalize=True)
    except (ValueError, RuntimeError):  # no parameter varies in every trial
        return {}
    return {name: float(found.get(name, 0.0)) for name in spec.searched if name in found}

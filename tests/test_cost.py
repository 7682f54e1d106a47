"""The training-time estimate that decides whether a link trains on opening. Its
coefficients are calibrated by benchmarks/calibrate_cost.py; here only its structure:
each thing that costs time raises the estimate, and the runs a link must not start
unasked are estimated above the dashboard's limit."""

from __future__ import annotations

import pytest

from neurondash import Config
from neurondash.cost import describe_seconds, estimate_seconds, example_counts
from neurondash.presets import PRESETS
from neurondash.run_source import AUTO_SECONDS


@pytest.mark.parametrize("change", [{"steps": 6000}, {"batch": 256}, {"width": "300"},
                                    {"depth": 6}, {"snap_every": 20}, {"norm": "batch"}])
def test_each_cost_raises_the_estimate(change):
    base = Config()
    assert estimate_seconds(base.replace(**change)) > estimate_seconds(base)


@pytest.mark.parametrize("query", [
    "batch=1&snap_every=1&steps=199&width=300&depth=12",  # 24-42 s measured: 199 snapshots
    "depth=12&width=600&steps=20",  # 10-16 s measured: the final pass over 231k examples
    "depth=5&norm=batch&steps=200000",  # makemore part 3's run, about 80 s
])
def test_runs_of_many_seconds_are_estimated_above_the_auto_train_limit(query):
    assert estimate_seconds(Config.from_query(query)[0]) > AUTO_SECONDS


def test_the_defaults_and_every_lesson_train_on_opening():
    for config in [Config(), *(preset.config for preset in PRESETS)]:
        assert estimate_seconds(config) <= AUTO_SECONDS, config.to_query()


def test_a_word_list_is_costed_by_its_examples():
    config = Config(task="words")
    short, long = ["ab"] * 100, ["abcdefgh"] * 10_000
    assert example_counts(config, short)[0] == 240
    assert estimate_seconds(config, short) < estimate_seconds(config, long)


@pytest.mark.parametrize(("seconds", "text"), [(0.2, "about 1 s"), (40.4, "about 40 s"),
                                                (185, "about 3 min"), (7200, "about 2.0 h")])
def test_the_wait_is_described_in_words(seconds, text):
    assert describe_seconds(seconds) == text


def test_the_wait_for_many_runs_is_their_median_estimate_shared_by_the_workers():
    from neurondash.cost import SAFETY, WORKER_START_SECONDS, expected_wall_seconds

    configs = [Config(steps=steps) for steps in (1000, 2000, 3000)]
    work = sum(estimate_seconds(c) for c in configs) / SAFETY
    assert expected_wall_seconds(configs, 2) == pytest.approx(WORKER_START_SECONDS + work / 2)
    # More workers than runs do not make it shorter than the longest share.
    assert expected_wall_seconds(configs[:1], 8) == pytest.approx(
        WORKER_START_SECONDS + estimate_seconds(configs[0]) / SAFETY)

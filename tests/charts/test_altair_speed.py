"""The kept Altair converter and the validation skipped at creation (``charts.altair_speed``)
change no chart: every builder gives the same Vega-Lite spec with them as with Altair's own
``from_dict`` and debug mode, and the spec still passes the schema (``to_dict()``)."""

from __future__ import annotations

import pytest
from altair.utils import schemapi

from neurondash import Config, charts, train
from neurondash.charts import altair_speed, prepare


@pytest.fixture(scope="module")
def run():
    return train(Config(depth=2, width="16", steps=600, snap_every=100))


def builders(run) -> dict:
    step = run.snapshot_steps[-1]
    return {
        "loss": lambda: charts.loss_chart(prepare.loss_curves(run),
                                          prepare.loss_references(run), log_scale=True),
        "histogram": lambda: charts.histogram_chart(
            prepare.histograms_at(run, step, "activation"), "t", "x"),
        "update_data": lambda: charts.over_steps_chart(
            prepare.update_data_frame(run), "update_data", "u", "log10", color="param",
            guide=-3.0),
        "over_training": lambda: charts.distribution_over_steps_chart(
            prepare.distribution_over_steps(run, "activation"), "t", "x"),
    }


def specs(run) -> dict:
    return {name: build().to_dict() for name, build in builders(run).items()}


def test_every_chart_is_the_same_with_the_kept_converter(run):
    assert altair_speed.install(), "this Altair has the converter the module keeps"
    assert not schemapi.DEBUG_MODE, "no validation of each object as it is created"
    kept = specs(run)
    altair_speed.uninstall()
    try:
        own = specs(run)
        assert schemapi.DEBUG_MODE
    finally:
        altair_speed.install()
    assert kept == own


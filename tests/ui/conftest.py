"""Each app test gets a run store of its own, so that what one test trained never spares
another its training (the browser test's server keeps the session-wide store); and every
chart an app test draws is checked against the Vega-Lite schema, which the app skips for
speed (``charts.altair_speed``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURONDASH_STORE", str(tmp_path / "store"))
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def charts_checked(monkeypatch):
    """Validate each chart ``render.to_spec`` converts (once per template: later draws reuse
    its spec), as Altair's debug mode did at creation before the app turned it off. The
    datasets are Arrow bytes the schema does not know: checked as empty."""
    from altair.vegalite.v6.schema import core

    from neurondash.ui import render

    convert = render.to_spec

    def checked(chart):
        spec = convert(chart)
        core.TopLevelSpec.validate({**spec, "datasets": {k: [] for k in spec["datasets"]}})
        return spec

    monkeypatch.setattr(render, "to_spec", checked)

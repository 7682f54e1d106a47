"""Each app test gets a run store of its own, so that what one test trained never spares
another its training (the browser test's server keeps the session-wide store)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURONDASH_STORE", str(tmp_path / "store"))
    return tmp_path / "store"

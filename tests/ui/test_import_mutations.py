"""Structurally mutated run files through the two other entry points: the dashboard's upload
(each mutation refused with "Import rejected: ..." and the page kept, or imported and every
tab drawn) and ``runs import`` on the command line (exit 2 with one ``error:`` line, or
stored). The Python reader gets many more in tests/test_runfile_fuzz.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from neurondash import Config, train
from neurondash.cli import main

from ..runfile_mutations import structural_mutations
from .markdown import texts
from .test_app import SMALL, open_app, show
from .test_app import TABS as TAB_NAMES

EXAMPLES = int(os.environ.get("NEURONDASH_FUZZ_IMPORTS_UI", "6"))


@pytest.fixture(scope="module")
def exports() -> dict[str, str]:
    configs = {"names": Config(depth=2, width="8", norm="batch", steps=12),
               "flat": Config(task="moons", depth=0, points=200, steps=6),
               "diverged": Config(act="relu", init_scale=10, depth=2, width="8", steps=20)}
    return {name: train(config).to_json(compact=False) for name, config in configs.items()}


def test_mutated_uploads_are_rejected_by_name_or_draw_every_tab(exports):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(structural_mutations(exports))
    def check(mutation: tuple[str, str]) -> None:
        text, what = mutation
        at = open_app(SMALL, tab="Export / import")
        before = list(at.session_state["runs"])
        at.get("file_uploader")[-1].set_value(("run.json", text.encode(), "application/json"))
        at.run()
        assert not at.exception, (what, at.exception)
        if "Import rejected" in texts(at.error):
            assert list(at.session_state["runs"]) == before, what
            return
        assert "internal error" not in texts(at.error), what
        for name in TAB_NAMES:
            show(at, name)
            assert not at.exception, (what, name)
            assert "internal error" not in texts(at.error), (what, name)

    check()


def test_mutated_files_given_to_runs_import_exit_with_one_error_line(exports, tmp_path,
                                                                       capsys):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(structural_mutations(exports))
    def check(mutation: tuple[str, str]) -> None:
        text, what = mutation
        path = tmp_path / "run.json"
        path.write_text(text)
        code = main(["runs", "import", str(path), "--store", str(tmp_path / "store")])
        err = capsys.readouterr().err
        assert code in (0, 2), what
        if code == 2:
            assert err.startswith("error:") and "Traceback" not in err, (what, err)

    check()

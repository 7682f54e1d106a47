"""Imports point down: the package's layers, declared once here (bottom first), and a test
that fails on any import of a module from a layer above. A new module must be placed in a
layer before the test passes, so its place is a decision, not an accident."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neurondash"
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("building blocks: the registries whose names the settings offer, file formats",
     ("engine", "parts", "parts.*", "features", "paths", "runfile", "run_encoding", "kept_states",
      "run_source")),
    ("settings", ("settings_rules", "setting_names", "config", "cost", "presets")),
    ("data", ("data", "data.*")),
    ("engine", ("engine.model", "engine.matrix_sums", "engine.diagnostics", "engine.gradcheck",
                "engine.queries", "engine.train", "engine.lr_finder")),
    ("runs", ("replay", "run", "identity", "training", "runchecks", "jobs")),
    ("insight: diagnosis, summaries, charts", ("diagnosis", "diagnosis.*", "summary", "charts",
                                               "charts.*", "theory", "gradient_rate",
                                               "seed_spread")),
    ("store, sweeps and search", ("store", "store_*", "sweep", "search", "search.*")),
    ("faces: report, command line, dashboard", ("report", "cli", "cli.*", "__main__", "ui",
                                                "ui.*", "")),
)
"""Each layer may import its own layer and those below it, never one above."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    for index, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return index
    raise AssertionError(f"neurondash.{module} is in no layer of tests/test_layering.py")


def imported(path: Path, module: str | None = None) -> set[str]:
    """The package's modules that ``path`` (the package's ``module``) imports; a ``from .
    import x`` imports x."""
    module = module_name(path) if module is None else module
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join([*base, *([node.module] if node.module else [])])
            submodules = [f"{target}.{a.name}".strip(".") for a in node.names
                          if _exists(f"{target}.{a.name}".strip("."))]
            found |= set(submodules) if submodules else {target}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neurondash"):
            found.add(node.module.removeprefix("neurondash").lstrip("."))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("neurondash").lstrip(".") for a in node.names
                      if a.name.startswith("neurondash")}
    return found


def _exists(module: str) -> bool:
    path = PACKAGE.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p) or "neurondash")
def test_imports_point_down(path):
    module = module_name(path)
    own = layer_of(module)
    upward = [(target, LAYERS[layer_of(target)][0]) for target in sorted(imported(path))
              if layer_of(target) > own]
    assert not upward, f"neurondash.{module} ({LAYERS[own][0]}) imports from above: {upward}"


def test_the_engine_the_data_and_the_charts_never_import_streamlit():
    for path in MODULES:
        if module_name(path).startswith(("engine", "data", "charts")):
            tree = ast.parse(path.read_text())
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                     for a in n.names} | {n.module for n in ast.walk(tree)
                                          if isinstance(n, ast.ImportFrom) and n.module}
            assert not any(str(n).startswith("streamlit") for n in names), path


def test_a_planted_upward_import_fails(tmp_path):
    """The check can fail: config importing the store is upward."""
    copy = tmp_path / "config.py"
    copy.write_text((PACKAGE / "config.py").read_text() + "\nfrom .store import RunStore\n")
    found = imported(copy, "config")
    assert "store" in found and layer_of("store") > layer_of("config")

"""The README's headless examples run as written (a documented command that fails is a bug
a new user meets first)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
WORDS = "\n".join(f"{a}{b}{c}" for a in "bcdfg" for b in "aeiou" for c in "nrst") + "\n"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def cli_blocks() -> list[list[str]]:
    """The commands of each bash block, in order (a block's commands run in sequence: the
    run store's examples use what the one before stored)."""
    found = []
    for block in blocks("bash"):
        lines = block.replace("\\\n", " ").splitlines()
        commands = [line.split("  #")[0].strip() for line in lines
                    if line.strip().startswith("python -m neurondash")]
        if commands:
            found.append(commands)
    return found


def cli_commands() -> list[str]:
    return [command for block in cli_blocks() for command in block]


def test_the_readme_documents_the_headless_examples():
    assert len(blocks("python")) == 1
    assert len(cli_commands()) >= 5


def run_in_scratch(args: list[str], folder: Path) -> subprocess.CompletedProcess:
    """Run from a scratch folder (the files it writes land there) with the checkout
    importable, as it is for a user who runs the example at the checkout's root."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_python_example_runs(tmp_path):
    (tmp_path / "example.py").write_text(blocks("python")[0], encoding="utf-8")
    result = run_in_scratch(["example.py"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "val_loss" in result.stdout
    assert (tmp_path / "run.json").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("block", cli_blocks(), ids=lambda block: block[0][:60])
def test_each_cli_example_runs(block, tmp_path, monkeypatch):
    """Every command of a block, in order, in one scratch folder with a store of its own."""
    monkeypatch.setenv("NEURONDASH_STORE", str(tmp_path / "store"))
    (tmp_path / "my_words.txt").write_text(WORDS, encoding="utf-8")
    for command in block:
        args = shlex.split(command)
        assert args[:3] == ["python", "-m", "neurondash"]
        result = run_in_scratch(args[1:], tmp_path)
        assert result.returncode == 0, (command, result.stderr[-2000:])
        assert "Traceback" not in result.stderr
        if "--out" in args:
            assert (tmp_path / args[args.index("--out") + 1]).stat().st_size > 0


def test_the_limits_the_readme_states_are_the_codes():
    from neurondash.data import names
    from neurondash.run_source import AUTO_SECONDS
    from neurondash.runfile import MAX_IMPORT_BYTES, READS
    from neurondash.store import DEFAULT_MAX_BYTES
    from neurondash.store_policy import PINNED_DAYS, SEARCH_TOP
    from neurondash.sweep import SCHEDULER_TIMEOUT

    text = " ".join(README.split())
    assert f"estimated at {AUTO_SECONDS:g} seconds or less" in text
    assert f"UTF-8 text up to {names.MAX_UPLOAD_BYTES // 1_000_000} MB" in text
    assert f"at least {names.MIN_WORDS} words of at most {names.MAX_WORD_LENGTH} characters" \
        in text
    assert f"at most {names.MAX_VOCAB - 1} distinct characters" in text
    assert f"at most {MAX_IMPORT_BYTES // 1_000_000} MB" in text
    assert "version " + " or ".join(map(str, sorted(READS, reverse=True))) in text
    assert f"within {SCHEDULER_TIMEOUT} s" in text
    assert f"beyond that search's best {SEARCH_TOP} by validation loss" in text
    assert f"opened in the last {PINNED_DAYS:g} days" in text
    assert f"the default cap of {DEFAULT_MAX_BYTES // 1_000_000} MB" in text


def settings_table() -> str:
    """The README's settings table as config.SETTINGS spells it: one row per setting."""
    from neurondash.config import SETTINGS, spell_value

    rows = ["| name | meaning | default | searchable |", "|---|---|---|---|"]
    for setting in SETTINGS:  # the allowed values are --help's: a registry entry adds one
        meaning = setting.help.replace("|", "\\|")
        rows.append(f"| `{setting.name}` | {meaning} | {spell_value(setting.default)} | "
                    f"{'yes' if setting.searchable else 'no'} |")
    return "\n".join(rows)


def test_the_readme_settings_table_is_the_settings_table():
    """Written from config.SETTINGS (paste the expected block on a failure): a setting is
    listed in one place, and the README cannot fall behind it."""
    start = README.index("<!-- settings:begin -->") + len("<!-- settings:begin -->")
    shown = README[start:README.index("<!-- settings:end -->")].strip()
    assert shown == settings_table(), "\n" + settings_table()

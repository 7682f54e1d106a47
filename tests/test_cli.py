"""The CLI trains a Config given as flags or as a dashboard query, and writes valid JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurondash import Config, Run, sweep, train
from neurondash.cli import build_parser, config_from_args, main, settings_from_args
from neurondash.config import SETTINGS
from neurondash.store import RunStore

ROOT = Path(__file__).resolve().parents[1]


def test_flags_and_query_share_the_config_names():
    args = build_parser().parse_args(["train", "--query", "https://host/?act=relu&lr=0.05",
                                      "--init-scale", "0.5", "--lr", "0.2"])
    config, warnings = config_from_args(args)
    assert config == Config(act="relu", lr=0.2, init_scale=0.5) and warnings == []


def test_cli_trains_and_writes_a_run(tmp_path):
    out = tmp_path / "run.json"
    result = subprocess.run(
        [sys.executable, "-m", "neurondash", "train", "--task", "moons", "--steps", "60",
         "--depth", "1", "--width", "8", "--query", "noise=0.2&lr=bad", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "warning: lr='bad'" in result.stderr
    assert "val loss" in result.stdout
    run = Run.from_json(out.read_text())
    assert run.config == Config(task="moons", steps=60, depth=1, width="8", noise=0.2)
    assert run.steps_done == 60


def test_cli_refuses_an_unwritable_output_before_training(tmp_path):
    for command in (["train"], ["sweep", "--vary", "lr=0.1,0.2"]):
        result = subprocess.run(
            [sys.executable, "-m", "neurondash", *command, "--steps", "5",
             "--out", str(tmp_path / "missing" / "out.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert "does not exist" in result.stderr and "Traceback" not in result.stderr
        assert "training:" not in result.stderr and "sweeping" not in result.stderr
    result = subprocess.run([sys.executable, "-m", "neurondash", "train", "--steps", "5",
                             "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_cli_says_a_word_list_for_another_task_is_ignored(tmp_path, capsys):
    words = tmp_path / "words.txt"
    words.write_text("anna\nbob\n")
    args = build_parser().parse_args(["train", "--task", "moons", "--words", str(words)])
    config, _ = config_from_args(args)
    assert settings_from_args(args) == (config, None)
    assert "--words is ignored: task 'moons'" in capsys.readouterr().err


def test_cli_rejects_bad_flags_with_a_message():
    result = subprocess.run([sys.executable, "-m", "neurondash", "train", "--depth", "99"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "depth=" in result.stderr and "0 to 12" in result.stderr


def test_cli_sweeps_a_word_list_and_explains_a_missing_one(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("\n".join(f"{a}{b}{c}" for a in "abcd" for b in "xyz" for c in "eo"))
    base = [sys.executable, "-m", "neurondash", "sweep", "--task", "words", "--depth", "1",
            "--width", "8", "--steps", "30", "--vary", "lr=0.01,0.1", "--executor", "serial",
            "--out", str(tmp_path / "sweep.csv")]
    missing = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "--words FILE" in missing.stderr
    result = subprocess.run([*base, "--words", str(words)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert (table["status"] == "finished").all()
    assert np.allclose(table["expected_initial_loss"], np.log(10))  # '.' + 9 letters


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_help_lists_every_setting_with_its_range(command):
    result = subprocess.run([sys.executable, "-m", "neurondash", command, "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for setting in SETTINGS:
        assert f"--{setting.name.replace('_', '-')} " in result.stdout
    assert "75% of the steps" in " ".join(result.stdout.split())


def test_a_non_positive_worker_count_is_one_error_line():
    result = subprocess.run([sys.executable, "-m", "neurondash", "sweep", "--vary",
                             "lr=0.1,0.2", "--steps", "5", "--task", "xor", "--workers", "-3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--workers: -3 is not at least 1" in errors[0]


def test_an_unreachable_scheduler_is_one_error_line(monkeypatch, capsys):
    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT", 1)
    code = main(["sweep", "--vary", "lr=0.1,0.2", "--steps", "5", "--task", "xor",
                 "--scheduler", "tcp://127.0.0.1:1", "--out", "/dev/null"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 1 s" in err


def test_a_setting_varied_twice_takes_the_values_of_both():
    assert sweep.axes_from_pairs(["lr=0.1", "lr=0.2,0.1", "depth=1"]) == {
        "lr": (0.1, 0.2), "depth": (1,)}


def test_train_keeps_its_run_in_the_store_and_runs_manages_it(tmp_path, capsys):
    """A second train of the same Config is read from the store, not trained; runs list,
    show, export, import, delete and gc work on it; the stored run is the trained one."""
    store = ["--store", str(tmp_path / "store")]
    flags = ["--task", "moons", "--steps", "40", "--depth", "1", "--width", "8", "--quiet"]
    assert main(["train", *flags, *store]) == 0
    first = capsys.readouterr()
    key = first.out.split("stored as ")[1].split()[0]
    assert main(["train", *flags, *store]) == 0
    second = capsys.readouterr()
    assert "from the run store" in second.err and "stored as" not in second.out
    assert first.out.split("time")[0] == second.out.split("time")[0]  # the same losses
    assert main(["train", *flags, *store, "--no-store"]) == 0
    assert "from the run store" not in capsys.readouterr().err
    assert main(["runs", "list", *store]) == 0
    assert key[:12] in capsys.readouterr().out
    assert main(["runs", "show", key[:6], *store]) == 0
    assert "task=moons" in capsys.readouterr().out
    out = tmp_path / "exported.json"
    assert main(["runs", "export", key[:8], "--out", str(out), *store]) == 0
    exported = Run.from_json(out.read_text())
    assert exported.config == Config(task="moons", steps=40, depth=1, width="8")
    assert main(["runs", "delete", key, *store]) == 0
    assert main(["runs", "show", key, *store]) == 2
    assert "no stored run" in capsys.readouterr().err
    assert main(["runs", "import", str(out), *store]) == 0
    assert key in capsys.readouterr().out
    assert main(["runs", "gc", *store]) == 0
    assert "orphan files: 0" in capsys.readouterr().out


def test_runs_import_refuses_a_malformed_file_with_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "neurondash-run", "version": 2, "config": {"lr": "x"}}')
    assert main(["runs", "import", str(bad), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_cli_search_prints_trials_best_first_with_the_command_that_reproduces_the_best(
        tmp_path, capsys):
    out = tmp_path / "search.csv"
    code = main(["sweep", "--task", "moons", "--depth", "1", "--width", "8", "--steps", "40",
                 "--sample", "lr=auto", "--sample", "opt=choice(sgd,adamw)",
                 "--trials", "4", "--repeats", "2", "--executor", "serial",
                 "--store", str(tmp_path / "store"), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr()
    table = pd.read_csv(out)
    assert len(table) == 8 and {"seconds", "examples", "trial", "repeat"} <= set(table.columns)
    means = table.groupby("trial")["val_loss"].mean().sort_values()
    lines = printed.out.splitlines()
    ranked = [int(line.split()[0]) for line in lines[1:5]]
    assert ranked == list(means.index), "trials printed best first"
    best = next(line for line in lines if line.startswith("best: "))
    assert f"val_loss {means.iloc[0]:.4f} +- " in best and "over 2 seeds" in best
    query = best.split("--query '")[1].rstrip("'")
    config, warnings = Config.from_query(query)
    assert not warnings and config.to_query() in set(table["query"])
    assert "TPE search: 4 trials, each with 2 seeds" in printed.err


def test_cli_grid_skips_the_over_cap_combination_and_names_the_setting(capsys):
    from neurondash.cli import search_from_args

    args = build_parser().parse_args([
        "sweep", "--opt", "adamw", "--lr", "0.003", "--wd", "0.1", "--batch", "512",
        "--context", "8", "--embed_dim", "24", "--depth", "3", "--steps", "2000",
        "--vary", "fuse=0,2", "--vary", "width=256;512"])
    base, _ = settings_from_args(args)
    spec = search_from_args(args, base)
    assert spec.method == "grid" and spec.trial_count == 4
    drawn = [spec.trial(i, values) for i, values in enumerate(spec.grid_values())]
    assert [t.skipped.split(" breaks")[0] for t in drawn if t.skipped] == [
        "fuse=2 or width=512"]


@pytest.mark.parametrize("budget, reason", [("0", "not a budget"), ("ten", "not a budget"),
                                            ("-5s", "not a budget")])
def test_cli_refuses_a_bad_budget_in_one_line(budget, reason, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--sample", "lr=auto", f"--budget={budget}"])
    assert exit_info.value.code == 2 and reason in capsys.readouterr().err


def test_cli_search_without_ranges_or_with_a_bad_range_is_one_error_line(capsys):
    assert main(["sweep", "--steps", "5"]) == 2
    assert "give --vary" in capsys.readouterr().err
    assert main(["sweep", "--sample", "lr=loguniform(0,1)"]) == 2
    assert "positive low bound" in capsys.readouterr().err


def test_the_installed_command_works_from_any_directory_with_either_flag_spelling(tmp_path):
    """The README's install command installs the package: `neurondash` and `python -m
    neurondash` run outside the checkout; --init-scale is printed, --init_scale accepted."""
    import shutil
    import subprocess
    import sys

    command = shutil.which("neurondash")
    assert command, "pip install -r requirements.txt installs the neurondash command"
    flags = ["--task", "moons", "--depth", "1", "--width", "4", "--steps", "20",
             "--no-store", "--quiet"]
    outputs = []
    for argv in ([command, "train", "--init-scale", "0.5", *flags],
                 [sys.executable, "-m", "neurondash", "train", "--init_scale", "0.5", *flags]):
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.split("time")[0])
    assert outputs[0] == outputs[1] and "val loss" in outputs[0]
    shown = subprocess.run([command, "train", "--help"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120).stdout
    assert "--init-scale" in shown and "--init_scale" not in shown


def test_runs_show_finds_a_word_list_run_by_its_link_and_says_when_it_cannot(tmp_path,
                                                                             capsys):
    """A word-list run's key holds its words, so its link's own key is not stored: the
    link finds it by its settings, and two lists' runs of the same settings ask for the
    key."""
    store = RunStore(tmp_path / "store")
    config = Config(task="words", steps=20, depth=1, width="8")
    lists = [[f"{a}{b}{c}" for a in "abcd" for b in "xyz" for c in "eo"],
             [f"{a}{b}" for a in "klmnop" for b in "uvwi"]]
    first = store.put(train(config, words=lists[0]))
    flags = ["--store", str(store.root)]
    assert main(["runs", "show", f"http://host/?{config.to_query()}", *flags]) == 0
    assert first[:12] in capsys.readouterr().out
    store.put(train(config, words=lists[1]))
    assert main(["runs", "show", config.to_query(), *flags]) == 2
    err = capsys.readouterr().err
    assert "2 stored runs have the settings" in err and "give the key" in err
    assert main(["runs", "show", "task=words&steps=21", *flags]) == 2
    assert "no stored run has the settings 'task=words&steps=21'" in capsys.readouterr().err

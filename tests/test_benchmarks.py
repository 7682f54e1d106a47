"""The benchmark scripts still run (briefly) and print their figures. Nothing about speed is
asserted here: the figures are read by people, from full-length runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

SHORT_RUNS = {
    "bench_engine.py": (["--steps", "5", "--rounds", "1", "--processes", "1"],
                        ["BLAS:", "recorder off", "recording overhead, makemore 200k-step run",
                         "recording overhead by size", "batch 256, width 512",
                         "spiral 2-D model"]),
    "numpy_floor.py": ([], ["us/step"]),
    "bench_sweep.py": (["--runs", "2", "--steps", "20"], ["runs/s"]),
    "bench_dashboard.py": ([], ["first page", "view-only rerun", "chart data"]),
    "calibrate_cost.py": (["--quick", "--activations"], ["BLAS:", "ACTIVATION_COST = ",
                                                     "estimate/measured"]),
    "diagnosis_table.py": (["--limit", "3"], ["named where planted", "exactly right"]),
    "bench_store.py": ([], ["read back from disk", "with the run stored",
                            "such runs fit in the default cap"]),
    "bench_recording.py": (["--rounds", "1"],
                           ["BLAS:", "round 1: recorder off", "median on/off ratio",
                            "snapshots x", "per-step series"]),
    "bench_run_size.py": (["--trials", "2"],
                          ["BLAS:", "default (defaults): version 2", "weights rebuilt by replay",
                           "2-trial search (2 runs stored"]),
    "bench_shelf.py": (["--runs", "3", "--steps", "100"],
                       ["every run held", "shelf", "reading the oldest back"]),
    "search_vs_tpe.py": (["--budget", "4", "--seeds", "0", "--warm-budget", "2",
                          "--steps", "400"],
                         ["BLAS:", "median best: ours", "warm start: a 2 s search"]),
    "lr_finder_check.py": (["--steps", "20", "--workers", "1", "--only", "smoke"],
                           ["finder", "suggests", "suggestion's gap to the best rate"]),
    "fuzz_run_files.py": (["--mutations", "20"], ["20 structural mutations", "0 exceptions"]),
    "trial_links.py": (["--trials", "8"],
                       ["8 of 8 trials opened from their links with no training"]),
    "theory_table.py": (["--depth", "2", "--seeds", "2"],
                        ["| tanh | 0.5 | 0.694 | ordered |", "mean of 2 seeds"]),
    "bench_sessions.py": (["--visitors", "2", "--query", "steps=300", "--different", "2",
                           "--no-alone"],
                          ["2 visitor(s) at once", "1 training(s)", "peak RSS",
                           "2 of 2 pages showed their run from the store, 0 with an error, "
                           "0 training(s)"]),
    "live_cost.py": (["--quick", "--repeats", "1", "--layout", "separate", "--stops", "1"],
                     ["BLAS:", "median ratio (watching / not watching)",
                      "median click to stopped run"]),
}
BROWSER_SCRIPTS = {"bench_sessions.py", "live_cost.py"}


def test_every_benchmark_script_has_a_short_run():
    assert {p.name for p in BENCHMARKS.glob("*.py")} == set(SHORT_RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SHORT_RUNS))
def test_benchmark_runs_and_prints_its_figures(script):
    args, expected = SHORT_RUNS[script]
    if script in BROWSER_SCRIPTS and not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("needs Debian's chromium (CI installs it)")
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), *args],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    for text in expected:
        assert text in result.stdout, (text, result.stdout[-2000:])

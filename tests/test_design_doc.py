"""docs/DESIGN.md states the code's numbers: each one it names is the code's own."""

from __future__ import annotations

from pathlib import Path

from neurondash import diagnosis, jobs, search, store
from neurondash.config import MAX_PARAMS, MAX_SNAPSHOTS
from neurondash.engine import diagnostics
from neurondash.run import UPDATE_WINDOW
from neurondash.run_source import AUTO_SECONDS
from neurondash.runfile import VERSION

DOC = " ".join((Path(__file__).resolve().parents[1] / "docs" / "DESIGN.md")
               .read_text(encoding="utf-8").split())


def test_the_design_doc_states_the_codes_numbers():
    from tests.diagnosis_corpus import CORPUS, HELD_OUT

    stated = [
        f"{AUTO_SECONDS:g} s or less", f"for {jobs.GRACE_SECONDS:g} s",
        f"under {diagnostics.UPDATE_DATA_SHARE:.0%} of a step",
        f"steps {UPDATE_WINDOW[0]:.0%}-{UPDATE_WINDOW[1]:.0%} of the run",
        f"above {diagnosis.SATURATION_PCT:g}% at init",
        f"above {diagnosis.TRAINED_SATURATION_PCT:g}% after training",
        f"std < {diagnosis.COLLAPSED_STD:g} at init",
        f"falls {diagnosis.SHRINK_RATIO:g}x or more",
        f"brought {diagnosis.STILL_FALLING:.0%} or more of its fall",
        f"after {diagnosis.MIN_STEPS_FOR_BASELINE:,} steps",
        f"labels {len(CORPUS) + len(HELD_OUT)} configs ({len(CORPUS)} the rules were built on, "
        f"{len(HELD_OUT)} held out)",
        f"at most {MAX_SNAPSHOTS}", f"within {MAX_PARAMS // 1_000_000}M numbers",
        f"version {VERSION}", f"(default {store.DEFAULT_MAX_BYTES // 1_000_000})",
        "up to 512 training examples drawn once without replacement",
        f"up to {search.MAX_SEARCHED} ranges",
        f"{search.spec.STARTUP_TRIALS} start-up trials", f"factor {search.spec.REDUCTION})",
    ]
    missing = [text for text in stated if text not in DOC]
    assert not missing, missing

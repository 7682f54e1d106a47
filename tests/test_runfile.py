"""Run files are untrusted: every malformed, foreign or tampered file is refused with a
RunFormatError naming what is wrong, never a crash and never a half-usable run."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from neurondash import Config, RunFormatError, train
from neurondash.runchecks import read_run_file


@pytest.fixture(scope="module")
def exported() -> str:
    return train(Config(depth=2, width="16", opt="adam", lr=0.01, steps=40)).to_json()


def nan_weights(blob: dict) -> dict:
    params = blob["state"]["params"]
    count = int(np.prod(params["shape"]))
    nan = np.full(count, np.nan, dtype=np.dtype(params["dtype"]))
    return blob | {"state": blob["state"] | {
        "params": params | {"b64": base64.b64encode(nan.tobytes()).decode()}}}


def text_replace(old: str, new: str):
    return lambda text: text.replace(old, new, 1)


def blob_change(change):
    return lambda text: json.dumps(change(json.loads(text)))


# Each case was reproduced as a crash or as garbage accepted before the schema existed.
CASES = {
    "steps_done Infinity": (text_replace('"steps_done": 40', '"steps_done": Infinity'),
                            "steps_done"),
    "shape 1e999": (blob_change(lambda b: b | {"state": b["state"] | {"params": b["state"][
        "params"] | {"shape": ["SHAPE"]}}}), "shape"),
    "5,000-digit integer": (text_replace('"steps_done": 40', '"steps_done": ' + "9" * 5000),
                            "not valid JSON|steps_done"),
    "deep nesting": (lambda text: text[:-1] + ', "deep": ' + "[" * 50_000 + "]" * 50_000 + "}",
                     "not valid JSON"),
    "words of numbers": (blob_change(lambda b: b | {"words": [1, 2, 3]}), "words"),
    "no uniform baseline": (blob_change(lambda b: b | {"baselines": {
        k: v for k, v in b["baselines"].items() if k != "uniform"}}), "baselines"),
    "NaN weights marked finished": (blob_change(nan_weights), "not finite"),
    "NaN val loss": (blob_change(lambda b: b | {"final": b["final"] | {"val_loss": None}}),
                     "val_loss"),
    "negative steps": (blob_change(lambda b: b | {"steps_done": -5}), "steps_done"),
    "10**18 steps": (blob_change(lambda b: b | {"steps_done": 10**18}), "steps_done"),
    "fewer steps than history": (blob_change(lambda b: b | {"steps_done": 20} | {
        "state": b["state"] | {"step": 20}}), "finished run|history"),
    "invalid RNG": (blob_change(lambda b: b | {"state": b["state"] | {"rng": b["state"][
        "rng"] | {"bit_generator": "MT19937"}}}), "rng"),
    "RNG state out of range": (blob_change(lambda b: b | {"state": b["state"] | {"rng": b[
        "state"]["rng"] | {"state": {"state": -1, "inc": 1}}}}), "rng"),
    "unknown status": (blob_change(lambda b: b | {"status": "great"}), "status"),
    "word list on names": (blob_change(lambda b: b | {"words": ["anna"] * 30}), "word list"),
    "optimizer moments missing": (blob_change(lambda b: b | {"state": b["state"] | {
        "optimizer": {"t": 40}}}), "optimizer"),
    "optimizer step count": (blob_change(lambda b: b | {"state": b["state"] | {
        "optimizer": b["state"]["optimizer"] | {"t": 7}}}), "optimizer"),
    "truncated": (lambda text: text[: len(text) // 2], "not valid JSON"),
    "an array of too few bytes": (blob_change(lambda b: b | {"state": b["state"] | {
        "params": b["state"]["params"] | {"b64": "AAAA"}}}), "malformed"),
    "object dtype": (blob_change(lambda b: b | {"state": b["state"] | {
        "params": b["state"]["params"] | {"dtype": "|O"}}}), "dtype"),
    "a huge message": (blob_change(lambda b: b | {"message": "x" * 100_000}), "message"),
    "NaN token": (lambda text: re.sub(r'"elapsed": [0-9.e-]+', '"elapsed": NaN', text),
                  "not valid JSON|elapsed"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_malformed_or_tampered_file_is_rejected_with_its_reason(exported, case):
    mutate, reason = CASES[case]
    text = mutate(exported).replace('"SHAPE"', "1e999")
    with pytest.raises(RunFormatError, match=reason):
        read_run_file(text)


def test_a_tampered_word_list_is_rejected():
    words = [f"{a}{b}" for a in "abcde" for b in "xyzw"]
    run = train(Config(task="words", depth=1, width="8", steps=20), words=words)
    blob = json.loads(run.to_json())
    for tampered, reason in ((["Ab!"] + words[1:], "word list"),
                             (words[:-1] + ["qq"], "vocabulary|baselines"),
                             (words[:5], "word list")):
        with pytest.raises(RunFormatError, match=reason):
            read_run_file(json.dumps(blob | {"words": tampered}))


def test_the_export_is_standard_json_even_for_a_diverged_run():
    """No NaN or Infinity tokens (strict parsers refuse them), and the importer reads it."""
    run = train(Config(depth=1, width="8", act="relu", init="normal", init_scale=10.0,
                       lr=10.0, steps=50))
    assert run.status == "diverged"

    def refuse(token: str):
        raise ValueError(f"non-standard JSON token {token}")

    text = run.to_json()
    json.loads(text, parse_constant=refuse)
    assert read_run_file(text).to_json() == text

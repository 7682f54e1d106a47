"""Word lists as real files look: a byte-order mark, decomposed accents, a Turkish capital
I; and for any text at all, a list of clean words or a WordListError, nothing else."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash.data.names import ALLOWED_PUNCTUATION, WordListError, parse_word_list

FILLER = "\n".join(["anna", "bob", "carl", "dora"] * 5)


@pytest.mark.parametrize(("text", "first"), [
    ("\ufeffZoe\n" + FILLER, "zoe"),  # a byte-order mark, as Windows editors write
    ("Cafe\u0301\n" + FILLER, "caf\u00e9"),  # "café" typed on macOS (NFD)
    ("\u0130stanbul\n" + FILLER, "istanbul"),  # "İstanbul": no stray combining dot
    ("  MÜLLER \n" + FILLER, "m\u00fcller"),
])
def test_real_world_lists_are_read(text, first):
    for data in (text, text.encode("utf-8")):
        assert parse_word_list(data)[0] == first


def test_a_refused_character_is_named_even_when_invisible():
    with pytest.raises(WordListError, match="U\\+200B ZERO WIDTH SPACE"):
        parse_word_list("an\u200bna\n" + FILLER)
    with pytest.raises(WordListError, match="COMBINING ACUTE ACCENT, a mark that does not"):
        parse_word_list("a\u0301\u0301x\n" + FILLER)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=12), max_size=40), st.booleans())
def test_any_text_gives_clean_words_or_a_clear_refusal(lines, as_bytes):
    text = "\n".join(lines)
    try:
        words = parse_word_list(text.encode("utf-8") if as_bytes else text)
    except WordListError as err:
        assert str(err)
        return
    for word in words:
        assert word and word == unicodedata.normalize("NFC", word) and word == word.lower()
        assert all(c.isalpha() or c in ALLOWED_PUNCTUATION for c in word)

"""The other structured inputs, fuzzed from the grammar their parsers declare: a search
range line (``search.parse_range``: name=body [if setting=values]) and a word-list upload
(``names.parse_word_list``: lines of letters, '-' and "'"). Drawn from the grammar, most
inputs get past the first check, so the deeper rules are reached; each input ends in a
value that keeps the rules, or the parser's own error with a message."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash.config import SETTINGS, SETTINGS_BY_NAME, Config
from neurondash.data.names import (
    ALLOWED_PUNCTUATION,
    MAX_VOCAB,
    MAX_WORD_LENGTH,
    MIN_WORDS,
    WordListError,
    parse_word_list,
)
from neurondash.search import KINDS, SEARCHABLE, SearchError, SearchSpec, parse_range
from neurondash.search.study import ask, make_study
from neurondash.sweep import value_separator

NAMES = st.sampled_from([*SEARCHABLE, *SETTINGS_BY_NAME, "x", "LR", "lr ", ""])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 3000).map(str),
    st.sampled_from(["1e-4", "0.3", "0.0137", "-1", "1e999", "nan", "", " 2 ", "1_0"]))
WORDS = st.sampled_from([c for s in SETTINGS for c in s.choices] + ["64;128", "8,8", "x"])
VALUES = st.one_of(NUMBERS, WORDS)


def valid_values(name: str) -> st.SearchStrategy[str]:
    """Values the settings table allows for ``name``, as text."""
    setting = SETTINGS_BY_NAME.get(name)
    if setting is None:
        return VALUES
    if setting.choices:
        return st.sampled_from(setting.choices)
    if name == "width":
        return st.integers(1, 64).map(str)
    if setting.kind is int:
        return st.integers(int(setting.low), int(min(setting.high, 1000))).map(str)
    return st.floats(max(setting.low, 1e-4), setting.high).map(lambda v: f"{v:.4g}")


@st.composite
def range_lines(draw) -> str:
    """Mostly well-formed lines (a searchable name, its own values), some noise in each
    part, so that every rule after the first is reached."""
    name = draw(st.one_of(st.sampled_from(SEARCHABLE), NAMES) if draw(st.booleans())
                else st.sampled_from(SEARCHABLE))
    noisy = draw(st.integers(0, 3)) == 0
    values = VALUES if noisy else valid_values(name)
    kind = draw(st.sampled_from([*KINDS, "bare", "normal"]))
    separator = draw(st.sampled_from([",", ";", ", "]))
    if kind == "auto":
        body = "auto"
    elif kind == "bare":
        body = separator.join(draw(st.lists(values, min_size=1, max_size=4)))
    elif kind == "choice":
        body = f"choice({separator.join(draw(st.lists(values, max_size=4)))})"
    else:
        bounds = st.lists(NUMBERS if noisy else values, min_size=2 - noisy, max_size=2 + noisy)
        body = f"{kind}({','.join(sorted(draw(bounds), key=_as_number))})"
    line = f"{name}{draw(st.sampled_from(['=', ' = ', '==']) if noisy else st.just('='))}{body}"
    if draw(st.integers(0, 3)) == 0:
        cond = draw(st.sampled_from(["opt", "act", "norm", "depth"]) if not noisy else NAMES)
        line += (f" if {cond}="
                 + ",".join(draw(st.lists(valid_values(cond), min_size=1, max_size=3))))
    return line


def _as_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(range_lines())
def test_a_range_line_is_a_range_that_spells_back_or_a_search_error(line):
    try:
        parsed = parse_range(line)
    except SearchError as err:
        assert str(err)
        return
    assert parse_range(parsed.spell()) == parsed, line
    try:
        spec = SearchSpec(Config(task="moons", depth=1, width="4", steps=5), (parsed,),
                          trials=4, method="random")
    except SearchError as err:
        assert str(err)
        return
    study = make_study(spec)
    for index in range(spec.trial_count):
        trial = ask(spec, study, index)[1]
        assert trial.config is not None or trial.skipped, line


CHOICE_NAMES = st.sampled_from([name for name in SEARCHABLE if value_separator(name) == ","])
ONE_VALUE = st.one_of(NUMBERS, WORDS).filter(lambda text: not set(text) & set(",()"))


@given(CHOICE_NAMES.flatmap(lambda name: st.tuples(
    st.just(name), st.lists(st.one_of(valid_values(name), ONE_VALUE), min_size=1,
                            max_size=6))))
def test_a_bad_choice_is_left_out_and_said_and_the_lines_good_values_are_kept(drawn):
    """One out-of-range value in a choice line drops that value, not the line: the kept
    values are exactly those the setting allows, and each dropped one is said."""
    name, parts = drawn
    setting = SETTINGS_BY_NAME[name]
    good, bad = [], []
    for part in parts:
        try:
            good.append(setting.coerce(part)) if part.strip() else None
        except ValueError:
            bad.append(part)
    line, dropped = f"{name}=choice({','.join(parts)})", []
    try:
        parsed = parse_range(line, dropped)
    except SearchError as err:
        assert not good and str(err), line
        return
    assert parsed.values == tuple(dict.fromkeys(good)), line
    assert len(dropped) == len(bad) and all(dropped), line
    if bad:
        try:
            parse_range(line)
            raise AssertionError(f"{line}: without a dropped list the line is refused")
        except SearchError:
            pass


LETTERS = st.sampled_from(list("abcxyzäöüßéñ") + list("αβγ") + list("жщы")
                          + ["e\u0301", "A", "Ö", "İ"])
FAULTS = st.sampled_from(["1", " ", "\u200b", "\u0301\u0301", "_", "!", "\t", "\x00"])


@st.composite
def word_lists(draw) -> bytes | str:
    lines = []
    for _ in range(draw(st.integers(MIN_WORDS - 3, MIN_WORDS + 10))):
        word = "".join(draw(st.lists(LETTERS, min_size=1, max_size=8)))
        if draw(st.integers(0, 9)) == 0:
            word += draw(st.sampled_from(ALLOWED_PUNCTUATION))
        if draw(st.integers(0, 30)) == 0:
            position = draw(st.integers(0, len(word)))
            word = word[:position] + draw(FAULTS) + word[position:]
        if draw(st.integers(0, 60)) == 0:
            word *= MAX_WORD_LENGTH
        lines.append(word)
        if draw(st.integers(0, 10)) == 0:
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text.encode("utf-8") if draw(st.booleans()) else text


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(word_lists())
def test_a_word_list_keeps_its_rules_or_is_refused_with_a_message(data):
    try:
        words = parse_word_list(data)
    except WordListError as err:
        assert str(err)
        return
    assert len(words) >= MIN_WORDS
    assert len(set("".join(words))) < MAX_VOCAB
    for word in words:
        assert 0 < len(word) <= MAX_WORD_LENGTH
        assert word == unicodedata.normalize("NFC", word) == word.lower().strip()
        assert all(c.isalpha() or c in ALLOWED_PUNCTUATION for c in word), word
    assert parse_word_list("\n".join(words)) == words, "the clean list reads as itself"

"""User-supplied text on the page: escaped before it reaches Markdown.

Streamlit renders the bodies of ``st.warning``, ``st.error``, ``st.info``, ``st.success``,
``st.caption``, ``st.markdown`` and ``st.write`` as Markdown: a link value, a word-list
line, a file name or a string from an imported run that reached them raw could draw a
live link, load a remote image or fake the app's own messages. Every such string goes
through ``escape`` (or ``notice``, which escapes a whole message), so it shows as the
characters it is and never as formatting.
"""

from __future__ import annotations

import re

import streamlit as st

_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
"""Every ASCII punctuation character: CommonMark lets a backslash escape each of them, and
escaping them all also covers Streamlit's additions (``:red[...]``, ``:material/...:``,
emoji shortcodes, ``$...$`` for LaTeX)."""
_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto|www)\b)(?=[:.])|(?=@)")
"""Where GitHub-flavoured Markdown would turn plain text into a link by itself (a URL
scheme, ``www.``, an e-mail address): backslash escapes do not stop that."""
WORD_JOINER = "\u2060"
"""An invisible character that breaks those patterns without changing what is read."""
LEVELS = ("info", "success", "warning", "error", "caption")


def escape(text: object) -> str:
    """``text`` as Markdown that renders exactly as these characters, on one line."""
    one_line = " ".join(str(text).splitlines())
    unlinked = _AUTOLINK.sub(lambda m: (m.group(1) or "") + WORD_JOINER, one_line)
    return _ASCII_PUNCTUATION.sub(r"\\\1", unlinked)


def notice(level: str, text: object, container=st) -> None:
    """Show a whole message that may carry user text (``level``: one of ``LEVELS``)."""
    if level not in LEVELS:
        raise ValueError(f"unknown message level {level!r}")
    getattr(container, level)(escape(text))

"""What a reader sees of a Markdown message: backslash escapes and the invisible word
joiners that stop automatic links removed."""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def rendered(markdown: str) -> str:
    return _ESCAPED.sub(r"\1", markdown).replace("\u2060", "")


def texts(elements) -> str:
    """The rendered text of several message elements, joined."""
    return " ".join(rendered(e.value) for e in elements)

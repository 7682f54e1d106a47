"""What a reader sees of a Markdown message: backslash escapes removed."""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def rendered(markdown: str) -> str:
    return _ESCAPED.sub(r"\1", markdown)


def texts(elements) -> str:
    """The rendered text of several message elements, joined."""
    return " ".join(rendered(e.value) for e in elements)

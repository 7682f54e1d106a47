"""Altair, for every channel it wraps (each ``encode(y="loss:Q")``), builds a converter that
hashes the JSON of every Vega-Lite schema class (about 600 of them, 8 ms) and then throws
it away; a chart with a dozen channels spent most of its build there (vega/altair#3547
proposes building it once). Here the converter is kept per set of wrapper classes: the
same classes give the same converter, whose lookup table is only ever read.

Installed on import of ``neurondash.charts``; a later Altair without ``_FromDict`` is left
as it is (``install`` returns False).
"""

from __future__ import annotations

import functools
from typing import Any

from altair.utils import schemapi

_ORIGINAL = schemapi.SchemaBase.__dict__["from_dict"]


@functools.lru_cache(maxsize=8)
def _converter(classes: tuple[type, ...]) -> Any:
    return schemapi._FromDict(classes)


def _from_dict(cls: type, dct: dict[str, Any], validate: bool = True) -> Any:
    """``SchemaBase.from_dict`` with the converter built once (the same steps otherwise)."""
    if validate:
        cls.validate(dct)
    return _converter(tuple(cls._default_wrapper_classes())).from_dict(dct, cls)


def install() -> bool:
    """Use the kept converter; False where this Altair has no ``_FromDict`` to keep."""
    if not hasattr(schemapi, "_FromDict"):
        return False
    schemapi.SchemaBase.from_dict = classmethod(_from_dict)
    return True


def uninstall() -> None:
    """Altair's own ``from_dict`` again (tests compare the two)."""
    schemapi.SchemaBase.from_dict = _ORIGINAL

"""Altair, for every channel it wraps (each ``encode(y="loss:Q")``), builds a converter that
hashes the JSON of every Vega-Lite schema class (about 600 of them, 8 ms) and then throws
it away; a chart with a dozen channels spent most of its build there (vega/altair#3547
proposes building it once). Here the converter is kept per set of wrapper classes: the
same classes give the same converter, whose lookup table is only ever read.

Altair also validates every schema object it creates against the Vega-Lite JSON schema
(its debug mode, on by default: better tracebacks while writing a chart): a second pass
over each object that changes nothing it builds, and a quarter of the first live draw of
the Activations tab (about 100 ms of CPU against 80 here, while the training waits). ``install``
turns it off; the tests still validate every chart, through ``to_dict()``.

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
    """Use the kept converter and no validation at creation; False where this Altair has no
    ``_FromDict`` to keep."""
    schemapi.disable_debug_mode()
    if not hasattr(schemapi, "_FromDict"):
        return False
    schemapi.SchemaBase.from_dict = classmethod(_from_dict)
    return True


def uninstall() -> None:
    """Altair's own ``from_dict`` and validation again (tests compare the two)."""
    schemapi.enable_debug_mode()
    schemapi.SchemaBase.from_dict = _ORIGINAL

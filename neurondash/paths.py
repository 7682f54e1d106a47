"""Where neurondash keeps files between runs: the run store's directory and, inside it, a
cache of decoded data that worker processes read instead of parsing the package files."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path


def store_root() -> Path:
    """``NEURONDASH_STORE``, else the user's cache directory (XDG on Linux, Library/Caches
    on macOS, LOCALAPPDATA on Windows) under ``neurondash/runs``."""
    if os.environ.get("NEURONDASH_STORE"):
        return Path(os.environ["NEURONDASH_STORE"]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "neurondash" / "runs"


def write_atomically(path: Path, data: bytes, scratch: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a reader sees
    the whole file or none (and two writers of the same bytes are safe). The temporary file
    is made in ``scratch`` (default: beside ``path``), which must be on the same filesystem."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = (scratch / f"{path.name}.{uuid.uuid4().hex}" if scratch is not None
                 else path.with_name(f".{path.name}.{uuid.uuid4().hex}"))
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)

"""Exception boundaries: an unexpected error is shown where it happened, never raised.

Each view, the training call and every widget callback (import, Reset, Continue, a
lesson's Open, Use lr) runs inside one, so a bug or an input nobody foresaw costs that
one piece of the page, with the reason shown in place, and the session stays usable.
Streamlit's own rerun and stop signals are BaseExceptions and pass through.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from .session import Session
from .text import notice

_LOGGER = logging.getLogger(__name__)


def report_internal_error(what: str, err: Exception, kept: str) -> None:
    """Log an unexpected error with its traceback and tell the user, in place, what stopped
    and what still works."""
    _LOGGER.exception("%s failed", what)
    notice("error", f"{what} stopped on an internal error ({type(err).__name__}: {err}). "
                    f"{kept}; please report this link so it can be fixed.")


def draw_or_report(name: str, draw: Callable[[], Any]) -> None:
    """Draw one part of the page; an unexpected error is shown in its place."""
    try:
        draw()
    except Exception as err:
        report_internal_error(f"The {name} view", err, "The other tabs still work")


def callback(what: str) -> Callable:
    """Decorate a widget callback so that an unexpected error in it is reported on the
    page instead of Streamlit's traceback box."""

    def wrap(function: Callable) -> Callable:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as err:
                _LOGGER.exception("%s failed", what)
                Session().callback_error = (
                    f"{what} stopped on an internal error ({type(err).__name__}: {err}). "
                    "The dashboard is as it was before; please report this so it can be "
                    "fixed.")
                return None

        return guarded

    return wrap


def show_callback_error() -> None:
    message = Session().take("callback_error")
    if message:
        notice("error", message)

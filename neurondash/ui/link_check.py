"""A link's parameters checked once, when a session opens it: every value the run will not
use is said, and the link (and so the controls bound to it) is rewritten to the values the
run uses before any control exists."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..config import SETTINGS_BY_NAME, VIEW_PARAMS, Config, applies_to_task, spell_value
from .session import Session


def _reserved_param_warnings() -> list[str]:
    """Streamlit keeps ``embed`` for itself (embedding the app in another page) and hides it
    from the app; a link that means the embedding size by it is told the setting's name."""
    ctx = get_script_run_ctx()
    pairs = parse_qsl(ctx.query_string if ctx is not None else "", keep_blank_values=True)
    return [f"embed={value!r} is Streamlit's own link parameter (it embeds the app in "
            f"another page), not a setting: the embedding size is embed_dim, as in "
            f"embed_dim={value}." if _is_number(value) else
            f"embed={value!r} is Streamlit's own link parameter and was left to it; the "
            "embedding size is embed_dim."
            for name, value in pairs
            if name.lower() == "embed" and value.lower() not in ("true", "false")]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_url_once(tabs: tuple[str, ...],
                   check_view_params: Callable[[dict[str, str]],
                                               dict[str, tuple[str, str | None]]] | None = None
                   ) -> None:
    """On a session's first run, explain URL values the widgets would silently drop
    (``tabs``: the views a link's ``view`` may name; ``check_view_params``: what is wrong
    with the views' own parameters, such as the Sweep view's search, by name: the message,
    and the value the link gets instead, or None to take it out)."""
    if Session().url_warnings is not None:
        return
    raw = {k: st.query_params.get(k) for k in st.query_params}
    used, warnings = Config.lenient(raw)
    warnings += _reserved_param_warnings()
    repeated = _one_value_each()
    warnings += repeated
    invalid, clamped, respelled_view = [], [], False
    for name in raw.keys() & SETTINGS_BY_NAME.keys():
        setting = SETTINGS_BY_NAME[name]
        try:
            value, coerced = setting.coerce(raw[name]), True
        except ValueError:
            value, coerced = setting.nearest(raw[name]), False
        kept = getattr(used, name)
        if value is not None and (not coerced or kept != value) and (
                kept == value or kept != setting.default):
            # Beyond a bound, or narrowed to fit the parameter cap: the run uses that value,
            # as warned, and so do the link and its control.
            clamped.append(name)
            st.query_params[name] = spell_value(kept)
            continue
        if value is not None and not applies_to_task(name, used.task):
            # The sidebar has no control for it: in the link it would only give the same
            # run another key (and never open it from the store).
            warnings.append(f"{name}={raw[name]!r} does not apply to task {used.task}: "
                            "left out.")
            value = None
        # Refused alone, or by a rule over several settings (a width list of another
        # length than depth): its widget and the link start from the default the run
        # uses, as warned, instead of showing the refused value.
        if value is None or (getattr(used, name) != value
                             and getattr(used, name) == setting.default):
            invalid.append(name)
            del st.query_params[name]
    for name in raw.keys() - SETTINGS_BY_NAME.keys() - VIEW_PARAMS:
        del st.query_params[name]  # explained by Config.lenient ("Ignored unknown ...")
    if check_view_params is not None:
        for name, (said, instead) in check_view_params(raw).items():
            warnings.append(said)
            invalid.append(name)
            if instead is None:  # its control starts from its default, as warned
                del st.query_params[name]
            else:
                st.query_params[name] = instead
    if "view" in raw and raw["view"] not in tabs:
        named = {tab.lower(): tab for tab in tabs}.get(raw["view"].strip().lower())
        if named is not None:  # ?view=gradients: the tab, as spelt in the link
            st.query_params["view"] = named
            respelled_view = True
        else:
            warnings.append(f"view={raw['view']!r} is not a tab (one of "
                            f"{', '.join(tabs)}); showing {tabs[0]}.")
    respelled = _respell_link_values(raw, invalid + clamped) or respelled_view
    Session().url_warnings = warnings
    if invalid or clamped or respelled or repeated:
        # Streamlit seeds each widget from the link the run started with, and its own
        # parsing raises on some bad values (an integer field given "inf"): rerun with the
        # cleaned link before any widget exists.
        st.rerun()


def _one_value_each() -> list[str]:
    """Keep the last value of a parameter the link gives more than once (as the page
    reads it): a control bound to the address bar dropped a repeated one without a word
    (``?lr=0.2&lr=0.3`` trained at the default 0.1). What was kept, said per parameter."""
    said = []
    for name in list(st.query_params):
        values = st.query_params.get_all(name)
        if len(values) > 1:
            st.query_params[name] = values[-1]
            said.append(f"{name} is given {len(values)} times in the link "
                         f"({', '.join(map(repr, values))}); using the last, {values[-1]!r}.")
    return said


def _respell_link_values(raw: dict[str, str], rewritten: list[str]) -> bool:
    """Write each valid setting of the link the way its control spells it (``lr=0.0100`` as
    ``lr=0.01``, ``width=96, 40`` as ``width=96,40``): a control seeded from the link
    matches the text against its own spelling and would drop another one. The value is the
    same, so nothing is said. Whether anything was rewritten."""
    respelled = False
    for name in raw.keys() & SETTINGS_BY_NAME.keys() - set(rewritten):
        spelled = spell_value(SETTINGS_BY_NAME[name].coerce(raw[name]))
        if spelled != raw[name]:
            st.query_params[name] = spelled
            respelled = True
    return respelled

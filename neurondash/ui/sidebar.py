"""The sidebar: one control per setting, bound to the link; the link checked once; Train,
Continue and Reset; loading a Config into the controls."""

from __future__ import annotations

import math

import streamlit as st

from ..config import (
    SETTINGS,
    SETTINGS_BY_NAME,
    Config,
    ConfigError,
    applies_to_task,
    spell_value,
)
from ..data.names import MAX_UPLOAD_BYTES, WordListError, parse_word_list
from .guard import callback
from .session import Session
from .text import notice


def log_grid(low: float, high: float) -> list[float]:
    """1-1.5-2-3-5-7 steps per decade: the options of the log-scale sliders."""
    values = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 1.5, 2, 3, 5, 7):
            value = float(f"{mantissa * 10.0**exponent:.6g}")
            if low <= value <= high:
                values.append(value)
    return values


LOG_GRIDS = {s.name: log_grid(s.low, s.high) for s in SETTINGS if s.log}
"""The slider grid of every setting the table marks ``log``, over its own range."""


def slider_options(name: str, value: float) -> list[float]:
    """A log slider's stops: its grid plus the value it holds, so that any value in range
    (a link's, a search trial's, the LR finder's) is held exactly, never snapped."""
    return sorted({*LOG_GRIDS[name], value})


def _held_value(name: str):
    """The value the control of ``name`` holds in this run: what the user or code set, else
    the link's (checked), else the default."""
    setting = SETTINGS_BY_NAME[name]
    if name in st.session_state:
        return st.session_state[name]
    try:
        return setting.coerce(st.query_params[name])
    except (KeyError, ConfigError):
        return setting.default


def _help(name: str) -> str:
    setting = SETTINGS_BY_NAME[name]
    return f"{setting.help} ({setting.allowed()})"


def _widget(name: str, container) -> object:
    """One sidebar control, bound to the URL under the setting's own name.

    The control's default is always the setting's default: Streamlit leaves a bound widget
    out of the address bar only while it holds its default, so a link lists exactly the
    settings that differ from the defaults. A value set in code (Reset, a lesson, an
    import, the LR finder, a link's off-grid value) wins over the default; Streamlit's
    warning about that case is turned off in ``main``."""
    setting = SETTINGS_BY_NAME[name]
    common = {"key": name, "help": _help(name), "bind": "query-params"}
    label = name.replace("_", " ")
    if setting.multi:
        return _multi_widget(name, label, container)
    if setting.choices:
        return container.selectbox(label, setting.choices,
                                   index=setting.choices.index(setting.default), **common)
    if name in LOG_GRIDS:
        options = slider_options(name, _held_value(name))
        chosen = container.select_slider(label, options, format_func=spell_value,
                                         value=setting.default, **common)
        # The slider's stops are a grid: any other value in range is typed here.
        container.text_input(f"type {label}", key=f"{name}_typed", on_change=_typed_number,
                             args=(name,), placeholder=f"or type one, e.g. "
                             f"{spell_value(_example(name))}", label_visibility="collapsed")
        return chosen
    if name == "width":
        return container.text_input(label, value=setting.default, on_change=_typed_width,
                                    **common)
    if setting.kind is int and setting.high - setting.low <= 64:
        return container.slider(label, int(setting.low), int(setting.high),
                                value=setting.default, **common)
    if setting.kind is int:
        return container.number_input(label, int(setting.low), int(setting.high), step=1,
                                      value=setting.default, **common)
    step = 0.05 if setting.high <= 1 and name != "wd" else (1e-4 if name == "wd" else 0.01)
    # %g shows the value the control holds in full (a link's 0.0137 is not shown as 0.01).
    return container.number_input(label, float(setting.low), float(setting.high), step=step,
                                  format="%g", value=float(setting.default), **common)


def _example(name: str) -> float:
    """A value off the slider's grid, to show what may be typed."""
    grid = LOG_GRIDS[name]
    return float(f"{(grid[len(grid) // 2] * grid[len(grid) // 2 + 1]) ** 0.5:.3g}")


@callback("Typing a value")
def _typed_number(name: str) -> None:
    """A value typed under a log slider becomes the slider's (its stops take it in); one
    out of range or not a number is said, and the slider keeps its value."""
    setting, key = SETTINGS_BY_NAME[name], f"{name}_typed"
    typed = st.session_state[key].strip()
    st.session_state[key] = ""
    if not typed:
        return
    try:
        st.session_state[name] = setting.coerce(typed)
    except ValueError:
        # Beyond a bound the bound is used, as a link's value is (lr 50 takes 10).
        nearest = setting.nearest(typed)
        if nearest is not None:
            st.session_state[name] = nearest
        Session().typed_refused = (
            f"{name}={typed!r} is not allowed: {setting.allowed()}; " + (
                f"using the nearest allowed value {spell_value(nearest)}." if nearest is not
                None else f"{name} stays {spell_value(_held_value(name))}."))


@callback("Checking the width")
def _typed_width() -> None:
    """The typed width as the link spells it ('37 ,19, 5' is 37,19,5); one the setting
    refuses is put back to the width shown before, and said: it stayed in the box and
    the address bar, where a link's was taken out."""
    setting, typed = SETTINGS_BY_NAME["width"], st.session_state["width"]
    try:
        width = setting.coerce(typed)
    except ValueError:
        held = Session().width_shown or setting.default
        st.session_state["width"] = held
        Session().typed_refused = (f"width={typed!r} is not allowed: {setting.allowed()}; "
                                   f"width stays {held!r}.")
        return
    # With the other controls' values, as a link's width is checked: a list of another
    # length than depth, or a width over the parameter cap, stayed in the box and the link.
    used, messages = Config.lenient(_controls() | {"width": width})
    said = [m for m in messages if m.startswith("width=")]
    if used.width != width and said and "using the widest that fits" not in said[-1]:
        # Refused by a rule (a list of another length than depth): the width shown before
        # stays, as for a width refused on its own, rather than the default.
        held = Session().width_shown or setting.default
        st.session_state["width"] = held
        Session().typed_refused = f"{said[-1].rsplit('; using ', 1)[0]}; width stays {held!r}."
        return
    st.session_state["width"] = used.width
    if used.width != width and said:
        Session().typed_refused = said[-1]


def _controls() -> dict:
    """The controls' values as a link spells them (what the next draw's Config is made of,
    read in a callback, before the widgets are drawn)."""
    return {name: ",".join(value) if isinstance(value, list) else value
            for name, value in st.session_state.items() if name in SETTINGS_BY_NAME}


def _multi_widget(name: str, label: str, container) -> str:
    """A multiselect kept in the link as one comma list, the spelling of the CLI and the
    JSON (Streamlit's own binding would repeat the parameter once per choice)."""
    setting = SETTINGS_BY_NAME[name]
    linked = st.query_params.get(name, setting.default)
    written = Session().multi_written
    # The first run (the link's value was checked, and dropped if invalid) or a link that
    # Back or Forward changed since this control last wrote it.
    if name not in st.session_state or written.get(name, linked) != linked:
        st.session_state[name] = setting.coerce(linked).split(",")
    chosen = container.multiselect(label, setting.choices, key=name, help=_help(name))
    text = ",".join(c for c in setting.choices if c in chosen)
    if text and text != setting.default:
        st.query_params[name] = text
    else:
        st.query_params.pop(name, None)
    written[name] = st.query_params.get(name, setting.default)
    return text


GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(s.name for s in SETTINGS if s.group == group)
    for group in dict.fromkeys(s.group for s in SETTINGS)}
"""Sidebar sections and their controls, in the settings table's order (``Setting.group``)."""


@callback("Continue")
def _request_continue() -> None:
    """Continue's click, before the widgets are drawn: a partial run (stopped, or a link's
    ``until``) to the end of its schedule, as the button under a stopped run does; else
    `steps` more steps into ``more`` (the run is then continued from the shorter one, see
    ``get_run``)."""
    latest = Session().runs.latest()
    if latest is not None and latest.status == "diverged":
        Session().continue_refused = ("A diverged run cannot be continued; change "
                                                "the settings and retrain.")
        return
    # Continue trains on the run of these settings: while it trains, or before it exists,
    # it started a second training of twice the steps from step 0.
    job = Session().training
    if job is not None and not job.done.is_set():
        Session().continue_refused = ("This run is still training: Continue trains on a run "
                                      "that has ended. Wait for its end (or stop it), then "
                                      "Continue.")
        return
    current, _ = Config.lenient(_controls())
    if not any(entry.config == current for _, entry in Session().runs.entries()):
        Session().continue_refused = ("There is no run of these settings to continue yet: "
                                      "press Train first.")
        return
    if st.session_state.get("until", SETTINGS_BY_NAME["until"].default):
        st.session_state["until"] = 0
        Session().action = "continue"
        return
    setting = SETTINGS_BY_NAME["more"]
    more = (st.session_state.get("more", setting.default)
            + st.session_state.get("steps", SETTINGS_BY_NAME["steps"].default))
    if more > setting.high:
        Session().continue_refused = (
            f"Continuing would make more = {more:,}, above its {setting.high:,} "
            "limit; train a longer schedule (steps) instead.")
        return
    st.session_state["more"] = more
    Session().action = "continue"


@callback("Reset")
def _reset() -> None:
    """Reset's click, before the widgets are drawn: every control back to its default.

    The controls are bound to the link, which Streamlit then updates itself (a bound
    parameter cannot be cleared through ``st.query_params``: that raised on every link
    with a changed setting)."""
    for setting in SETTINGS_BY_NAME.values():
        st.session_state[setting.name] = (setting.default.split(",") if setting.multi
                                          else setting.default)
    Session().forget_runs()


def sidebar() -> tuple[Config, list[str], list[str] | None]:
    """Draw the sidebar and return the Config it describes (lenient: bad combos explained)."""
    st.sidebar.title("neurondash")
    if Session().take("drop_until"):
        st.session_state["until"] = 0
    train_col, more_col, reset_col = st.sidebar.columns([0.9, 1.25, 0.95], gap="small")
    if train_col.button("Train", type="primary", help="Train this Config now"):
        Session().action = "train"
    job = Session().training
    # No tooltip while a run trains: the pointer rests on Continue after its click, and
    # the tooltip then covered the Stop button beside the progress bar.
    more_col.button("Continue", on_click=_request_continue,
                    help=None if job is not None and not job.done.is_set() else
                    "Train the current run on: a stopped one to the end of its schedule, "
                    "else `steps` more steps (added to `more`, so the link reproduces the "
                    "continued run)")
    reset_col.button("Reset", on_click=_reset,
                     help="Back to the defaults; forget this session's runs")
    st.sidebar.caption("The address bar always holds the sidebar's settings: copy it to "
                       "share exactly this dashboard (a value a warning refuses trains as "
                       "that warning says, here and from the link).")
    values, words = {}, None
    task = None  # set by the first widget (Data comes first): which settings apply
    for group, names in GROUPS.items():
        with st.sidebar.expander(group, expanded=group in ("Architecture", "Initialization")):
            for name in names:
                if not applies_to_task(name, task):
                    continue
                values[name] = _widget(name, st)
                if name == "width":
                    Session().width_shown = values[name]
                if name == "task":
                    # The widget's value, not session state: on a link's first load the
                    # state has no task yet, and the link's 2-D settings would be skipped.
                    task = values[name]
                if name == "task" and values[name] == "words":
                    # The browser refuses a bigger file at once, in the parser's limit.
                    upload = st.file_uploader(f"word list (.txt, one word per line, up to "
                                              f"{MAX_UPLOAD_BYTES / 1e6:g} MB)",
                                              type=["txt"], key="word_file",
                                              max_upload_size=math.ceil(
                                                  MAX_UPLOAD_BYTES / 2**20),
                                              help="UTF-8 text, letters only, 20+ words, "
                                                   f"up to {MAX_UPLOAD_BYTES / 1e6:g} MB")
                    words = _read_words(upload)
                    if upload is None and Session().imported_words:
                        words = list(Session().imported_words)
                        st.caption(f"Using the {len(words):,} words of the imported run; "
                                   "upload a list to train on another.")
    config, messages = Config.lenient(values)
    if _until_outlived(config):
        st.rerun()
    return config, messages, words


def _until_outlived(config: Config) -> bool:
    """Whether ``until`` (a stopped run's, or a search rung's from its link) outlived the
    settings it came with: another setting changed under it, so the run asked for now is
    a whole one (a walker changed width on a stopped run and trained 46,065 of 83,000
    steps without a word). It is then dropped before the next draw. A new ``until`` (a
    stored run opened from the Runs view) comes with its own settings."""
    if not config.until:
        Session().until_of = None
        return False
    others = config.replace(until=0).to_query()
    held = Session().until_of
    if held is None or held[0] != config.until or held[1] == others:
        Session().until_of = (config.until, others)
        return False
    Session().until_of = None
    Session().drop_until = True
    return True


def _read_words(upload) -> list[str] | None:
    """The uploaded list; for a file it refuses, the list accepted before it (said), so
    that a wrong file loses nothing on the page."""
    if upload is None:
        return None
    try:
        words = parse_word_list(upload.getvalue())
    except WordListError as err:
        kept = Session().accepted_words
        if kept is not None:
            name, words = kept
            notice("error", f"Word list rejected: {err} Still using the list accepted "
                            f"before it, {name} ({len(words):,} words).")
            return list(words)
        notice("error", f"Word list rejected: {err}")
        Session().word_list_rejected = str(err)  # said on the page too: Data may be closed
        return None
    Session().accepted_words = (upload.name, tuple(words))
    return words


@callback("Loading the settings")
def apply_config(config: Config) -> None:
    """Set every sidebar widget to ``config`` (a callback: runs before widgets are drawn).

    The widgets are bound to the URL, so the address bar follows.
    """
    for setting in SETTINGS:
        value = getattr(config, setting.name)
        st.session_state[setting.name] = value.split(",") if setting.multi else value

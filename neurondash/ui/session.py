"""The session's own state (what no widget holds), one typed attribute per key: the one place
that lists every key the dashboard keeps between reruns. Widget values live under their
widgets' keys (the settings' names, ``view``, ``snapshot``...) and are not repeated here."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from typing import Any

import streamlit as st

from .shelf import RunShelf


class _Key:
    """One session key: reading a missing key gives its default (a fresh container is kept,
    so it can be filled in place); ``del`` forgets the key."""

    def __init__(self, default: Any = None, factory: Callable[[], Any] | None = None):
        self.default, self.factory = default, factory

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, session: Session | None, owner: type | None = None) -> Any:
        if session is None:
            return self
        if self.name not in session.state:
            if self.factory is None:
                return self.default
            session.state[self.name] = self.factory()
        return session.state[self.name]

    def __set__(self, session: Session, value: Any) -> None:
        session.state[self.name] = value

    def __delete__(self, session: Session) -> None:
        session.state.pop(self.name, None)


class _ShelfKey(_Key):
    """The session's ``RunShelf``, made to record its runs in the session's ``own_runs``
    (which outlives the shelf: Reset forgets the runs shown, not whose they are)."""

    def __get__(self, session: Session | None, owner: type | None = None) -> Any:
        if session is not None and self.name not in session.state:
            session.state[self.name] = RunShelf(owned=session.own_runs)
        return super().__get__(session, owner)


class Session:
    """Typed access to ``st.session_state`` (or any mapping, in tests)."""

    runs = _ShelfKey()
    """run_key -> Run: the runs this session shows (the latest last; see ``RunShelf``)."""
    own_runs = _Key(factory=set)
    """Store keys of the runs this session trained or opened (by link, by search): what its
    Runs view lists. There are no accounts: a new session (a reload) starts an empty list."""
    whole_store = _Key(False)
    """The operator's Runs-view switch to the whole store, kept while other tabs are open
    (Streamlit forgets an unshown widget's value)."""
    delete_pending = _Key(None)
    """Store keys whose deletion the operator asked for and has yet to confirm."""
    word_list_rejected = _Key(None)
    """Why the uploaded word list was refused (said where the page asks for one)."""
    accepted_words = _Key(None)
    """(file name, words) of the last word list this session's upload accepted: a file
    refused after it leaves that list in use, so the run on the page stays."""
    stopped_elsewhere = _Key(False)
    """The training this page followed was stopped by the page that started it (said
    once, under the stopped run)."""
    runs_table_round = _Key(0)
    """Bumped by a deletion: the Runs table is then a new widget, since the browser keeps a
    table's selected row numbers, which after a deletion name other runs."""
    deleted = _Key(None)
    """What the operator's last confirmed deletion removed (said once, then dropped)."""
    action = _Key("open")
    """What the user did in this rerun: open (or changed something), train or continue."""
    training = _Key(None)
    """The shared training (``jobs.Job``) this page started or follows, until its run is
    taken (``live.take_finished``)."""
    live_cadence = _Key(None)
    """How often this page redraws the training it follows, and what that last cost
    (``live.Cadence``)."""
    adopt = _Key(None)
    """A Config the controls take before the next draw (a stopped run's ``until``)."""
    until_of = _Key(None)
    """(until, the other settings as a query) when ``until`` was set: a draw whose other
    settings differ under the same ``until`` drops it (``sidebar``)."""
    drop_until = _Key(False)
    """Set ``until`` back to 0 before the next draw's controls exist."""
    previous_said = _Key(False)
    """Whether this draw's wait-for-Train notice said the page shows the previous run."""
    continue_refused = _Key(None)
    """Why Continue could not be done, said once on the next draw."""
    imported_words = _Key(None)
    import_message = _Key(None)
    url_warnings = _Key(None)
    """What was wrong with the link the session opened (None until it was checked)."""
    store_warned = _Key(False)
    snapshot_of = _Key(None)
    """Which run the snapshot slider was set for (another run opens on its last step)."""
    snapshot_last = _Key(None)
    """The last snapshot step of the run ``snapshot_of`` names (``snapshot_link``)."""
    multi_written = _Key(factory=dict)
    """What each multiselect last wrote into the link: a link that says otherwise was
    changed by Back or Forward, and the control takes its value (``sidebar``)."""
    derived = _Key(factory=dict)
    models = _Key(factory=dict)
    rebuilds = _Key(factory=set)
    """Chart keys (run, step) whose weights the user asked to rebuild by training again
    (``cache.offer_rebuild``)."""
    chart_specs = _Key(factory=OrderedDict)
    compare_keys = _Key(factory=list)
    """Stored runs picked in the Runs view for Compare."""
    lr_result = _Key(None)
    sweep = _Key(None)
    width_shown = _Key(None)
    """The width the controls held at the last draw: a typed width the setting refuses
    puts it back, as lr and init scale keep theirs."""
    typed_refused = _Key(None)
    """What a control refused of what was typed into it (and put back), said once."""
    search_cut = _Key(None)
    """(spec, SearchLog) of this page's search when a rerun cut it short (a setting or the
    tab changed while it ran): said on the next draw, which no longer runs it."""
    search_cut_toasted = _Key(False)
    """Whether a draw outside the Sweep tab said ``search_cut`` in a toast already."""
    try_it = _Key(None)
    """(chart key of the run, index of its finding) whose Try it comparison is open."""
    search_used = _Key(None)
    """The search trial whose settings "Use its settings" just put in the sidebar."""
    callback_error = _Key(None)
    """A callback's failure, shown on the next draw (a callback cannot draw)."""

    def __init__(self, state: MutableMapping | None = None):
        self.state = st.session_state if state is None else state

    def take(self, name: str) -> Any:
        """A key's value, forgotten as it is read (a one-off message or action)."""
        value = getattr(self, name)
        delattr(self, name)
        return value

    def forget_runs(self) -> None:
        """What Reset clears besides the controls."""
        for name in ("runs", "imported_words", "accepted_words", "continue_refused"):
            delattr(self, name)

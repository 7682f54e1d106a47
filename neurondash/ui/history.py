"""Back and Forward step through the settings a visitor tried: one entry per action.

Streamlit writes a bound control's value into the address bar with
``history.replaceState``, and a value the script sets with ``history.pushState``. So a
changed setting left no history entry (Back left the dashboard), while a search's version
or a restored refused value did (Back then did nothing, or showed the refused value).
The page's script below decides instead. Whatever a visitor's click or key press changes,
the first write that changes a setting (or ``more``, ``until``: another run) becomes one
new entry, and later writes of that same action replace it: Reset's many cleared
controls are one step back. A write that changes no setting (a tab, the snapshot step, a
search's inputs or version) never makes an entry. Streamlit itself reruns the page on
Back and Forward from the address bar, every bound control takes the link's value again,
and a stored run opens from the store.
"""

from __future__ import annotations

import json

import streamlit as st

from ..config import SETTINGS

RUN_PARAMETERS = ("more", "until")
"""Link parameters beside the settings that make another run."""

SCRIPT = """<script>
(() => {
  if (window.__neurondashHistory) return;
  window.__neurondashHistory = true;
  const names = new Set(%s);
  const runOf = (search) => JSON.stringify([...new URLSearchParams(search)]
    .filter(([name]) => names.has(name)).sort());
  const history = window.history;
  const push = history.pushState.bind(history), replace = history.replaceState.bind(history);
  // A visitor's own action may make one entry; a Back or Forward (whose rerun may rewrite
  // the link in place) and the first load tidying the link make none.
  let acted = false;
  for (const kind of ["pointerdown", "keydown"]) {
    window.addEventListener(kind, () => { acted = true; }, true);
  }
  window.addEventListener("popstate", () => { acted = false; });
  const write = (state, title, url) => {
    if (url !== undefined && url !== null && acted) {
      const next = new URL(url, window.location.href);
      if (runOf(next.search) !== runOf(window.location.search)) {
        acted = false;
        return push(state, title, url);
      }
    }
    return replace(state, title, url);
  };
  history.replaceState = write;
  history.pushState = write;
})();
</script>"""


def keep_settings_in_history() -> None:
    """Install the script once per page (it guards itself against a second install)."""
    names = sorted({setting.name for setting in SETTINGS} | set(RUN_PARAMETERS))
    st.html(SCRIPT % json.dumps(names), unsafe_allow_javascript=True)

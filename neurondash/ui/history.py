"""Back and Forward step through the settings a visitor tried.

Streamlit writes a bound control's value into the address bar with
``history.replaceState``: a changed setting left no history entry, so Back left the
dashboard altogether. The page's script below turns such a replacement into a new entry
when, after the visitor's own click or key press, it changes a setting (a tab, the
snapshot step or a search's inputs still replace: Back skips them). Streamlit itself
reruns the page on Back and Forward from the address bar, where every bound control
takes the link's value again, and a stored run opens from the store.
"""

from __future__ import annotations

import json

import streamlit as st

from ..config import SETTINGS

SCRIPT = """<script>
(() => {
  if (window.__neurondashHistory) return;
  window.__neurondashHistory = true;
  const names = new Set(%s);
  const settings = (search) => JSON.stringify([...new URLSearchParams(search)]
    .filter(([name]) => names.has(name)).sort());
  const history = window.history, replace = history.replaceState.bind(history);
  // Only a visitor's own action makes an entry: not a Back or Forward (whose rerun may
  // rewrite the link in place), not the first load tidying the link.
  let acted = false;
  for (const kind of ["pointerdown", "keydown"]) {
    window.addEventListener(kind, () => { acted = true; }, true);
  }
  window.addEventListener("popstate", () => { acted = false; });
  history.replaceState = function (state, title, url) {
    if (acted && url !== undefined && url !== null) {
      const next = new URL(url, window.location.href);
      if (settings(next.search) !== settings(window.location.search)) {
        return history.pushState(state, title, url);
      }
    }
    return replace(state, title, url);
  };
})();
</script>"""


def keep_settings_in_history() -> None:
    """Install the script once per page (it guards itself against a second install)."""
    names = sorted(setting.name for setting in SETTINGS)
    st.html(SCRIPT % json.dumps(names), unsafe_allow_javascript=True)

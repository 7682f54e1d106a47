"""Streamlit entry point: ``streamlit run app.py``.

Streamlit runs this file as ``__main__``. The guard keeps sweep worker processes (spawned,
so they re-import the main module as ``__mp_main__``) from running the whole dashboard.
"""

from neurondash.ui.app import main

if __name__ == "__main__":
    main()

"""Streamlit entry point: ``streamlit run app.py``."""

from neurondash.ui.app import main

main()

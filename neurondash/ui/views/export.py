"""The Export / import view: report, chart images, run JSON, history CSV, import."""

from __future__ import annotations

import streamlit as st

from ...charts.labels import parameter_labeller
from ...report import FORMATS, build_report, chart_image, dashboard_link, report_builders
from ...run import Run, RunFormatError
from ...runchecks import read_run_file
from ..guard import callback
from ..session import Session
from ..sidebar import apply_config
from ..text import notice


def file_stem(run: Run) -> str:
    """A download's name from the run's settings, so two exports do not overwrite each
    other: 'neurondash-act-relu_lr-0.3' (the link's settings, '&' and '=' made safe)."""
    query = run.config.to_query() or "defaults"
    safe = "".join(c if c.isalnum() or c in ".-" else "_" if c == "&" else "-" for c in query)
    return f"neurondash-{safe[:100]}"


def export_tab(run: Run | None, runs: dict, key_of, step: int | None = None) -> None:
    stem = file_stem(run) if run is not None else "neurondash"
    if run is not None and step is not None:
        left, middle, right = st.columns([2, 2, 1])
        # Read now: the report is built when the button is clicked, outside this script
        # run, where the page's address is unknown (its link said localhost:8501).
        link = dashboard_link(run.config, st.context.url)
        left.download_button(
            "Download report (HTML)", lambda: build_report(run, step, link),
            f"{stem}-report.html", "text/html", key="export_report",
            help="One file that opens offline: settings, link, findings and every view's "
                 "charts at the selected snapshot.")
        builders = report_builders(run, step)
        titles = list(builders)
        title = middle.selectbox("chart to download", titles, key="export_chart")
        fmt = right.selectbox("image format", FORMATS, key="export_format")
        middle.download_button(
            f"Download this chart ({fmt.upper()})",
            lambda: chart_image(builders[title](), fmt),
            f"{stem}-{title.split(':')[0].replace(' ', '-').lower()}.{fmt}",
            "image/png" if fmt == "png" else "image/svg+xml", key="export_image")
    if run is not None:
        cols = st.columns(2)
        cols[0].download_button("Download run (JSON)", lambda: run.to_json(), f"{stem}.json",
                                "application/json", key="export_json",
                                help="Config, history, every snapshot and the trained state: "
                                     "import it to see this dashboard without retraining. "
                                     "Plain JSON, about two to four times the size the Runs "
                                     "tab gives: the store keeps it gzip-compressed.")
        cols[1].download_button("Download history (CSV)",
                                lambda: history_csv(run),
                                f"{stem}-history.csv", "text/csv", key="export_csv",
                                help="Loss, learning rate and update:data of every step (one "
                                     "column per weight matrix, 'log10 update:data' and its "
                                     "name on the chart: log10 of the update's std over the "
                                     "weights' std; "
                                     "empty where not measured).")
    st.file_uploader("Import a run (JSON exported from neurondash)", type=["json"],
                     key="import_file", on_change=_import_run, args=(runs, key_of))
    message = Session().take("import_message")
    if message:
        notice(*message)


@callback("Import")
def _import_run(runs: dict, key_of) -> None:
    upload = st.session_state.get("import_file")
    if upload is None:
        return
    try:
        run = read_run_file(upload.getvalue())
    except RunFormatError as err:
        Session().import_message = ("error", f"Import rejected: {err}. The current "
                                               "dashboard is unchanged.")
        return
    runs.hold(key_of(run.config, list(run.words or [])), run)
    if run.words:
        # The word list travels in the run file; without it the sidebar could not show it.
        Session().imported_words = tuple(run.words)
    apply_config(run.config)
    Session().import_message = ("success", f"Imported a run of {run.steps_done:,} "
                                          "steps; the sidebar now shows its settings.")


def history_csv(run: Run) -> str:
    """The per-step history as CSV, its update:data columns named as such (a bare
    'layers.0.weight' read as the weights themselves) and as the page names the matrix
    ('hidden 1 weights'), so a column can be found on the chart."""
    label = parameter_labeller(run)
    named = {name: f"log10 update:data {label(name)}" for name in run.history.columns
             if name not in ("step", "loss", "lr")}
    return run.history.rename(columns=named).to_csv(index=False)

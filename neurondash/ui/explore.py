"""Explore-and-share tabs: compare runs, lesson gallery, sweeps, LR finder, export/import."""

from __future__ import annotations

import contextlib
import math
import os

import pandas as pd
import streamlit as st

from .. import charts
from ..charts import prepare
from ..config import SETTINGS, SETTINGS_BY_NAME, Config, ConfigError
from ..engine.lr_finder import find_lr
from ..presets import PRESETS
from ..report import FORMATS, build_report, chart_image, report_builders
from ..run import Run, RunFormatError
from ..sweep import (
    SCHEDULER_ENV,
    SWEEPABLE,
    SchedulerError,
    SweepSpec,
    make_executor,
    parse_values,
    process_pool,
    run_sweep,
    sweep_frame,
)
from ..sweep import summarize as summarize_run
from . import render
from .guard import callback
from .text import notice

SWEEP_DEFAULTS = {
    "init_scale": "0.1, 0.3, 1, 3, 10", "lr": "0.001, 0.01, 0.1, 1", "depth": "1, 2, 4, 8",
    "width": "16; 64; 256", "features": "x1,x2; x1sq,x2sq; x1,x2,x1sq,x2sq,x1x2",
    "act": "tanh, sigmoid, relu, gelu", "norm": "none, batch, layer",
    "out_scale": "0.01, 0.1, 1, 10", "init": "normal, xavier, kaiming",
    "opt": "sgd, momentum, adam", "batch": "8, 32, 128", "wd": "0, 0.001, 0.01",
    "bias_init": "0, 0.1, 1", "sched": "constant, step, cosine", "context": "1, 2, 3, 5",
    "embed_dim": "2, 5, 10, 27", "fuse": "0, 2", "seed": "1, 2, 3",
}
SWEEP_MAX_STEPS = 20_000
SWEEP_METRICS = {
    "initial_loss": "initial loss", "val_loss": "final validation loss",
    "saturation_init_pct": "saturation at init (%)", "update_data": "update:data (log10)",
}


@callback("Loading the settings")
def apply_config(config: Config) -> None:
    """Set every sidebar widget to ``config`` (a callback: runs before widgets are drawn).

    The widgets are bound to the URL, so the address bar follows.
    """
    from .app import LOG_GRIDS

    for setting in SETTINGS:
        value = getattr(config, setting.name)
        grid = LOG_GRIDS.get(setting.name)
        if grid is not None and value not in grid:
            value = min(grid, key=lambda g: abs(math.log10(g) - math.log10(value)))
        st.session_state[setting.name] = value.split(",") if setting.multi else value


def lessons_tab() -> None:
    st.caption("Each lesson is a link (it opens in a new tab with its settings) and a button "
               "that loads it here. The Overview's diagnosis names the effect.")
    for preset in PRESETS:
        with st.container(border=True):
            left, right = st.columns([5, 1])
            left.markdown(f"**{preset.title}** — {preset.look_at}  \n"
                          f"[link](?{preset.query})  `{preset.query}`")
            right.button("Open", key=f"preset_{preset.slug}", on_click=apply_config,
                         args=(preset.config,))


def _label(run: Run) -> str:
    return run.config.to_query() or "defaults"


def compare_tab(runs: dict[str, Run]) -> None:
    if st.session_state.get("dropped_runs"):
        st.caption(f"{st.session_state['dropped_runs']} older run(s) were dropped: the session "
                   "keeps the latest 12.")
    if len(runs) < 2:
        st.info("Train a second configuration to compare runs (every run of this session "
                "is kept here), or pick stored runs in the Runs view.")
        return
    labels = {_label(r): k for k, r in runs.items()}
    chosen = st.multiselect("runs to compare", list(labels), default=list(labels)[-2:],
                            key="compare_runs")
    if not chosen:
        return
    picked = {label: runs[labels[label]] for label in chosen}
    render.chart(("compare", tuple((labels[c], picked[c].steps_done) for c in chosen)),
                 lambda: charts.compare_loss_chart(prepare.compare_curves(picked)))
    st.caption("Smoothed train loss (solid) and validation loss (dashed) of each run.")
    summary = pd.DataFrame({label: summarize_run(run) for label, run in picked.items()}).T
    st.dataframe(summary.drop(columns=["query", "expected_initial_loss"]))
    st.markdown("**Settings that differ**")
    st.dataframe(prepare.differing_settings({k: r.config for k, r in picked.items()}))


def sweep_tab(config: Config, words: list[str] | None) -> None:
    st.caption("Train every combination of one or two settings on top of the current "
               "sidebar settings, in parallel worker processes. Click a point or cell to open "
               "that run's dashboard.")
    sweepable = [name for name in SWEEPABLE if config.applies(name)]
    cols = st.columns(2)
    first = cols[0].selectbox("setting", sweepable, key="sweep_x")
    first_values = cols[0].text_input("values", SWEEP_DEFAULTS[first], key=f"sweep_xv_{first}")
    second = cols[1].selectbox("second setting (optional)", ("—", *sweepable), key="sweep_y")
    second_values = (cols[1].text_input("values", SWEEP_DEFAULTS[second],
                                        key=f"sweep_yv_{second}") if second != "—" else "")
    # Any valid `steps` (1 and up) is a valid start: a short run's link opens this view too.
    steps = st.number_input("steps per run", 1, SWEEP_MAX_STEPS,
                            min(config.steps, 1000), step=100, key="sweep_steps")
    try:
        axes = {first: parse_values(first, first_values)}
        if second != "—" and second != first:
            axes[second] = parse_values(second, second_values)
        spec = SweepSpec(config, axes, int(steps))
    except ConfigError as err:
        notice("warning", f"Sweep settings: {err}")
        return
    st.write(f"{spec.size} runs of {spec.steps} steps.")
    if st.button("Run sweep", type="primary", key="sweep_run"):
        partial: dict[int, dict] = {}
        st.session_state["sweep"] = (spec, partial)
        st.button("Stop sweep", key="sweep_stop",
                  help="Stops after the runs in progress; finished runs are kept")
        bar = st.progress(0.0, text="Sweeping...")
        local = not os.environ.get(SCHEDULER_ENV)
        executor = contextlib.nullcontext(_sweep_pool()) if local else make_executor("dask")
        try:
            with executor as pool:
                run_sweep(spec, pool, words=tuple(words) if words else None,
                          results=partial, on_result=lambda done, total: bar.progress(
                              done / total, text=f"{done}/{total} runs done"))
        except SchedulerError as err:
            notice("error", f"The sweep did not start: {err}.")
        except Exception as err:  # noqa: BLE001 - a worker failure must not lose the page
            if local:  # a pool that lost a worker cannot take new runs: start afresh
                _sweep_pool().shutdown(wait=False, cancel_futures=True)
                _sweep_pool.clear()
            notice("error", f"The sweep stopped: a run failed ({type(err).__name__}: "
                            f"{err}). Finished runs are kept below.")
        bar.empty()
    if "sweep" in st.session_state:
        _sweep_results(*st.session_state["sweep"])


@st.cache_resource(show_spinner=False)
def _sweep_pool():
    """One worker pool per server, kept between sweeps: starting workers (imports, the names
    data) takes about a second, as long as a small sweep's runs. It starts with the first
    sweep, not with the page, so that its start-up never slows the dashboard itself."""
    return process_pool()


def _sweep_results(spec: SweepSpec, partial: dict[int, dict]) -> None:
    frame = sweep_frame(spec, partial)
    missing = int((frame["status"] == "not run").sum())
    if missing:
        st.warning(f"The sweep was stopped: {missing} of {spec.size} runs did not run.")
    frame = frame.assign(link="?" + frame["query"].astype(str))
    names = list(spec.axes)
    done = frame[frame["status"] != "not run"]
    if done.empty:
        return
    key = ("sweep", spec.base, tuple(spec.axes.items()), spec.steps, len(done))
    if len(names) == 1:
        x = names[0]
        log_x = SETTINGS_BY_NAME[x].log or x in ("out_scale",)
        cols = st.columns(2)
        for k, (metric, title) in enumerate(SWEEP_METRICS.items()):
            guide = -3.0 if metric == "update_data" else None
            render.chart((*key, metric), lambda m=metric, t=title, g=guide:
                         charts.sweep_metric_chart(done.astype({x: done[x].dtype}), x, m, t,
                                                   log_x, g), cols[k % 2])
    else:
        metric = st.selectbox("colour by", list(SWEEP_METRICS), key="sweep_metric",
                              format_func=SWEEP_METRICS.get)
        render.chart((*key, metric), lambda: charts.sweep_heatmap_chart(
            done.astype({names[0]: str, names[1]: str}), names[0], names[1], metric,
            SWEEP_METRICS[metric]))
    st.dataframe(frame.drop(columns=["link"]), hide_index=True)
    st.download_button("Download sweep results (CSV)", frame.drop(columns=["link"]).to_csv(
        index=False), "sweep.csv", "text/csv", key="sweep_csv")


def lr_finder_tab(config: Config, words: list[str] | None) -> None:
    st.caption("One run whose learning rate rises exponentially from 1e-4 to 10 over 300 "
               "steps. The loss falls fastest around a good learning rate and explodes "
               "beyond it.")
    if st.button("Run the learning-rate range test", key="lr_find"):
        st.session_state["lr_result"] = (config, find_lr(config, words=words))
    stored = st.session_state.get("lr_result")
    if stored is None:
        return
    tested, result = stored
    if tested != config:
        st.caption("(Result of the previous settings.)")
    render.chart(("lr_finder", tested), lambda: charts.lr_finder_chart(result.frame,
                                                                       result.suggestion))
    st.button(f"Use lr = {result.suggestion:.3g}", key="lr_use", on_click=_use_lr,
              args=(result.suggestion,))


@callback("Use lr")
def _use_lr(value: float) -> None:
    from .app import LOG_GRIDS

    grid = LOG_GRIDS["lr"]
    st.session_state["lr"] = min(grid, key=lambda g: abs(math.log10(g) - math.log10(value)))


def _link(config: Config) -> str:
    """This run's dashboard address: the page's own origin and the Config's query."""
    base = (st.context.url or "").split("?", 1)[0]
    query = config.to_query()
    return f"{base}?{query}" if query else (base or "?")


def export_tab(run: Run | None, runs: dict, key_of, step: int | None = None) -> None:
    if run is not None and step is not None:
        left, middle, right = st.columns([2, 2, 1])
        left.download_button(
            "Download report (HTML)", lambda: build_report(run, step, _link(run.config)),
            "neurondash-report.html", "text/html", key="export_report",
            help="One file that opens offline: settings, link, findings and every view's "
                 "charts at the selected snapshot.")
        builders = report_builders(run, step)
        titles = list(builders)
        title = middle.selectbox("chart", titles, key="export_chart",
                                 label_visibility="collapsed")
        fmt = right.selectbox("format", FORMATS, key="export_format",
                              label_visibility="collapsed")
        middle.download_button(
            f"Download this chart ({fmt.upper()})",
            lambda: chart_image(builders[title](), fmt),
            f"{title.split(':')[0].replace(' ', '-').lower()}.{fmt}",
            "image/png" if fmt == "png" else "image/svg+xml", key="export_image")
    if run is not None:
        cols = st.columns(2)
        cols[0].download_button("Download run (JSON)", lambda: run.to_json(), "run.json",
                                "application/json", key="export_json",
                                help="Config, history, every snapshot and the trained state: "
                                     "import it to see this dashboard without retraining.")
        cols[1].download_button("Download history (CSV)",
                                lambda: run.history.to_csv(index=False), "history.csv",
                                "text/csv", key="export_csv",
                                help="Loss, learning rate and update:data of every step.")
    st.file_uploader("Import a run (JSON exported from neurondash)", type=["json"],
                     key="import_file", on_change=_import_run, args=(runs, key_of))
    message = st.session_state.pop("import_message", None)
    if message:
        notice(*message)


@callback("Import")
def _import_run(runs: dict, key_of) -> None:
    upload = st.session_state.get("import_file")
    if upload is None:
        return
    try:
        run = Run.from_json(upload.getvalue())
    except RunFormatError as err:
        st.session_state["import_message"] = ("error", f"Import rejected: {err}. The current "
                                               "dashboard is unchanged.")
        return
    runs[key_of(run.config, list(run.words or []))] = run
    if run.words:
        # The word list travels in the run file; without it the sidebar could not show it.
        st.session_state["imported_words"] = tuple(run.words)
    apply_config(run.config)
    st.session_state["import_message"] = ("success", f"Imported a run of {run.steps_done:,} "
                                          "steps; the sidebar now shows its settings.")

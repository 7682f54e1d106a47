"""The Sweep view: one or two settings over a grid, in worker processes."""

from __future__ import annotations

import contextlib
import os

import streamlit as st

from ... import charts
from ...config import SETTINGS_BY_NAME, Config, ConfigError
from ...sweep import (
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
from .. import render
from ..session import Session
from ..text import notice

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
        Session().sweep = (spec, partial)
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
    if Session().sweep is not None:
        _sweep_results(*Session().sweep)


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

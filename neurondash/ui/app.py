"""The Streamlit layer: sidebar -> Config -> (cached) Run -> tabs of charts.

Everything that is not layout, widgets, caching or session state lives in the engine,
data, charts and diagnosis modules. Runs are kept per Config in the session, so a view
control (tab, snapshot step, layer, unit) never retrains.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import time
from collections import OrderedDict
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
import streamlit as st
from streamlit import config as streamlit_config
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import charts
from ..charts import prepare
from ..config import SETTINGS_BY_NAME, VIEW_PARAMS, Config, applies_to_task
from ..cost import describe_seconds, estimate_seconds
from ..data.names import WordListError, closest_smoothing, parse_word_list, smoothed_bigram
from ..diagnosis import diagnose
from ..engine import queries
from ..engine.activations import ACTIVATIONS
from ..engine.diagnostics import histogram
from ..engine.gradcheck import NOISE_FLOOR, TOLERANCE, check_gradients
from ..engine.layers import Linear
from ..jobs import Jobs
from ..run import Run
from ..run_source import Facts, decide
from ..store import STORED_STATUSES, shared_store, store_key
from ..training import continue_training, continues_exactly, train
from . import explore, render, runs_view
from .guard import callback, draw_or_report, report_internal_error, show_callback_error
from .text import escape, notice

AUTO_SECONDS = 4.0
"""Runs estimated to train within this many seconds here (``cost.estimate_seconds``) start
as soon as they are opened; a longer one waits for a click, whoever sent the link."""
KEPT_RUNS = 12
PROGRESS_SECONDS, LIVE_CHART_SECONDS = 0.2, 1.0
"""Wall time between progress-bar and live-loss-chart updates: each one costs Streamlit
milliseconds (the chart tens of them), so updating on every report slowed training 3x."""


def log_grid(low: float, high: float) -> list[float]:
    """1-1.5-2-3-5-7 steps per decade: the options of the log-scale sliders."""
    values = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 1.5, 2, 3, 5, 7):
            value = float(f"{mantissa * 10.0**exponent:.6g}")
            if low <= value <= high:
                values.append(value)
    return values


LOG_GRIDS = {"lr": log_grid(1e-5, 10.0), "init_scale": log_grid(1e-3, 1e2)}


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
        return container.select_slider(label, LOG_GRIDS[name], format_func=lambda v: f"{v:g}",
                                       value=setting.default, **common)
    if name == "width":
        return container.text_input(label, value=setting.default, **common)
    if setting.kind is int and setting.high - setting.low <= 64:
        return container.slider(label, int(setting.low), int(setting.high),
                                value=setting.default, **common)
    if setting.kind is int:
        return container.number_input(label, int(setting.low), int(setting.high), step=1,
                                      value=setting.default, **common)
    step = 0.05 if setting.high <= 1 and name != "wd" else (1e-4 if name == "wd" else 0.01)
    return container.number_input(label, float(setting.low), float(setting.high), step=step,
                                  format="%.4f" if name == "wd" else "%.2f",
                                  value=float(setting.default), **common)


def _multi_widget(name: str, label: str, container) -> str:
    """A multiselect kept in the link as one comma list, the spelling of the CLI and the
    JSON (Streamlit's own binding would repeat the parameter once per choice)."""
    setting = SETTINGS_BY_NAME[name]
    if name not in st.session_state:  # a link's value was checked (and dropped if
        # invalid) on the first run
        st.session_state[name] = setting.coerce(
            st.query_params.get(name, setting.default)).split(",")
    chosen = container.multiselect(label, setting.choices, key=name, help=_help(name))
    text = ",".join(c for c in setting.choices if c in chosen)
    if text and text != setting.default:
        st.query_params[name] = text
    else:
        st.query_params.pop(name, None)
    return text


GROUPS = {
    "Data": ("task", "context", "noise", "points", "train_frac", "features"),
    "Architecture": ("depth", "width", "embed_dim", "fuse", "norm", "act"),
    "Initialization": ("init", "init_scale", "out_scale", "bias_init"),
    "Training": ("opt", "lr", "sched", "batch", "steps", "more", "wd", "seed", "snap_every"),
}


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


def check_url_once() -> None:
    """On a session's first run, explain URL values the widgets would silently drop."""
    if "url_warnings" in st.session_state:
        return
    raw = {k: st.query_params.get(k) for k in st.query_params}
    _, warnings = Config.lenient(raw)
    warnings += _reserved_param_warnings()
    invalid = []
    for name in raw.keys() & SETTINGS_BY_NAME.keys():
        try:
            SETTINGS_BY_NAME[name].coerce(raw[name])
        except ValueError:
            invalid.append(name)
            del st.query_params[name]  # its widget starts from the default, as warned
    for name in raw.keys() - SETTINGS_BY_NAME.keys() - VIEW_PARAMS:
        del st.query_params[name]  # explained by Config.lenient ("Ignored unknown ...")
    if "view" in raw and raw["view"] not in TABS:
        warnings.append(f"view={raw['view']!r} is not a tab; showing {TABS[0]}.")
    for name, grid in LOG_GRIDS.items():
        try:
            value = SETTINGS_BY_NAME[name].coerce(raw[name]) if name in raw else None
        except ValueError:
            value = None
        if value is not None and value not in grid:
            nearest = min(grid, key=lambda g: abs(math.log10(g) - math.log10(value)))
            warnings.append(f"{name}={value:g} is not on the slider's grid; using {nearest:g}.")
            st.session_state[name] = nearest
    st.session_state["url_warnings"] = warnings
    if invalid:
        # Streamlit seeds each widget from the link the run started with, and its own
        # parsing raises on some bad values (an integer field given "inf"): rerun with the
        # cleaned link before any widget exists.
        st.rerun()


@callback("Continue")
def _request_continue() -> None:
    """Continue's click, before the widgets are drawn: `steps` more steps in `more` (the
    run is then continued from the shorter one, see ``get_run``)."""
    runs = st.session_state.get("runs")
    if runs and next(reversed(runs.values())).status == "diverged":
        st.session_state["continue_refused"] = ("A diverged run cannot be continued; change "
                                                "the settings and retrain.")
        return
    setting = SETTINGS_BY_NAME["more"]
    more = st.session_state.get("more", setting.default)
    steps = st.session_state.get("steps", SETTINGS_BY_NAME["steps"].default)
    if more + steps > setting.high:
        st.session_state["continue_refused"] = (
            f"Continuing would make more = {more + steps:,}, above its {setting.high:,} "
            "limit; train a longer schedule (steps) instead.")
        return
    st.session_state["more"] = more + steps
    st.session_state["continue_requested"] = True


@callback("Reset")
def _reset() -> None:
    """Reset's click, before the widgets are drawn: every control back to its default.

    The controls are bound to the link, which Streamlit then updates itself (a bound
    parameter cannot be cleared through ``st.query_params``: that raised on every link
    with a changed setting)."""
    for setting in SETTINGS_BY_NAME.values():
        st.session_state[setting.name] = (setting.default.split(",") if setting.multi
                                          else setting.default)
    for name in ("runs", "imported_words", "dropped_runs", "continue_refused"):
        st.session_state.pop(name, None)


def sidebar() -> tuple[Config, list[str], list[str] | None]:
    """Draw the sidebar and return the Config it describes (lenient: bad combos explained)."""
    st.sidebar.title("neurondash")
    train_col, more_col, reset_col = st.sidebar.columns([0.9, 1.25, 0.95], gap="small")
    st.session_state["train_clicked"] = train_col.button("Train", type="primary",
                                                         help="Train this Config now")
    more_col.button("Continue", on_click=_request_continue,
                    help="Train the current run for `steps` more steps (adds them to `more`, "
                         "so the link reproduces the continued run)")
    reset_col.button("Reset", on_click=_reset,
                     help="Back to the defaults; forget this session's runs")
    st.sidebar.caption("The address bar always holds the current settings: copy it to "
                       "share exactly this dashboard.")
    values, words = {}, None
    task = None  # set by the first widget (Data comes first): which settings apply
    for group, names in GROUPS.items():
        with st.sidebar.expander(group, expanded=group in ("Architecture", "Initialization")):
            for name in names:
                if not applies_to_task(name, task):
                    continue
                values[name] = _widget(name, st)
                if name == "task":
                    # The widget's value, not session state: on a link's first load the
                    # state has no task yet, and the link's 2-D settings would be skipped.
                    task = values[name]
                if name == "task" and values[name] == "words":
                    upload = st.file_uploader("word list (.txt, one word per line)",
                                              type=["txt"], key="word_file",
                                              help="UTF-8 text, letters only, 20+ words")
                    words = _read_words(upload)
                    if upload is None and st.session_state.get("imported_words"):
                        words = list(st.session_state["imported_words"])
                        st.caption(f"Using the {len(words):,} words of the imported run; "
                                   "upload a list to train on another.")
    config, messages = Config.lenient(values)
    return config, messages, words


def _read_words(upload) -> list[str] | None:
    if upload is None:
        return None
    try:
        return parse_word_list(upload.getvalue())
    except WordListError as err:
        notice("error", f"Word list rejected: {err}")
        return None


def run_key(config: Config, words: list[str] | None) -> str:
    digest = hashlib.sha1("\n".join(words or []).encode()).hexdigest()[:10]
    return config.to_query() + "|" + digest


JOBS = Jobs()
"""The server's trainings: sessions that ask for the same run while it trains share one."""


def _live_trainer(config: Config, words: list[str] | None, base: Run | None = None) -> Run:
    """Train (or continue ``base`` to) ``config`` as a shared job and follow its progress;
    the finished run is in the store before anyone gets it."""
    bar = st.progress(0.0, text="Training...")
    slot = st.empty()
    shown = {"bar": 0.0, "chart": time.perf_counter()}
    store_errors: list[Exception] = []

    def work(on_progress, should_stop) -> Run:
        if base is not None:
            return continue_training(base, config.more - base.config.more,
                                     on_progress=on_progress, should_stop=should_stop)
        return train(config, on_progress=on_progress, should_stop=should_stop, words=words)

    def keep(run: Run) -> None:
        if run.status in STORED_STATUSES:
            try:
                shared_store().put(run)
            except (OSError, sqlite3.Error) as err:
                store_errors.append(err)

    def show(job) -> None:
        progress, now = job.progress, time.perf_counter()
        if progress is not None and now - shown["bar"] >= PROGRESS_SECONDS:
            shown["bar"] = now
            joined = "" if job.waiters.keys() == {waiter} else " (shared with another page)"
            bar.progress(min(progress.fraction, 1.0),
                         text=f"step {progress.step:,} / {progress.total:,}  loss "
                              f"{progress.loss:.4f}  ({progress.elapsed:.1f}s){joined}")
        if job.losses and now - shown["chart"] >= LIVE_CHART_SECONDS:
            shown["chart"] = now
            slot.line_chart(pd.DataFrame(list(job.losses), columns=["step", "loss"]),
                            x="step", y="loss", height=200)

    ctx = get_script_run_ctx()
    waiter = ctx.session_id if ctx is not None else "script"
    job = JOBS.start(store_key(config, words), waiter, work, on_done=keep)
    try:
        run = job.follow(waiter, on_update=show)
    finally:
        bar.empty()
        slot.empty()
    for err in store_errors:
        _store_trouble(err)
    return run


def _train_or_report(config: Config, words: list[str] | None,
                     base: Run | None = None) -> Run | None:
    """Train (or continue) with progress; None after an unexpected error, which is shown
    and logged instead of raised, so the page and the session's earlier runs stay usable.
    (Streamlit's own rerun and stop signals are BaseExceptions and pass through.)"""
    try:
        return _live_trainer(config, words, base)
    except Exception as err:
        report_internal_error("Training", err, "Earlier results are kept")
        return None


def get_run(config: Config, words: list[str] | None) -> Run | None:
    """The run for this Config, from where ``run_source.decide`` says; None while it waits
    for a click (the session's latest run is shown meanwhile, see ``_page``)."""
    runs: OrderedDict[str, Run] = st.session_state.setdefault("runs", OrderedDict())
    key = run_key(config, words)
    refused = st.session_state.pop("continue_refused", None)
    if refused:
        notice("warning", refused)
    action = ("continue" if st.session_state.pop("continue_requested", False) else
              "train" if st.session_state.get("train_clicked") else "open")
    needs_words = config.task == "words" and not words
    stored = None if key in runs or needs_words else _from_store(config, words)
    base = None if key in runs or stored is not None else _shorter_run(config, words, runs)
    seconds = 0.0 if key in runs or stored is not None else estimate_seconds(config, words)
    decision = decide(Facts(
        action=action, needs_words=needs_words, in_session=key in runs,
        in_store=stored is not None, in_training=JOBS.is_running(store_key(config, words)),
        shorter=base is not None, seconds=seconds,
        continue_seconds=(seconds - estimate_seconds(base.config, words)
                          if base is not None else 0.0)), AUTO_SECONDS)
    source = decision.source
    if source == "need words":
        st.info("Upload a word list (one word per line) in the Data section to train on it.")
        return None
    if source == "wait":
        return _wait_for_click(config, words, runs, decision.seconds)
    if source == "store":
        runs[key] = stored
        st.caption(f"Opened from the run store: trained earlier ({stored.elapsed:.1f} s of "
                   "training), not trained again.")
    elif source in ("follow", "train", "continue"):
        made = _train_or_report(config, words, base=base if source == "continue" else None)
        if made is None:
            return base or (runs[next(reversed(runs))] if runs else None)
        runs[key] = made
    runs.move_to_end(key)
    while len(runs) > KEPT_RUNS:
        runs.popitem(last=False)
        st.session_state["dropped_runs"] = st.session_state.get("dropped_runs", 0) + 1
    return runs[key]


def _from_store(config: Config, words: list[str] | None) -> Run | None:
    """The store's run of this Config, or None; a store that cannot be read is reported
    once and then trained around (the dashboard works without it)."""
    try:
        store = shared_store()
        known = len(store.problems)
        run = store.get(store_key(config, words))
    except (OSError, sqlite3.Error) as err:
        _store_trouble(err)
        return None
    for problem in store.problems[known:]:
        notice("warning", f"The run store skipped a damaged run, which is trained again: "
                          f"{problem}")
    return run


def _store_trouble(err: Exception) -> None:
    if not st.session_state.get("store_warned"):
        st.session_state["store_warned"] = True
        notice("warning", f"The run store cannot be used ({type(err).__name__}: {err}); "
                          "runs are kept in this session only.")


def _wait_for_click(config: Config, words: list[str] | None, runs: dict[str, Run],
                    seconds: float) -> Run | None:
    """Say what pressing Train would cost; keep showing the session's latest run."""
    st.info(f"This run would take {describe_seconds(seconds)} to train here "
            f"({config.n_params():,} parameters, {config.total_steps:,} steps of "
            f"{config.batch:,} examples, {config.snapshot_count():,} snapshots): press "
            f"**Train** to start it. Opening a link trains only runs of up to "
            f"{AUTO_SECONDS:g} s by itself.")
    return runs[next(reversed(runs))] if runs else None


def _shorter_run(config: Config, words: list[str] | None, runs: dict[str, Run]) -> Run | None:
    """The session's longest run of ``config`` with fewer ``more`` steps: continuing it gives
    exactly ``config``'s run, without retraining what it already trained."""
    key = run_key(config, words)
    shorter = [run for run in runs.values()
               if run.config.more < config.more and continues_exactly(run)
               and run.steps_done == run.config.total_steps
               and run_key(run.config.replace(more=config.more), run.words) == key]
    return max(shorter, key=lambda run: run.config.more, default=None)


def metrics(run: Run, step: int | None) -> None:
    """The header row: losses, the most saturated layer at the selected snapshot and the
    units dead on the whole training split."""
    cols = st.columns(5)
    cols[0].metric("initial loss", f"{run.initial_loss:.3f}",
                   f"expected {run.expected_initial_loss:.3f}", delta_color="off",
                   help="Loss at step 0 vs -ln(1/V), the loss of a uniform guess")
    if run.final:
        cols[1].metric("train loss", f"{run.final['train_loss']:.4f}")
        cols[2].metric("val loss", f"{run.final['val_loss']:.4f}",
                       f"acc {run.final['val_acc']:.1%}" if not run.config.is_char_task
                       else None, delta_color="off")
    else:
        cols[1].metric("train loss", "—")
        cols[2].metric("val loss", "—")
    name = prepare.saturation_name(run.config.act)
    if len(run.layers) and step is not None:
        at_step = run.layers[run.layers["step"] == step]
        worst = at_step.loc[at_step["saturated_pct"].idxmax()]
        cols[3].metric(f"most {name} layer", f"{worst['saturated_pct']:.1f}%",
                       f"{worst['layer']}, step {step:,}", delta_color="off",
                       help=f"The largest share of {name} activations in one hidden layer "
                            f"at the selected snapshot, measured on the "
                            f"{run.sample_name} of the diagnostic batch.")
    if run.dead_units is not None:
        cols[4].metric("dead units (train split)", f"{sum(run.dead_units.values()):,}",
                       help=f"Hidden units {name} for every example of the whole training "
                            "split after training: they pass no gradient, so they no longer "
                            "learn. The Activations tab also counts units "
                            f"{name} on all {run.sample_name} at each snapshot, "
                            "which only bounds this count from above.")
    elif len(run.layers):
        cols[4].metric("dead units (train split)", "—",
                       help="Not counted: the run diverged, or its file predates the count.")


def overview(run: Run, step: int) -> None:
    """What a first look needs: the findings, the loss, and how every layer evolved."""
    for finding in _derived(run, "findings", lambda: diagnose(run)):
        getattr(st, finding.level)(f"**{finding.lesson}.** {finding.text}")
    left, right = st.columns(2)
    render.chart(_key(run, "overview_loss"), lambda: charts.loss_chart(
        prepare.loss_curves(run), prepare.loss_references(run), height=240), container=left)
    if len(run.layers):
        render.chart(_key(run, "overview_act_std"), lambda: charts.over_steps_chart(
            run.layers, "act_std", "activation std per hidden layer", "std", height=240),
            container=right)
    st.caption("Loss: train (raw and smoothed) and validation, with the uniform-guess and "
               "data baselines. Activation std: healthy layers keep a similar, steady spread; "
               "a layer drifting toward 0 is collapsing, toward the activation's limit is "
               "saturating. The other tabs show each quantity in detail.")
    if not run.config.is_char_task and run.status != "diverged":
        decision_boundary(run, step)


def loss_tab(run: Run) -> None:
    log_scale = st.toggle("log scale", key="loss_log")
    render.chart(_key(run, "loss", log_scale), lambda: charts.loss_chart(
        prepare.loss_curves(run), prepare.loss_references(run), log_scale))
    st.caption("Healthy: starts near the uniform guess, falls fast, then slowly; validation "
               "tracks train. A drop at 75% of the steps is the step schedule's lr decay.")


def logits_tab(run: Run, step: int) -> None:
    logits = lambda: prepare.compare_snapshots(run, step, "logits", "logits")  # noqa: E731
    render.chart(_key(run, "logits", step), lambda: charts.compare_histograms_chart(
        logits(), "logits: step 0 vs the selected step", "logit value"),
        template=_key(run, "logits"), data=logits)
    st.caption("Healthy at init: logits near 0 (unconfident). Wide logits at step 0 mean "
               "confidently wrong predictions and a hockey-stick loss.")
    p_correct = lambda: prepare.compare_snapshots(run, step, "logits", "p_correct")  # noqa: E731
    render.chart(_key(run, "p_correct", step), lambda: charts.compare_histograms_chart(
        p_correct(), "p(correct class)", "probability"),
        template=_key(run, "p_correct"), data=p_correct)
    st.caption("Healthy: mass moves right over training; at init it sits near 1/V.")
    if run.status == "diverged":
        st.info("The diverged model's parameters are not finite: nothing to sample or query.")
        return
    model = _model(run)
    if run.config.is_char_task:
        text = st.text_input("context: type the start of a word", value="", key="ctx_text",
                             max_chars=40)
        try:
            probs = queries.next_char_probs(model, run.vocab, run.config.context, text)
            frame = pd.DataFrame({"char": list(run.vocab), "p": probs})
            render.chart(_key(run, "next", text), lambda: charts.bars_chart(
                frame, "char", "p", f"P(next character | '{text}')"))
            st.caption("Healthy: a few plausible characters take most of the probability; "
                       "a flat profile means the model has not learned this context.")
        except ValueError as err:
            notice("warning", err)
        if run.config.context == 1 and run.config.depth == 0:
            _bigram_tables(run, model)
        words = _derived(run, "samples", lambda: queries.sample_words(
            model, run.vocab, run.config.context, 20, seed=run.config.seed))
        st.write("**20 sampled words:** " + escape(", ".join(words)))
        st.caption("Healthy: name-like words; random strings mean the model is near uniform.")
    else:
        st.caption("The decision boundary of this 2-D model is on the Overview.")


PLANE = (-1.5, 1.5, -1.5, 1.5)
"""The part of the input plane that 2-D views draw (every point generator stays inside)."""
UNIT_MAPS = 16
"""Units drawn over the plane in the Neuron tab (16 maps of 16 x 16 cells: 4,096 rows)."""


def decision_boundary(run: Run, step: int) -> None:
    """Class probabilities of the 2-D model over the plane at the selected snapshot (its
    weights are always kept at this size), with the data on top."""
    kept = _kept(run, step)
    resolution = 50
    per_split = (charts.MAX_ROWS - resolution**2) // 2  # grid + points fit in one chart

    def frame() -> pd.DataFrame:
        data = _dataset(run)
        xs, ys, probs = queries.grid_probs(_model(run, kept), PLANE, resolution)
        points = pd.concat([pd.DataFrame({"x": data.x[s][:per_split, 0],
                                          "y": data.x[s][:per_split, 1],
                                          "label": data.y[s][:per_split].astype(str),
                                          "split": s})
                            for s in ("train", "val")], ignore_index=True)
        return prepare.decision_frame(xs, ys, probs, points)

    render.chart(_key(run, "boundary", kept), lambda: charts.decision_chart(frame()),
                 stretch=False, template=_key(run, "boundary"), data=frame)
    when = f"at step {kept:,}" if kept is not None else "after training"
    st.caption(f"The model {when}: move the snapshot slider to watch the boundary form; "
               "click train or val in the legend to show only that split. Healthy: it "
               "follows the classes without wrapping single points.")


def _bigram_tables(run: Run, model) -> None:
    """The learned table beside the count model's at the add-k smoothing nearest to it:
    weight decay shows up as a larger k (makemore part 1's regularisation = smoothing)."""
    learned = queries.bigram_table(model, len(run.vocab))
    counts = _dataset(run).bigram_counts
    smoothing, distance = _derived(run, "smoothing", lambda: closest_smoothing(learned, counts))
    counted = smoothed_bigram(counts, smoothing)
    left, right = st.columns(2)
    render.chart(_key(run, "learned"), lambda: charts.heatmap_chart(
        _table(learned, run.vocab), "learned P(next | previous)"), left, False)
    render.chart(_key(run, "counted", smoothing), lambda: charts.heatmap_chart(
        _table(counted, run.vocab), f"counted P(next | previous), add-{smoothing:.2g}"),
        right, False)
    st.caption(f"The count model nearest to the learned table adds k = {smoothing:.2g} to "
               f"every count (KL {distance:.4f} nats, averaged over rows by their share of "
               "the training bigrams; k near 0 is the raw counts, 1 is add-one smoothing). "
               f"Weight decay (wd, here {run.config.wd:g}) pulls the learned logits toward "
               "0, that is the table toward uniform, as a larger k does: raise wd and k "
               "grows.")


def _table(probs: np.ndarray, vocab: str) -> pd.DataFrame:
    prev, nxt = np.meshgrid(np.arange(len(vocab)), np.arange(len(vocab)), indexing="ij")
    return pd.DataFrame({"previous": [vocab[i] for i in prev.ravel()],
                         "next": [vocab[i] for i in nxt.ravel()], "p": probs.ravel()})


def activations_tab(run: Run, step: int) -> None:
    if not len(run.layers):
        st.info("This model has no hidden layers.")
        return
    _histogram(run, step, "activation", "activations at the selected step", "activation")
    st.caption("Healthy tanh: spread over (-1, 1) without tall spikes at +-1 (saturation) "
               "or a narrow spike at 0 (collapse). Click the legend to isolate a layer.")
    st.dataframe(prepare.layer_table(run, step), hide_index=True)
    dead_at_step(run, step)
    layer = st.selectbox("layer for the dead-unit map", sorted(run.dead_maps[step]),
                         key="map_layer")
    mask = lambda: prepare.dead_map_frame(run.dead_map(step, layer))  # noqa: E731
    units = int(run.layers.loc[run.layers["layer"] == layer, "units"].iloc[0])
    render.chart(_key(run, "dead_map", step, layer),
                 lambda: charts.dead_map_chart(mask(), layer, units),
                 template=_key(run, "dead_map", layer), data=mask)
    rows = (" Below the top of a fused model (`fuse`) each row is one group of an "
            "example's positions." if run.config.fuse_levels > 1 else "")
    st.caption("White cells: saturated/inactive for that example. A fully white column is a "
               "dead unit that never learns." + rows)
    render.chart(_key(run, "saturation"), lambda: charts.over_steps_chart(
        run.layers, "saturated_pct", "saturated / inactive % over training", "%"))
    st.caption("Healthy: below ~5-10% and not rising.")
    _over_training(run, "activation", "activations over training", "activation")
    st.caption("Each layer's activation histogram at every snapshot, darkest where most "
               "values fall. Saturation shows as dark bands at the activation's limits "
               "growing over training, collapse as the band narrowing to 0.")


def dead_at_step(run: Run, step: int) -> None:
    """The split-wide dead count at the selected snapshot, on request (the table above
    counts the diagnostic sample only)."""
    state = prepare.saturation_name(run.config.act)
    if run.status == "diverged":
        return
    if step not in run.model_states and step != run.steps_done:
        st.caption(f"The table counts units {state} on all {run.sample_name}. Whether they "
                   "are dead on the whole training split can be counted at steps whose "
                   "weights were kept (every snapshot of smaller models) and at the end.")
        return
    kept = _kept(run, step)
    name = f"dead_on_split@{kept}"
    if not _derived_ready(run, name) and not st.button(
            f"Count dead units on the whole training split at step {step:,}",
            key="count_dead", help=f"The table counts units {state} on all "
                                   f"{run.sample_name}: a unit may still be active on "
                                   "other examples. This runs the model over every "
                                   "training example."):
        return
    counts = _derived(run, name, lambda: queries.dead_on_split(
        _model(run, step), _dataset(run).x["train"]))
    st.info(f"At step {step:,}, {sum(counts.values()):,} hidden units are {state} for every "
            "example of the training split (dead: they pass no gradient): "
            + ", ".join(f"{layer}: {count}" for layer, count in counts.items()) + ".")


def gradients_tab(run: Run, step: int) -> None:
    if len(run.layers):
        _histogram(run, step, "gradient", "activation gradients at the selected step",
                   "dloss/dh")
        st.caption("Healthy: every layer's gradient distribution has a similar width; "
                   "shrinking toward the input means vanishing gradients.")
        _over_training(run, "gradient", "activation gradients over training", "dloss/dh")
        st.caption("Each layer's gradient histogram at every snapshot (each step scaled to "
                   "its own peak). Compare the ranges on the axes: a layer whose band is "
                   "far narrower than the others learns far more slowly.")
    _histogram(run, step, "weight_grad", "weight gradients at the selected step", "dloss/dW")
    st.dataframe(prepare.weight_table(run, step), hide_index=True)
    st.caption("grad:data = std(dW)/std(W). Healthy: similar across layers; an outlier "
               "layer trains faster or slower than the rest.")
    render.chart(_key(run, "update_data"), lambda: charts.over_steps_chart(
        prepare.update_data_frame(run), "update_data", "update:data (log10 std(ΔW)/std(W))",
        "log10", color="param", guide=-3.0))
    measured = run.history[run.matrix_names].notna().any(axis=1).to_numpy()
    if len(measured) > 1 and not measured.all():
        stride = int(np.diff(np.flatnonzero(measured)).max())
        st.caption(f"Measured every {stride} steps for this model and batch size: measuring "
                   "every matrix costs more than such a step's own work (see the README).")
    st.caption("Healthy: around -3 (each step changes weights by ~1/1000) in early and mid "
               "training. Far below then: lr too low; far above: lr too high. Later it may "
               "fall as the loss converges or the schedule cuts lr: that is no sign of a low "
               "rate.")
    backprop_check(run, step)


CHECK_AUTO_PARAMS = 300_000
"""Models up to this size are checked as soon as the tab opens (well under a second);
larger ones wait for a click (a few seconds at the 5M-parameter cap)."""
CHECK_EXAMPLES = 32


def backprop_check(run: Run, step: int) -> None:
    """makemore part 4's comparison of hand-derived gradients, on the user's own model."""
    st.markdown("**Backprop check**")
    st.caption("makemore part 4 derives every gradient by hand and compares it with "
               "PyTorch's. This engine's backward is hand-written too: here each parameter's "
               "gradient is compared with central finite differences of the loss, in float64, "
               f"on {CHECK_EXAMPLES} validation examples (a few entries per parameter).")
    if run.status == "diverged":
        st.info("The diverged model's parameters are not finite: nothing to check.")
        return
    kept = _kept(run, step)
    name = f"backprop_check@{kept}"
    waits = not _derived_ready(run, name) and run.config.n_params() > CHECK_AUTO_PARAMS
    if waits and not st.button(
            f"Check the gradients ({run.config.n_params():,} parameters: a few seconds)"):
        return
    data = _dataset(run)
    table = _derived(run, name, lambda: check_gradients(
        run.model(kept, dtype=np.float64), data.x["val"][:CHECK_EXAMPLES],
        data.y["val"][:CHECK_EXAMPLES]))
    wrong = table.loc[~table["agrees"], "parameter"].tolist()
    worst = table["relative_error"].max()
    if wrong:
        kink = (" A pre-activation at exactly 0 sits on ReLU's kink, where the derivative is "
                "undefined and finite differences straddling it disagree with either side."
                if run.config.act in ("relu", "leaky_relu") else "")
        st.error(f"Backward disagrees with finite differences for {', '.join(wrong)} "
                 f"(relative error up to {worst:.1e}).{kink}")
    else:
        st.success(f"Every one of the {len(table)} parameters agrees with finite differences "
                   f"(largest relative error {worst:.1e}; agreement means below "
                   f"{TOLERANCE:g}, or differences below the {NOISE_FLOOR:g} that finite "
                   "differences can resolve, as for vanishing gradients).")
    scientific = st.column_config.NumberColumn(format="%.1e")
    st.dataframe(table, hide_index=True, column_config={
        "step": scientific, "max_abs_diff": scientific, "relative_error": scientific})


def neuron_tab(run: Run, step: int) -> None:
    if run.status == "diverged":
        st.info("The diverged model's parameters are not finite: no neuron to trace.")
        return
    model = _model(run, step)
    if not model.blocks:
        st.info("This model has no hidden units.")
        if run.vocab:
            embedding_view(run, model, step)
        return
    if step in run.model_states:
        st.caption(f"Weights as they were at step {step} (the snapshot slider).")
    else:
        st.caption("Weights after training: per-snapshot weights are kept only for models "
                   "whose parameters x snapshots fit in 5M numbers.")
    cols = st.columns(3)
    block = cols[0].selectbox("layer", range(len(model.blocks)),
                              format_func=lambda i: f"hidden {i + 1}", key="neuron_layer")
    width = model.blocks[block].width
    unit = cols[1].number_input("unit", 0, width - 1, 0, key="neuron_unit")
    data = _dataset(run)
    examples = data.x["val"][:64]
    example = cols[2].number_input("example (validation)", 0, len(examples) - 1, 0,
                                   key="neuron_example")
    trace = queries.trace_neuron(model, examples, int(block), int(unit), int(example))
    labels = prepare.neuron_inputs(
        int(block), len(trace.inputs), examples[int(example)] if data.is_chars else None,
        data.vocab, run.config.embed_dim, _feature_labels(model),
        model.blocks[block - 1].width if block > 0 else None)
    act_layer = model.layers[model.blocks[block].activation]
    groups = act_layer.x.shape[0] // len(examples)
    if groups > 1:
        st.caption(f"This layer sees each example as {groups} groups of neighbouring "
                   "positions (the hierarchy of `fuse`); the trace follows the last group, "
                   "next to the character being predicted.")
    table = pd.DataFrame({"input": labels, "input x": trace.inputs,
                          "weight w": trace.weights, "w*x": trace.products})
    st.dataframe(table, hide_index=True, height=min(212, 35 * (len(table) + 1) + 3))
    parts = [f"sum(w*x) = {trace.weighted_sum:.4f}", f"bias = {trace.bias:.4f}",
             f"w.x + b = {trace.linear:.4f}"]
    if trace.normalized is not None:
        parts.append(f"after {run.config.norm} norm = {trace.normalized:.4f}")
    parts.append(f"{trace.activation}(.) = {trace.output:.4f}")
    st.write(" → ".join(parts))
    pre = trace.normalized if trace.normalized is not None else trace.linear
    span = max(3.0, abs(pre) * 1.2)
    x = np.linspace(-span, span, 200)
    edges, density = histogram(act_layer.x[:, unit], -span, span)
    neuron_frame = pd.concat([
        pd.DataFrame({"part": "hist", "x": edges[:-1], "bin_end": edges[1:],
                      "density": density}),
        pd.DataFrame({"part": "curve", "x": x, "y": ACTIVATIONS[trace.activation].forward(x)}),
        pd.DataFrame({"part": ["point"], "x": [pre], "y": [trace.output]}),
    ], ignore_index=True)
    kept = _kept(run, step)
    render.chart(_key(run, "neuron", block, unit, example, kept),
                 lambda: charts.neuron_chart(neuron_frame), template=_key(run, "neuron"),
                 data=lambda: neuron_frame)
    over = f"{len(examples)} examples" + (f" at {groups} positions each" if groups > 1 else "")
    st.caption("Red dot: this example's pre-activation and output on the activation curve; "
               f"grey: where this unit's pre-activations fall over {over}. Healthy: "
               "mostly in the curve's sloped part, not the flat tails.")
    if data.is_chars:
        embedding_view(run, model, step)
    else:
        network_view(run, model, step)
        unit_maps(run, model, int(block), step)


def embedding_view(run: Run, model, step: int) -> None:
    """The embedding table with each character as a labelled point (makemore's picture of
    what the first layer learnt): similar characters end up close together."""
    kept = _kept(run, step)
    points, shown = _derived(run, ("embedding", kept), lambda: queries.embedding_points(model))
    dim = run.config.embed_dim

    def frame() -> pd.DataFrame:
        return pd.DataFrame({"char": list(run.vocab), "x": points[:, 0], "y": points[:, 1]})

    def build():
        titles = ("dim 0", "dim 1") if dim <= 2 else ("principal component 1",
                                                       "principal component 2")
        return charts.embedding_chart(frame(), *titles)

    st.markdown("**the character embeddings**")
    render.chart(_key(run, "embedding", kept), build, stretch=False,
                 template=_key(run, "embedding"), data=frame)
    how = "its two dimensions" if dim <= 2 else (
        f"the first two principal components of {dim} dimensions ({shown:.0%} of the variance)")
    st.caption(f"Each character at its learnt embedding, shown on {how}. At step 0 they are "
               "scattered at random; training tends to pull characters that play similar "
               "roles together (in makemore's long runs, the vowels form a group). Move the "
               "snapshot slider to watch it happen.")


def network_view(run: Run, model, step: int) -> None:
    """The whole small network with its weights, as TensorFlow Playground draws it."""
    kept = _kept(run, step)
    weights = [layer.params["weight"] for layer in model.layers if isinstance(layer, Linear)]

    def frame() -> pd.DataFrame:
        return prepare.network_frame(weights, UNIT_MAPS, _feature_labels(model))

    st.markdown("**the network: every weight as a line**")
    render.chart(_key(run, "network", kept), lambda: charts.network_chart(frame()),
                 stretch=False, template=_key(run, "network"), data=frame)
    wide = any(w.shape[1] > UNIT_MAPS for w in weights[:-1])
    st.caption("The input features on the left, the two class outputs on the right; blue lines "
               "are positive weights, red negative, thicker for larger ones"
               + (f" (the first {UNIT_MAPS} units of each layer)" if wide else "") + ". "
               "Healthy: a few strong paths, no layer whose lines all fade out.")


def _feature_labels(model) -> list[str] | None:
    return model.features.labels if model.features is not None else None


def unit_maps(run: Run, model, block: int, step: int) -> None:
    """What every unit of the selected layer computes over the input plane (2-D tasks):
    the view TensorFlow Playground draws inside each neuron."""
    kept = _kept(run, step)
    width = model.blocks[block].width
    output_range = ACTIVATIONS[run.config.act].output_range

    def cells() -> pd.DataFrame:
        xs, ys, values = queries.grid_activations(model, block, PLANE, 16)
        return prepare.unit_maps_frame(xs, ys, values, UNIT_MAPS)

    def build():
        frame = cells()
        span = float(frame["value"].abs().max()) or 1.0
        return charts.unit_maps_chart(frame, output_range or (-span, span))

    # With a bounded activation the colour scale is fixed, so other snapshots only swap data.
    template = _key(run, "unit_maps", block) if output_range else None
    st.markdown(f"**hidden {block + 1}: each unit over the input plane**")
    render.chart(_key(run, "unit_maps", block, kept), build, stretch=False, template=template,
                 data=cells)
    shown = f"the first {UNIT_MAPS} of {width} units" if width > UNIT_MAPS else "every unit"
    st.caption(f"The activation of {shown} at every point of the plane (x1 across, x2 up), "
               "blue high, red low. On x1, x2 the first layer draws lines (on squared "
               "features, ellipses); deeper layers combine them into the curves the "
               "boundary needs. Healthy: varied maps; many "
               "all-one-colour maps mean saturated or dead units.")


def _histogram(run: Run, step: int, quantity: str, title: str, x_title: str) -> None:
    """Per-layer histograms of one quantity; every step after the first reuses the spec."""
    frame = lambda: prepare.histograms_at(run, step, quantity)  # noqa: E731
    render.chart(_key(run, quantity, step), lambda: charts.histogram_chart(
        frame(), title, x_title), template=_key(run, quantity), data=frame)


def _over_training(run: Run, quantity: str, title: str, y_title: str) -> None:
    """Every layer's histograms of one quantity across all snapshots (independent of the
    slider, so built once per run)."""
    render.chart(_key(run, quantity, "over_training"), lambda: charts.distribution_over_steps_chart(
        prepare.distribution_over_steps(run, quantity), title, y_title), stretch=False)


def _key(run: Run, *parts) -> tuple:
    """Cache key of a chart: which run (and how far trained), which view, which step."""
    return (run_key(run.config, list(run.words or [])), run.steps_done, run.status, *parts)


def _derived(run: Run, name: str, compute):
    """A value computed from a run once per session (reruns only change the view)."""
    cache = st.session_state.setdefault("derived", {})
    key = _key(run, name)
    if key not in cache:
        if len(cache) > 40:
            cache.clear()
        cache[key] = compute()
    return cache[key]


def _derived_ready(run: Run, name: str) -> bool:
    """Whether ``_derived`` already holds ``name`` for this run (no work to wait for)."""
    return _key(run, name) in st.session_state.get("derived", {})


def _kept(run: Run, step: int | None) -> int | None:
    """``step`` when the run kept its weights at that snapshot, else None (the final model):
    the step that a model-based view shows, and so part of its cache key."""
    return step if step in run.model_states else None


def _model(run: Run, step: int | None = None):
    """The run's model (at ``step`` when its weights were kept), built once per session."""
    cache = st.session_state.setdefault("models", {})
    key = _key(run, _kept(run, step))
    if key not in cache:
        if len(cache) > 4:
            cache.clear()
        cache[key] = run.model(key[-1])
    return cache[key]


def _dataset(run: Run):
    from ..data import load_dataset

    return load_dataset(run.config, run.words)


TABS = ("Overview", "Loss", "Logits", "Activations", "Gradients", "Neuron", "Runs", "Compare",
        "Lessons", "Sweep", "LR finder", "Export / import")


def main() -> None:
    # Controls take their setting's default and may also be set in code (see ``_widget``):
    # that is intended here, so Streamlit's warning about it would only alarm.
    if not streamlit_config.get_option("global.disableWidgetStateDuplicationWarning"):
        streamlit_config.set_option("global.disableWidgetStateDuplicationWarning", True)
    st.set_page_config(page_title="neurondash", layout="wide")
    show_callback_error()
    try:
        _page()
    except Exception as err:  # the last boundary: the views and callbacks have their own
        report_internal_error("The page", err, "Press Reset in the sidebar to start again")


def _page() -> None:
    check_url_once()
    config, messages, words = sidebar()
    # A bad value in the link is also what the widget still holds: say it once.
    for warning in dict.fromkeys(st.session_state.get("url_warnings", []) + messages):
        notice("warning", warning)
    run = get_run(config, words)
    runs = st.session_state.setdefault("runs", OrderedDict())
    step = None
    if run is not None:
        if run.config != config:
            st.info("Showing the previous run; press Train for the current settings.")
        if run.status == "diverged":
            notice("error", run.message)
        elif run.status == "stopped":
            notice("warning", run.message)
        header = st.container()  # filled once the slider has said which step is shown
        steps = run.snapshot_steps
        if steps:
            if st.session_state.get("snapshot_of") != _key(run):
                # Another run (new settings, Continue, an import) opens on its last step.
                st.session_state["snapshot_of"] = _key(run)
                st.session_state["snapshot"] = steps[-1]
            step = st.select_slider("snapshot step (drives every view)", steps,
                                    key="snapshot")
        else:
            st.info("No diagnostics were recorded for this run.")
        with header:
            draw_or_report("summary", lambda: metrics(run, step))
    # Lazy tabs: only the open one runs, so a rerun (a slider move, a click) draws one view
    # instead of all twelve; switching tabs reruns the script from the cached specs.
    # The open tab is part of the link ("view"), so a shared link opens on the same view.
    tabs = dict(zip(TABS, st.tabs(list(TABS), on_change="rerun", key="view",
                                  bind="query-params"), strict=True))
    views = {"Runs": runs_view.runs_tab,
             "Compare": lambda: explore.compare_tab(
                 runs_view.stored_runs(st.session_state.get("compare_keys", [])) | runs),
             "Lessons": explore.lessons_tab,
             "Sweep": lambda: explore.sweep_tab(config, words),
             "LR finder": lambda: explore.lr_finder_tab(config, words),
             "Export / import": lambda: explore.export_tab(run, runs, run_key, step)}
    if run is not None and step is not None:
        views |= {"Overview": lambda: overview(run, step), "Loss": lambda: loss_tab(run),
                  "Logits": lambda: logits_tab(run, step),
                  "Activations": lambda: activations_tab(run, step),
                  "Gradients": lambda: gradients_tab(run, step),
                  "Neuron": lambda: neuron_tab(run, step)}
    for name, tab in tabs.items():
        if tab.open and name in views:
            with tab:
                draw_or_report(name, views[name])

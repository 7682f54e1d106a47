"""A standalone HTML report of one run: its settings and link, the findings, and every view's
charts at one snapshot, in a single file that draws offline (Vega, Vega-Lite and vega-embed
inlined from vl-convert-python's bundle, data embedded). Single charts convert to PNG or SVG
offline too (vl-convert)."""

from __future__ import annotations

import datetime
import functools
import html
import json
import os
from collections.abc import Callable

import altair as alt

from . import charts
from .charts import prepare
from .config import SETTINGS_BY_NAME, Config
from .diagnosis import diagnose
from .run import Run

FORMATS = ("png", "svg")

PUBLIC_URL = "NEURONDASH_PUBLIC_URL"
"""Environment variable: the dashboard's public address, e.g.
``https://dash.example.org/neurondash`` (see ``dashboard_link``)."""

LOCAL_URL = "http://localhost:8501"
"""Where ``streamlit run`` serves by default: the last resort of ``dashboard_link``."""


def dashboard_link(config: Config, page_url: str | None = None) -> str:
    """This run's absolute dashboard address, so that a report's link works wherever the
    file is opened.

    The base is, in order: ``NEURONDASH_PUBLIC_URL`` (set it when readers reach the server
    by another address than the one the page was opened at, as behind a proxy), the page's
    own address (``page_url``: Streamlit's ``st.context.url``, scheme, host, port and path,
    which a browser session always has), else ``LOCAL_URL``. The Config's query follows.
    """
    base = os.environ.get(PUBLIC_URL, "").strip() or page_url or LOCAL_URL
    base = base.split("#", 1)[0].split("?", 1)[0]
    query = config.to_query()
    return f"{base}?{query}" if query else base


def report_builders(run: Run, step: int) -> dict[str, Callable[[], alt.TopLevelMixin]]:
    """Title -> builder of every view's chart that draws from the run's records at ``step``
    (the model-based views, which need the weights, are left to the dashboard). Builders,
    so that listing the titles costs nothing."""
    found: dict[str, Callable[[], alt.TopLevelMixin]] = {
        "Loss": lambda: charts.loss_chart(prepare.loss_curves(run),
                                          prepare.loss_references(run)),
    }
    if run.snapshot_steps:
        found["Logits: step 0 vs this step"] = lambda: charts.compare_histograms_chart(
            prepare.compare_snapshots(run, step, "logits", "logits"),
            "logits: step 0 vs the selected step", "logit value")
        found["p(correct class)"] = lambda: charts.compare_histograms_chart(
            prepare.compare_snapshots(run, step, "logits", "p_correct"), "p(correct class)",
            "probability")
    if len(run.layers):
        found["Activation std per layer"] = lambda: charts.over_steps_chart(
            run.layers, "act_std", "activation std per hidden layer", "std")
        found["Activations"] = lambda: charts.histogram_chart(
            prepare.histograms_at(run, step, "activation"), "activations", "activation")
        found["Saturated / inactive %"] = lambda: charts.over_steps_chart(
            run.layers, "saturated_pct", "saturated / inactive % over training", "%")
        found["Activations over training"] = lambda: charts.distribution_over_steps_chart(
            prepare.distribution_over_steps(run, "activation"), "activations over training",
            "activation")
        found["Activation gradients"] = lambda: charts.histogram_chart(
            prepare.histograms_at(run, step, "gradient"), "activation gradients", "dloss/dh")
    if run.snapshot_steps:
        found["Weight gradients"] = lambda: charts.histogram_chart(
            prepare.histograms_at(run, step, "weight_grad"), "weight gradients", "dloss/dW")
    if run.matrix_names:
        found["update:data"] = lambda: charts.over_steps_chart(
            prepare.update_data_frame(run), "update_data", "update:data (log10 std(ΔW)/std(W))",
            "log10", color="param", guide=-3.0)
    return found


def report_charts(run: Run, step: int) -> dict[str, alt.TopLevelMixin]:
    """Every chart of ``report_builders``, built."""
    return {title: build() for title, build in report_builders(run, step).items()}


@functools.cache
def _bundle() -> str:
    """vega-embed with Vega and Vega-Lite, as one script (about 0.9 MB; built once)."""
    import vl_convert

    return vl_convert.javascript_bundle()


def _script_json(value) -> str:
    """JSON safe inside a <script> element (no '</script>' or comment openers)."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _settings_rows(run: Run) -> str:
    rows = []
    for name, value in run.config.to_dict().items():
        if value != SETTINGS_BY_NAME[name].default:
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(value))}</td>"
                        "</tr>")
    return "".join(rows) or "<tr><td colspan=2>all defaults</td></tr>"


def build_report(run: Run, step: int, link: str) -> str:
    """The report as one HTML document (``link``: the dashboard address of this run)."""
    specs = {title: chart.to_dict() for title, chart in report_charts(run, step).items()}
    findings = "".join(
        f"<li class='{html.escape(f.level)}'><b>{html.escape(f.lesson)}.</b> "
        f"{html.escape(f.text)}</li>" for f in diagnose(run))
    final = ", ".join(f"{name.replace('_', ' ')} {value:.4f}"
                      for name, value in run.final.items()) or html.escape(run.message)
    divs = "".join(f"<h3>{html.escape(title)}</h3><div class='chart' id='chart{i}'></div>"
                   for i, title in enumerate(specs))
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>neurondash report: {html.escape(run.config.to_query() or "defaults")}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td{{border:1px solid #ccc;padding:2px 8px}}
li.error{{color:#b00}}li.warning{{color:#a60}}li.success{{color:#070}}</style>
<script>{_bundle()}</script></head><body>
<h1>neurondash run report</h1>
<p>Link: <a href="{html.escape(link, quote=True)}">{html.escape(link)}</a><br>
Status: {html.escape(run.status)} after {run.steps_done:,} steps; {final}.<br>
Charts at snapshot step {step:,}. Written {when}.</p>
<h2>Settings (those that differ from the defaults)</h2><table>{_settings_rows(run)}</table>
<h2>Findings</h2><ul>{findings}</ul>
<h2>Charts</h2>{divs}
<script>
const specs = {_script_json(list(specs.values()))};
window.chartsDrawn = 0;
specs.forEach((spec, i) => vegaEmbed("#chart" + i, spec, {{actions: false}})
  .then(() => {{ window.chartsDrawn += 1; }}).catch(console.error));
</script></body></html>"""


def chart_image(chart: alt.TopLevelMixin, fmt: str) -> bytes:
    """One chart as PNG or SVG, converted offline by vl-convert."""
    import vl_convert

    spec = chart.to_dict()
    if fmt == "png":
        return vl_convert.vegalite_to_png(spec, scale=2)
    if fmt == "svg":
        return vl_convert.vegalite_to_svg(spec).encode()
    raise ValueError(f"format {fmt!r}: one of {', '.join(FORMATS)}")

"""Dashboard timings for the default Config and a 2-D task, through Streamlit's AppTest.

Prints, per page: time of the first page (train + render); then, for a few tabs (only the
open tab is drawn), the time to open it, of a view-only rerun (snapshot slider) and its
share of the training time, and the bytes of chart data (Arrow datasets + specs) per
rerun. Targets: view-only rerun <= 10% of training and < 300 ms; chart data < 1 MB.

    python benchmarks/bench_dashboard.py
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def chart_bytes(at: AppTest) -> int:
    total = 0
    for element in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart"):
        total += len(element.proto.spec) + sum(len(d.data.data) for d in element.proto.datasets)
    return total


def measure(label: str, params: dict[str, str], tabs: tuple[str, ...]) -> None:
    start = time.perf_counter()
    at = AppTest.from_file(APP, default_timeout=600)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    first = time.perf_counter() - start
    run = next(iter(at.session_state["runs"].values()))
    print(f"{label}: first page (train {run.elapsed:.2f}s + render) {first:.2f}s")
    steps = at.select_slider(key="snapshot").options
    for tab in tabs:
        start = time.perf_counter()
        at.session_state["view"] = tab  # what clicking the tab does
        at.run()
        opened = time.perf_counter() - start
        times = []
        for k in range(5):
            start = time.perf_counter()
            at.select_slider(key="snapshot").set_value(steps[k % len(steps)]).run()
            times.append(time.perf_counter() - start)
        rerun = statistics.median(times)
        print(f"  {tab} tab: opening it {1000 * opened:.0f} ms; view-only rerun (snapshot "
              f"slider), median of 5: {1000 * rerun:.0f} ms = "
              f"{100 * rerun / run.elapsed:.1f}% of training time; chart data "
              f"{chart_bytes(at) / 1e6:.3f} MB")


def main() -> None:
    # Each AppTest constructor warns "missing ScriptRunContext" (it sets up session state
    # outside a script run), which would bury the figures; Streamlit resets log levels, so
    # the warning is filtered out instead.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    views = ("Overview", "Activations", "Gradients", "Neuron")
    measure("default Config", {}, views)
    measure("spiral (2-D)", {"task": "spiral"}, views)


if __name__ == "__main__":
    main()

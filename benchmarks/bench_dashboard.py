"""Dashboard timings for the default Config, through Streamlit's AppTest.

Prints: time of the first page (train + render), time of a view-only rerun (snapshot
slider), their ratio, and the bytes of chart data (Arrow datasets + specs) per rerun.
Targets: view-only rerun <= 10% of training and < 300 ms; chart data < 1 MB.

    python benchmarks/bench_dashboard.py
"""

from __future__ import annotations

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


def main() -> None:
    start = time.perf_counter()
    at = AppTest.from_file(APP, default_timeout=600).run()
    first = time.perf_counter() - start
    run = next(iter(at.session_state["runs"].values()))
    steps = at.select_slider(key="snapshot").options
    times = []
    for k in range(5):
        start = time.perf_counter()
        at.select_slider(key="snapshot").set_value(steps[k % len(steps)]).run()
        times.append(time.perf_counter() - start)
    rerun = statistics.median(times)
    print(f"default Config: first page (train {run.elapsed:.2f}s + render) "
          f"{first:.2f}s")
    print(f"view-only rerun (snapshot slider), median of 5: {1000 * rerun:.0f} ms "
          f"= {100 * rerun / run.elapsed:.1f}% of training time")
    print(f"chart data per rerun: {chart_bytes(at) / 1e6:.3f} MB")


if __name__ == "__main__":
    main()

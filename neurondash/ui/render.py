"""Draw Altair charts from a per-session cache of their Vega-Lite specs.

Turning an Altair chart into a spec (schema validation, data serialisation) costs tens of
milliseconds per chart; a view-only rerun would pay it for every chart on the page. Here a
chart is built and converted once per (run, view, step) and its spec, with the data as
Arrow IPC bytes as Streamlit itself ships it, is reused on later reruns.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

from .session import Session

CACHE_SIZE = 300
FIT = {"type": "fit", "contains": "content"}
"""A stretched chart's plot fits the column and its axes and title go around it: with
Streamlit's own "padding", Vega cut a histogram's title and y-axis title at the left
once its labels grew to '3.5' (a depth-0 net's weights)."""
_ALTAIR_GLOBALS = threading.Lock()


def arrow_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def to_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec with its data frames stored as named Arrow datasets."""
    datasets: dict[str, bytes] = {}

    def store(data: pd.DataFrame) -> dict[str, str]:
        name = f"data-{len(datasets)}"
        datasets[name] = arrow_bytes(data)
        return {"name": name}

    # Altair's theme and data transformer are process-global: convert one chart at a time.
    with _ALTAIR_GLOBALS:
        alt.data_transformers.register("neurondash_arrow", store)
        with alt.theme.enable("none"), alt.data_transformers.enable("neurondash_arrow"):
            spec = chart.to_dict(validate=False)
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


def chart(key: Hashable, build: Callable[[], alt.TopLevelMixin], container=st,
          stretch: bool = True, template: Hashable | None = None,
          data: Callable[[], pd.DataFrame | tuple[pd.DataFrame, ...]] | None = None) -> None:
    """Draw the chart ``build()`` makes, building it only the first time ``key`` is seen.

    Charts that differ only in their data frames (the same view at another snapshot
    step) can share a ``template``: the first one is built with Altair, the others reuse
    its spec with ``data()`` swapped in (a frame, or one per dataset in the order the
    chart's layers use them), which costs a millisecond instead of tens.
    """
    cache: OrderedDict = Session().chart_specs
    spec = cache.get(key)
    if spec is None:
        shared = cache.get(("template", template)) if template is not None else None
        frames = data() if shared is not None and data is not None else None
        frames = (frames,) if isinstance(frames, pd.DataFrame) else frames
        if frames is not None and len(shared["datasets"]) == len(frames):
            spec = {**shared, "datasets": {name: arrow_bytes(frame) for name, frame in zip(
                shared["datasets"], frames, strict=True)}}
        else:
            spec = to_spec(build())
            if template is not None:
                cache[("template", template)] = spec
        cache[key] = spec
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    # Streamlit moves the datasets out of the spec it is given: hand it a copy.
    shipped = copy.deepcopy(spec)
    if stretch:  # see FIT
        shipped["autosize"] = FIT
    container.vega_lite_chart(spec=shipped, width="stretch" if stretch else "content")

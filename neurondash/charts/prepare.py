"""Turn a Run into the small tidy frames the charts draw (downsampled with NumPy)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import Config, spell_value
from ..parts.activations import ACTIVATIONS
from ..run import Run
from .labels import COLUMN_LABELS, parameter_labeller
from .search_data import as_numbers as as_numbers
from .search_data import clipped as clipped
from .search_data import heatmap_cells as heatmap_cells
from .search_data import parallel_frame as parallel_frame
from .search_data import varying_metrics as varying_metrics
from .search_data import wants_log as wants_log
from .series import downsample as downsample
from .series import ema as ema
from .series import extremes as extremes

LOSS_POINTS = 1000


def loss_curves(run: Run) -> pd.DataFrame:
    steps = run.history["step"].to_numpy()
    loss = run.history["loss"].to_numpy()
    finite = np.isfinite(loss)
    steps, loss = steps[finite], loss[finite]
    raw_s, raw = extremes(steps, loss, LOSS_POINTS)
    span = max(10, len(loss) // 50)
    # On the log scale an exploding run is drawn on, the smoothing averages log loss: a
    # plain average of relu at init_scale 30 stayed near its first loss of 1e12 while the
    # loss itself fell to 1.
    smooth = (np.exp(ema(np.log(loss), span)) if loss_explodes(run) and (loss > 0).all()
              else ema(loss, span))
    sm_s, sm = downsample(steps, smooth, LOSS_POINTS)
    frames = [pd.DataFrame({"step": raw_s, "loss": raw, "series": "train"}),
              pd.DataFrame({"step": sm_s, "loss": sm, "series": "train (smoothed)"})]
    if len(run.evals):
        frames.append(pd.DataFrame({"step": run.evals["step"], "loss": run.evals["val_loss"],
                                    "series": "validation"}))
    return pd.concat(frames, ignore_index=True)


REFERENCE_LABELS = {"uniform": "uniform guess -ln(1/V)", "unigram": "unigram (no context)",
                    "bigram": "count bigram (val)"}


def loss_references(run: Run) -> pd.DataFrame:
    return pd.DataFrame([{"label": REFERENCE_LABELS[k], "value": v}
                         for k, v in run.baselines.items() if k in REFERENCE_LABELS])


def _snapshot_rows(run: Run, step: int, quantity: str) -> pd.DataFrame:
    empty = run.histograms.iloc[:0]
    return run.histograms_by_step.get((int(step), quantity), empty)


def histograms_at(run: Run, step: int, quantity: str) -> pd.DataFrame:
    """One row per bin, and per name a last point at the last bin's end: a step line
    (``interpolate="step-after"``) draws a bin from its start to the next point, so
    without it the last bin (tanh's spike at +1) was a bare vertical line."""
    rows = _snapshot_rows(run, step, quantity)
    # A snapshot's rows come a name at a time, its bins in order: a name's closing point
    # goes right after its last bin.
    names = rows["name"].to_numpy(str)
    last = np.flatnonzero(np.r_[names[1:] != names[:-1], True]) if len(rows) else []
    at = np.sort(np.r_[np.arange(len(rows)), last]).astype(int)
    closing = np.r_[False, at[1:] == at[:-1]] if len(at) else np.zeros(0, bool)
    start, end = rows["bin_start"].to_numpy()[at], rows["bin_end"].to_numpy()[at]
    frame = pd.DataFrame({"name": names[at], "bin_start": np.where(closing, end, start),
                          "bin_end": end, "density": rows["density"].to_numpy()[at]})
    if quantity in ("weight", "weight_grad"):
        frame["name"] = frame["name"].map(parameter_labeller(run))
    return frame


def over_steps_columns(run: Run, quantity: str, max_rows: int = 5000) -> list[int]:
    """The snapshot steps a histograms-over-time chart has a column for: every recorded one
    (and, while the run trains, every one still to come, so that columns keep their
    place), thinned evenly (the first and last kept) to fit ``max_rows``."""
    recorded = run.histograms_by_step
    per_step = max((len(group) for (_, name), group in recorded.items() if name == quantity),
                   default=1)
    steps = np.array(sorted({step for step, name in recorded if name == quantity}
                            | set(run.config.snapshot_steps() if run.status == "running"
                                  else ())), dtype=np.int64)
    keep = max(2, max_rows // max(per_step, 1))
    if len(steps) > keep:
        steps = steps[np.unique(np.linspace(0, len(steps) - 1, keep).round().astype(int))]
    return [int(step) for step in steps]


def distribution_over_steps(run: Run, quantity: str, max_rows: int = 5000) -> pd.DataFrame:
    """Every layer's histogram of ``quantity`` at each snapshot, each scaled to its own peak.

    This is TensorBoard's histograms-over-time as a heatmap: scaling each (layer, step) to
    peak 1 keeps the shape visible when the spread changes by orders of magnitude. Snapshots
    are thinned evenly (the first and last kept) so the frame fits ``max_rows``.
    Columns: name, step, bin_start, bin_end, density, share.
    """
    rows = run.histograms[run.histograms["quantity"] == quantity]
    columns = ["name", "step", "bin_start", "bin_end", "density"]
    if rows.empty:
        return pd.DataFrame(columns=[*columns, "share"])
    steps = over_steps_columns(run, quantity, max_rows)
    rows = rows[rows["step"].isin(steps)]
    frame = rows[columns].astype({"name": str}).reset_index(drop=True)
    if quantity in ("weight", "weight_grad"):
        frame["name"] = frame["name"].map(parameter_labeller(run))
    peak = frame.groupby(["name", "step"])["density"].transform("max").to_numpy()
    density = frame["density"].to_numpy()
    frame["share"] = np.divide(density, peak, out=np.zeros_like(density), where=peak > 0)
    # float32 and a category: a third of the bytes shipped with every rerun, same picture.
    return frame.astype({"name": "category", "step": np.int32} | {
        c: np.float32 for c in ("bin_start", "bin_end", "density", "share")})


def dead_map_frame(mask: np.ndarray, max_rows: int = 5000) -> pd.DataFrame:
    """examples x units saturation mask as rows, keeping as many examples as fit."""
    examples, units = mask.shape
    keep = max(1, min(examples, max_rows // max(units, 1)))
    ex, un = np.meshgrid(np.arange(keep), np.arange(units), indexing="ij")
    return pd.DataFrame({"example": ex.ravel(), "unit": un.ravel(),
                         "saturated": mask[:keep].ravel()})


def saturation_name(act: str) -> str:
    """What the saturation share measures for this activation, as the page names it:
    'saturated' for tanh and sigmoid, 'inactive' for ReLU (zero local gradient), ..."""
    return ACTIVATIONS[act].saturation_label


def layer_table(run: Run, step: int) -> pd.DataFrame:
    """Per-layer statistics at one snapshot, with column names that say what they count:
    every number here is measured on the diagnostic sample, not the whole split."""
    rows = run.layers[run.layers["step"] == step]
    # An activation with no flat region (identity) has nothing saturated to count.
    flat = (["saturated_pct", "dead_units"]
            if ACTIVATIONS[run.config.act].saturated is not None else [])
    table = rows[["layer", "units", "act_mean", "act_std", *flat,
                  "grad_std"]].reset_index(drop=True)
    return table.rename(columns={
        "saturated_pct": f"{saturation_name(run.config.act)} %",
        "dead_units": f"units {saturation_name(run.config.act)} on all {run.sample_name}"})


def weight_table(run: Run, step: int) -> pd.DataFrame:
    rows = run.weights[run.weights["step"] == step]
    table = rows[["param", "shape", "weight_std", "grad_std", "grad_data"]].reset_index(drop=True)
    table["param"] = table["param"].map(parameter_labeller(run))
    return table


def update_data_points(lines: int, max_rows: int = 4000) -> int:
    """Points each update:data line is drawn with at most (group means beyond that)."""
    return max(10, max_rows // max(lines, 1))


def update_data_frame(run: Run, max_rows: int = 4000) -> pd.DataFrame:
    """update:data of every weight matrix (named as the page names it) over the steps,
    downsampled; steps where it was not measured are left out, so the frame is empty when
    no step of the run measured it. Single-weight matrices (width 1) are left out."""
    names = run.matrix_names
    if not names:
        return pd.DataFrame(columns=["step", "param", "update_data"])
    points = update_data_points(len(names), max_rows)
    steps = run.history["step"].to_numpy()
    label = parameter_labeller(run)
    frames = []
    single = run.single_weights  # a ratio of rounding noise: not drawn
    for name in (n for n in names if n not in single):
        values = run.history[name].to_numpy().astype(float)
        finite = np.isfinite(values)
        s, v = downsample(steps[finite], values[finite], points)
        frames.append(pd.DataFrame({"step": s, "param": label(name), "update_data": v}))
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=["step", "param", "update_data"]))


def loss_explodes(run: Run) -> bool:
    """Whether the training or validation loss reached so far past where training started,
    or (a diverged run) past the uniform guess, that a linear axis would squash the rest of
    the curve flat: then the loss is drawn on a log scale. A healthy run's hockey stick
    stays linear."""
    loss = run.history["loss"].to_numpy()
    finite = loss[np.isfinite(loss) & (loss > 0)]
    if not finite.size:
        return False
    start = run.expected_initial_loss
    if run.status != "diverged":
        start = max(float(finite[0]), start)
    # The validation curve too: BatchNorm's running statistics start at 0 and 1, so at
    # init_scale 3 ReLU's step-0 validation loss was 195 against a training loss of 3.3,
    # and squashed both curves flat.
    val = run.evals["val_loss"].to_numpy() if len(run.evals) else np.empty(0)
    val = val[np.isfinite(val) & (val > 0)]
    highest = max(float(finite.max()), float(val.max()) if val.size else 0.0)
    return bool(highest > 10 * start)


def compare_snapshots(run: Run, step: int, name: str, quantity: str) -> pd.DataFrame:
    """Histograms of step 0 and ``step`` (once when ``step`` is 0), each with ``share``:
    its density over its own peak, so both shapes show whatever their heights."""
    frames = []
    for label, s in dict.fromkeys([("step 0", 0), (f"step {step}", step)]):
        rows = _snapshot_rows(run, s, quantity)
        rows = rows[rows["name"] == name]
        density = rows["density"].to_numpy(float)
        peak = density.max() if density.size else 0.0
        frames.append(rows[["bin_start", "bin_end", "density"]].assign(
            series=label, share=density / peak if peak > 0 else density * 0))
    return pd.concat(frames, ignore_index=True)


def compare_curves(runs: dict[str, Run], points: int = 300) -> pd.DataFrame:
    """Smoothed train loss and validation loss of each run, under a shared row budget."""
    frames = []
    for label, run in runs.items():
        steps = run.history["step"].to_numpy()
        loss = run.history["loss"].to_numpy()
        finite = np.isfinite(loss)
        if finite.any():
            smooth = ema(loss[finite], max(10, int(finite.sum()) // 50))
            s, v = downsample(steps[finite], smooth, points)
            frames.append(pd.DataFrame({"step": s, "loss": v, "run": label, "split": "train"}))
        if len(run.evals):
            frames.append(pd.DataFrame({"step": run.evals["step"], "loss": run.evals["val_loss"],
                                        "run": label, "split": "validation"}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["step", "loss", "run", "split"])


def _spell(value) -> str:
    if isinstance(value, float | np.floating):
        return "—" if not np.isfinite(value) else f"{value:,.4g}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return str(value) or "none"


def compare_table(summaries: dict[str, dict], hidden: tuple[str, ...] = (
        "query", "expected_initial_loss")) -> pd.DataFrame:
    """The Compare view's numbers (``summary.summarize`` of each run): one row per quantity
    under its readable name, one column per run, every value spelled out. Runs as columns
    keep the table narrow (a dozen quantities across were cut off) and a column that mixes
    numbers and words still shows whole."""
    names = [k for k in next(iter(summaries.values()), {}) if k not in hidden]

    def spell(summary: dict, key: str) -> str:
        value = summary.get(key)
        if key == "findings" and not value:  # no warning or error: the Runs tab's word
            return "healthy"
        return "—" if key == "diverged_step" and value < 0 else _spell(value)

    return pd.DataFrame({label: [spell(summary, k) for k in names]
                         for label, summary in summaries.items()},
                        index=[_compare_label(k, summaries) for k in names])


def _compare_label(key: str, summaries: dict[str, dict]) -> str:
    """A quantity's row name; the saturation rows in the runs' activations' own words
    (a ReLU's 'inactive %'), both words where the runs' activations differ."""
    label = COLUMN_LABELS.get(key, key)
    if key not in ("saturation_init_pct", "saturation_final_pct"):
        return label
    acts = (ACTIVATIONS[Config.from_query(str(summary.get("query", "")))[0].act]
            for summary in summaries.values())
    words = dict.fromkeys(act.short_label or act.saturation_label for act in acts)
    return label.replace("saturated", " / ".join(words), 1) if words else label


def differing_settings(configs: dict[str, object]) -> pd.DataFrame:
    """Settings whose values differ between the given Configs (one row per Config), spelt
    as the link spells them: a table of floats showed a search trial's lr 0.01366 as
    0.0137."""
    table = pd.DataFrame({label: c.to_dict() for label, c in configs.items()}).T
    varying = [c for c in table.columns if table[c].astype(str).nunique() > 1]
    return table[varying].map(spell_value)


def neuron_inputs(block: int, n_inputs: int, context: np.ndarray | None = None,
                  vocab: str | None = None, embed_dim: int = 1,
                  features: list[str] | None = None, below: int | None = None) -> list[str]:
    """What each input of a hidden unit is, in words.

    The first hidden layer of a character model sees the embedding of each context
    character (``context`` holds the example's character indices, oldest first; a fusing
    layer sees only the last few); of a 2-D model, the point's features (``features``'
    labels; plain x1, x2 without them); deeper layers see the ``below`` units of the
    previous layer, at several positions when they fuse them.
    """
    if block > 0:
        width = below or n_inputs
        if n_inputs == width:
            return [f"hidden {block} unit {i}" for i in range(n_inputs)]
        groups = n_inputs // width
        return [f"hidden {block} unit {i % width}, position {i // width + 1} of {groups}"
                for i in range(n_inputs)]
    if context is None or vocab is None:
        return list(features) if features else [f"x{i + 1}" for i in range(n_inputs)]
    seen = n_inputs // embed_dim
    first = len(context) - seen
    chars = [repr(vocab[int(c)]) for c in context[first:]]
    return [f"char {first + i // embed_dim + 1} {chars[i // embed_dim]}, embedding dim "
            f"{i % embed_dim}" for i in range(n_inputs)]


def unit_maps_frame(xs: np.ndarray, ys: np.ndarray, values: np.ndarray, units: int
                    ) -> pd.DataFrame:
    """Tidy cells (unit, column, row, value) of the first ``units`` units' maps over the
    plane; row 0 is the grid's lowest y."""
    keep = min(units, values.shape[2])
    row, column, unit = np.meshgrid(np.arange(len(ys)), np.arange(len(xs)), np.arange(keep),
                                    indexing="ij")
    return pd.DataFrame({"unit": unit.ravel(), "column": column.ravel(), "row": row.ravel(),
                         "value": values[:, :, :keep].ravel()})


def network_frame(weights: list[np.ndarray], max_units: int = 16,
                  input_labels: list[str] | None = None) -> pd.DataFrame:
    """Units and weights of the network drawn as TensorFlow Playground draws it, as one
    frame (so another snapshot only swaps the data): ``part`` is "unit" or "weight".

    ``weights``: the Linear layers' matrices in order (fan_in x fan_out). Column k of the
    drawing is the input of layer k (the last column is the output); only the first
    ``max_units`` units of each column are drawn, each column centred vertically, and only
    the weights between drawn units; ``size`` is |weight| relative to the largest drawn.
    Input units carry ``input_labels`` (the 2-D features) in ``label``.
    """
    sizes = [weights[0].shape[0]] + [w.shape[1] for w in weights]
    shown = [min(size, max_units) for size in sizes]
    rows = [np.arange(n) - (n - 1) / 2 for n in shown]
    units = pd.DataFrame({
        "part": "unit",
        "column": np.repeat(np.arange(len(sizes)), shown),
        "row": np.concatenate(rows),
        "unit": np.concatenate([np.arange(n) for n in shown]),
        "layer": np.repeat(["input"] + [f"hidden {k}" for k in range(1, len(weights))]
                           + ["output"], shown),
    })
    labels = list(input_labels or [])[:shown[0]]
    units["label"] = labels + [""] * (len(units) - len(labels))
    lines = []
    for k, matrix in enumerate(weights):
        source, target = np.meshgrid(np.arange(shown[k]), np.arange(shown[k + 1]),
                                     indexing="ij")
        lines.append(pd.DataFrame({
            "part": "weight", "column": k, "row": rows[k][source.ravel()], "column2": k + 1,
            "row2": rows[k + 1][target.ravel()],
            "weight": matrix[:shown[k], :shown[k + 1]].astype(np.float64).ravel()}))
    edges = pd.concat(lines, ignore_index=True)
    biggest = float(edges["weight"].abs().max())
    edges["size"] = edges["weight"].abs() / biggest if biggest > 0 else 0.0
    return pd.concat([edges, units], ignore_index=True)


def decision_frame(xs: np.ndarray, ys: np.ndarray, probs: np.ndarray,
                   points: pd.DataFrame) -> pd.DataFrame:
    """The grid of P(class 1) (cells centred on xs x ys, probs indexed [y, x]) and the data
    points (x, y, label, split) as one frame with a ``part`` column."""
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    gx, gy = np.meshgrid(xs, ys)
    grid = pd.DataFrame({"part": "grid", "x": gx.ravel() - dx / 2, "x2": gx.ravel() + dx / 2,
                         "y": gy.ravel() - dy / 2, "y2": gy.ravel() + dy / 2,
                         "p": probs.ravel()})
    plane = pd.concat([grid, points.assign(part="point")], ignore_index=True)
    # float32 and categories: half the bytes shipped to the browser, same picture.
    floats = ["x", "x2", "y", "y2", "p"]
    return plane.astype({c: np.float32 for c in floats} | {
        c: "category" for c in ("part", "label", "split")})


def short_labels(configs: dict[str, object]) -> dict[str, str]:
    """Labels that name only what differs between the Configs ('lr=0.1 act=relu'), so that
    runs of one search are told apart at a glance (their full links share a long prefix).
    Values are spelt as the link spells them: 'init_scale=3.0' beside a chip reading
    'init_scale=3' looked like another run."""
    varying = list(differing_settings(configs).columns)
    short = {label: " ".join(f"{name}={spell_value(getattr(config, name))}"
                             for name in varying) or label
             for label, config in configs.items()}
    return short if len(set(short.values())) == len(short) else {k: k for k in configs}

"""Each weight matrix's spread beside the one its init prescribed: did the init hold?

The engine draws hidden weights as ``init_scale`` x the scheme's matrix (Kaiming: the
activation's gain / sqrt(fan_in)), the output's with gain 1 and ``out_scale`` too, and a
character task's embedding table as unit normal (a lookup, not a layer whose scale
compounds). ``prescribed_std`` repeats that rule from the Config alone, so a learner can
read measured against prescribed at init and watch training pull them apart.
"""

from __future__ import annotations

import pandas as pd

from ..parts.activations import ACTIVATIONS
from ..parts.initializers import expected_std
from ..run import Run
from .labels import parameter_labeller


def _fans(shape: str) -> tuple[int, int]:
    fan_in, fan_out = (int(n) for n in shape.split("x"))
    return fan_in, fan_out


def prescribed_std(run: Run, param: str, shape: str) -> float:
    """The standard deviation the init drew weight matrix ``param`` (of ``shape``,
    'fan_in x fan_out') with."""
    config, names = run.config, run.matrix_names
    if config.is_char_task and param == names[0]:
        return 1.0
    fan_in, fan_out = _fans(shape)
    if param == names[-1]:
        return config.init_scale * config.out_scale * expected_std(config.init, fan_in,
                                                                   fan_out, 1.0)
    gain = ACTIVATIONS[config.act].gain
    return config.init_scale * expected_std(config.init, fan_in, fan_out, gain)


def init_table(run: Run, step: int) -> pd.DataFrame:
    """Per weight matrix: its shape, the prescribed std, the std measured at init and at
    ``step``, and their ratio to the prescription (1 where init held)."""
    at = lambda s: run.weights[run.weights["step"] == s].set_index("param")  # noqa: E731
    start, now = at(0), at(step)
    rows, single = [], run.single_weights
    for param in run.matrix_names:
        if param not in start.index or param not in now.index:
            continue
        shape = str(start.loc[param, "shape"])
        prescribed = prescribed_std(run, param, shape)
        init_std, std = float(start.loc[param, "weight_std"]), float(now.loc[param, "weight_std"])
        rows.append({"param": param, "shape": shape, "prescribed_std": prescribed,
                     "init_std": init_std, "weight_std": std,
                     # One weight has no spread: its std is 0 by definition, not a
                     # sign that init failed (width 1 read "÷ prescribed 0").
                     "vs_prescribed": std / prescribed
                     if prescribed > 0 and param not in single else float("nan")})
    frame = pd.DataFrame(rows, columns=["param", "shape", "prescribed_std", "init_std",
                                        "weight_std", "vs_prescribed"])
    frame["param"] = frame["param"].map(parameter_labeller(run))
    return frame


def prescription_sentence(run: Run) -> str:
    """How the init chose the hidden weights' std, in the words of its scheme."""
    config = run.config
    activation = ACTIVATIONS[config.act]
    scale = f" x init scale {config.init_scale:g}" if config.init_scale != 1 else ""
    rule = {
        "kaiming": f"Kaiming: {activation.name}'s gain {activation.gain:.4g} / √fan_in{scale}",
        "xavier": f"Xavier: √(2 / (fan_in + fan_out)){scale}",
        "normal": f"unit normal{scale}",
        "uniform": f"uniform on ±1 (std 1/√3){scale}",
        "zero": "zero (every unit the same: nothing breaks the symmetry)",
    }.get(config.init, config.init)
    # Only Kaiming has a gain of its own: the output layer (no activation after it) takes 1.
    rule_of_output = "gain 1 / √fan_in" if config.init == "kaiming" else "the same rule"
    out = (f"; the output's with {rule_of_output}{scale}, times out scale "
           f"{config.out_scale:g}" if config.init != "zero" else "")
    embed = "; the embedding table is unit normal" if config.is_char_task else ""
    if not config.depth:  # no hidden weights: the output's rule is the whole story
        if config.init == "zero":
            return ("No hidden layers: the output weights start at zero, which a model without "
                    f"hidden units learns from like any other start{embed}.")
        own = f"Kaiming with gain 1 / √fan_in{scale}" if config.init == "kaiming" else rule
        return (f"No hidden layers: the output weights are drawn with std = {own}, times out "
                f"scale {config.out_scale:g}{embed}.")
    return f"Hidden weights are drawn with std = {rule}{out}{embed}."


def weight_std_frame(run: Run) -> pd.DataFrame:
    """Every weight matrix's std at every snapshot, named as the page names it."""
    frame = run.weights[["step", "param", "weight_std"]].copy()
    frame["param"] = frame["param"].astype(str).map(parameter_labeller(run))
    return frame

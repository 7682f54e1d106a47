"""``theory``: what mean-field theory predicts for a Config at init, without training it.

A quick answer to "will this init propagate signal through this depth?" before spending
minutes on a run: per-layer q, χ₁ and the phase, and the init scale at the edge of chaos.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..theory import Prediction, predict
from .flags import add_setting_flags, config_from_args


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "theory", help="mean-field prediction of per-layer signal at init",
        description="Predict the pre-activation variance of every hidden layer, chi1, the "
                    "phase and the critical init scale of a Config (wide-network limit).")
    add_setting_flags(parser)
    parser.add_argument("--query", default="", help="a dashboard URL or its query string; "
                        "flags override it")
    parser.add_argument("--q0", type=float, default=1.0,
                        help="mean square of the first layer's inputs (1 for N(0,1) "
                             "embeddings)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "none"
    return f"{value:.{digits}g}"


def format_table(prediction: Prediction) -> str:
    """The short human-readable form: the summary lines, then q per hidden layer."""
    p = prediction
    lines = [f"activation {p.act}: sigma_w {_number(p.sigma_w)}, sigma_b {_number(p.sigma_b)}",
             f"q* {_number(p.q_star)}, chi1 {_number(p.chi1)} ({p.phase}), "
             f"xi_q {_number(p.xi_q, 3)}, c* {_number(p.c_star, 3)}, "
             f"xi_c {_number(p.xi_c, 3)}",
             f"critical init_scale {_number(p.critical_init_scale)}"]
    if p.note:
        lines.append(f"note: {p.note}")
    lines.append("layer  predicted q")
    lines += [f"{i:>5}  {q:.4g}" for i, q in enumerate(p.q, start=1)]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    try:
        config, warnings = config_from_args(args)
    except ValueError as err:  # ConfigError included
        print(f"error: {err}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.q0 > 0:
        print(f"error: --q0 must be positive, not {args.q0}", file=sys.stderr)
        return 2
    prediction = predict(config, q0=args.q0)
    print(json.dumps(prediction.to_dict()) if args.json else format_table(prediction))
    return 0

"""The learning rate judged by what it does, per optimizer: its typical update:data (the
share of each weight a step rewrites) beside what the loss did. Too high: large updates and
a loss that rose, or that dropped steeply once the schedule cut the rate while a layer
saturated (what a lower rate reaches). Too low: small updates and a loss that plateaued or
crawled short of convergence (a higher rate reaches lower)."""

from __future__ import annotations

from ..engine.lr_finder import LRFinderResult
from ..parts.activations import ACTIVATIONS
from ..run import Run
from .advice import large_normalized_init, lr_advice
from .findings import Advice, Finding, with_advice
from .loss import RISE, SPIKE_LESSONS, blame, converged, loss_rise, still_falling

MIN_STEPS_FOR_LR = 20
"""Fewer steps say too little about the learning rate to judge it."""
UPDATE_BANDS: dict[str, tuple[float, float]] = {
    "sgd": (-3.3, -2.0), "momentum": (-3.3, -2.0), "adam": (-3.0, -2.25),
    "adamw": (-3.0, -2.25),
}
"""Typical update:data outside which the rate is judged, per optimizer. Calibrated on the
labelled corpus, where a neighbouring rate (3x) was trained at two seeds: SGD at lr 0.02
(-3.4) and 0.01 (-3.8) end 0.09-0.13 nats above 3x their rate, LayerNorm at init_scale 3
(-3.3) 0.07-0.08; healthy runs sit at -3.1 to -1.9 (converged 2-D runs lower); Adam's best
rate on the default net gives -2.4, and lr 0.01 (-2.2) ends 0.06 nats above lr/3; AdamW at
lr 0.0003 (-3.3) ends 0.10-0.13 above 3x; momentum on ELU at lr 0.003 (-3.5) 0.07 above."""
LEVELLED_MARGIN = 0.15
"""Below the band's low end by this much the rate is too low even if the loss levelled
off (a higher rate reaches lower); nearer the band, only while the loss is still falling."""
UPDATE_TARGET: dict[str, float] = {"sgd": -2.5, "momentum": -2.8, "adam": -2.6, "adamw": -2.6}
"""update:data of the corpus's healthy runs per optimizer: too-low advice scales lr toward it
(an update is about proportional to lr for each optimizer)."""
NOTE_WIDTH = 0.3
"""update:data within this of a band's low end, with a loss still falling: a note."""
MAX_FACTOR = 30.0
"""The most a single piece of advice scales lr by."""
FINDER_FACTOR = 3.0
"""A rate this far outside the finder's suggestions is judged by them (benchmarks/
lr_finder_check.py: the best rate was 0.45-1.4x the suggestion for SGD, 0.09-0.31x the
minimum, that is 0.45-1.55x the suggestion, for Adam)."""
EXPLAINED = frozenset({"Collapsing activations", "Vanishing gradients", "Exploding gradients",
                       "All-zero init: symmetry"})
"""Tiny updates in a net whose signal or gradient vanishes are that effect, not the lr; in
one whose gradients explode at init (a chaotic init) the init is to blame first."""


def lr_factor(opt: str, level: float) -> float:
    """What to multiply lr by to bring update:data to the optimizer's healthy level (an
    update is about proportional to lr), at most ``MAX_FACTOR`` either way."""
    return min(MAX_FACTOR, max(1 / MAX_FACTOR, 10 ** (UPDATE_TARGET[opt] - level)))


def divergence(run: Run, finder: LRFinderResult | None = None) -> Finding:
    """The blow-up, blamed on the init when theory calls it chaotic, else on the lr (the LR
    finder's suggestion when it was run for these settings)."""
    finding = Finding("error", "Divergence", f"{run.message} The charts show what was recorded "
                      "before.", metric="val_loss")
    return with_advice(finding, blame(run, finder=finder))


def learning_rate(run: Run, level: float | None, found: list[Finding], troubled: bool,
                  finder: LRFinderResult | None = None) -> Finding | None:
    """Too low, too high, or a note, from the typical update:data and the loss; from the
    LR finder's curve first when one was run for these settings."""
    config = run.config
    if level is None or run.status == "diverged":
        return None
    by_finder = _against_finder(run, finder, found)
    if by_finder is not None:
        return by_finder
    low, high = UPDATE_BANDS[config.opt]
    named = {f.lesson for f in found}
    measured = (f"update:data (Gradients tab) is about {level:.1f} in early and mid training "
                f"({config.opt}: judged between {low:g} and {high:g})")
    factor = lr_factor(config.opt, level)
    saturated_at_init = any(f.metric == "saturated_init" for f in found)
    # Dead units do not move, and a spike says the steps were too large, not too small.
    overshot = any(f.metric in ("dead_units", "early_rise", "later_rise") for f in found)
    slow = not converged(run) and not EXPLAINED & named and not saturated_at_init \
        and not overshot
    if slow and (level < low - LEVELLED_MARGIN or level < low and still_falling(run)):
        ending = ("ends no better than a baseline" if troubled else "is still falling at the "
                  "end" if still_falling(run) else "levelled off short of what larger steps "
                  "reach")
        return with_advice(Finding("warning", "Learning rate too low",
                                   measured + ": each step changes the weights by a tiny "
                                   f"fraction, and the loss {ending}.", metric="val_loss"),
                           large_normalized_init(config) or lr_advice(config, factor, ""))
    if low <= level < low + NOTE_WIDTH and slow and still_falling(run):
        return Finding("info", "Small updates",
                       measured + ", near the low end, and the loss is still falling at the "
                       "end: training is slow but sound; a somewhat higher lr may reach the "
                       "same loss in fewer steps.")
    if level > high:
        rise = loss_rise(run)
        rising = any(lesson.endswith("rising in training") for lesson in named)
        # Units that died of the large steps (their finding already blames the lr).
        killed = any(f.metric == "dead_units" and "lr" in f.change for f in found)
        if rise > RISE or "Worse than a uniform guess" in named or rising or killed:
            cost = (f"the loss ended {rise:.2f} above its lowest" if rise > RISE else
                    f"the share of outputs {ACTIVATIONS[config.act].flat_words} rose in "
                    "training (above)" if rising else "units died in training (above)"
                    if killed else "the loss ended worse than a uniform guess")
            return with_advice(Finding("warning", "Learning rate too high",
                                       measured + ": each step rewrites a large share of the "
                                       f"weights, and {cost}.", metric="val_loss"),
                               lr_advice(config, factor, ""))
        # Not steady (that finding has the advice), or a loss that did not keep falling
        # (a zero init's flat loss, where all-equal weights make the ratio meaningless).
        if set(SPIKE_LESSONS) & named or config.init == "zero" or not still_falling(run):
            return None
        return Finding("info", "Large but steady updates",
                       measured + ", above the band, yet the loss kept falling to the end: "
                       "this rate works here" + (" (Adam's steps are about lr in size "
                                                 "whatever the gradient)"
                                                 if config.opt in ("adam", "adamw") else "")
                       + ". Lower lr if the loss turns noisy.")
    return None


def _against_finder(run: Run, finder: LRFinderResult | None,
                    found: list[Finding]) -> Finding | None:
    """Too low or too high when the rate is outside ``FINDER_FACTOR`` times the range the
    finder's seeds suggested (the rate that trained best was within 2-3x of it)."""
    if finder is None or converged(run) or EXPLAINED & {f.lesson for f in found}:
        return None
    config, (low, high) = run.config, finder.spread
    curve = (f"the LR finder (LR finder tab) suggests {finder.suggestion:.2g} (its seeds "
             f"{low:.2g} to {high:.2g}); this run's lr is {config.lr:g}")
    target = float(f"{finder.suggestion:.1g}")
    if config.lr < low / FINDER_FACTOR:
        return with_advice(Finding("warning", "Learning rate too low", "By its "
                                   f"loss-against-rate curve {curve}, too small a step to "
                                   "get far.", metric="val_loss"),
                           Advice(f"Raise lr to {target:g}.", {"lr": target}))
    if config.lr > high * FINDER_FACTOR:
        return with_advice(Finding("warning", "Learning rate too high", "By its "
                                   f"loss-against-rate curve {curve}, past where the loss "
                                   "stops falling.", metric="val_loss"),
                           Advice(f"Lower lr to {target:g}.", {"lr": target}))
    return None

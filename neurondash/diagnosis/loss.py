"""What the loss curves say: where the final losses stand against the baselines, whether the
loss rose, was still falling, or dropped when the schedule cut the learning rate."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..engine.lr_finder import LRFinderResult
from ..run import Run
from .advice import adam_far_too_high, chaotic_init, init_scale_advice, lr_advice
from .findings import Advice, Finding, with_advice

OVERFIT_GAP = 0.1
"""Nats between validation and training loss (with validation 20% above training) from
which the model fits its training examples better than it generalises; makemore's MLP
has ~0.06 (2.04 / 2.10)."""
OVERFIT_ACCURACY_GAP = 0.1
RISE = 0.05
"""Nats by which the final validation loss exceeds its best checkpoint: rising, not noise."""
BASELINE_MARGIN = 0.05
"""Nats within which a final validation loss counts as stuck at a baseline."""
MIN_STEPS_FOR_BASELINE = 1000
"""A shorter run that has not passed a baseline yet is early, not stuck."""
STILL_FALLING = 0.1
"""Share of the loss's whole fall that its last quarter of steps must bring for the loss
to count as still falling (a run at too low an lr); a converged run brings ~0."""
SPIKE_SHARE = 0.1
"""The early part of a run in which a rise of the training loss counts as a spike."""
SPIKE_NATS = 0.5
SPIKE_NOISE = 5.0
"""A spike rises above the loss's first value by at least ``SPIKE_NATS`` and this many times
the loss's step-to-step noise late in training: the largest such excursion of batch noise
alone over the labelled runs was 3.2x (batch 4, 1.96 nats), the lr-induced ones 4.6-100x
(SGD at lr 1: 2.3 nats at step 46, then a final validation loss 0.13 above lr 0.3's)."""
MIN_SPIKE_STEPS = 20
"""Fewer early steps than this say nothing about a spike."""
SPIKE_LESSONS = ("Early loss spike", "Loss spike in training")
"""The two spike findings' names: one in the first steps, one later."""
JUMP_MEDIAN = 9
"""Steps of the running median a jump later in the run is read from: one unlucky batch is
not a jump (batch 4's single batches leap several nats above their neighbours)."""
JUMP_WINDOW = 0.01
"""The share of the run before a jump (at least ``MIN_SPIKE_STEPS``) whose lowest median
the jump is measured from: a jump is sudden, a slow drift up is the loss rising."""
JUMP_NOISE = 8.0
"""How many times the late step-to-step noise a later jump must rise (and at least
``SPIKE_NATS``). Higher than an early spike's ``SPIKE_NOISE``: the largest of thousands of
medians stands further out by chance than the largest of the first tenth. Over the labelled
runs the healthy ones' largest later jumps reached 3.6x (batch 4: 3.3x, 1.95 nats); SGD at
lr 1, noisy but not thrown off, 5.1x; the runs thrown off 10x and more (ReLU at init scale
10: 23 nats at step 239 of 1,500; the small spiral near zero loss: 0.02 to 0.57, 46x)."""
CONVERGED_SHARE = 0.1
"""A training loss below this share of the uniform guess's has converged (a 2-D task near
0): its small late updates say nothing about the rate."""


def _smoothed(run: Run) -> np.ndarray:
    """The training loss averaged over windows of 5% of the run (windows holding a value
    that is not finite are left out). Running sums, not ``np.convolve``: a 200k-step run's
    windows of 10k steps made that 2e9 multiplications, seconds on every diagnosis."""
    losses = run.history["loss"].to_numpy(np.float64)
    window = max(1, len(losses) // 20)
    if len(losses) < 2 * window:
        return np.array([])
    finite = np.isfinite(losses)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, losses, 0.0))])
    bad = np.concatenate([[0], np.cumsum(~finite)])
    clean = (bad[window:] - bad[:-window]) == 0
    return ((sums[window:] - sums[:-window]) / window)[clean]


def loss_rise(run: Run, validation: bool = True) -> float:
    """How far the loss ended above its lowest: the validation checkpoints (unless
    ``validation`` is False), and the smoothed training loss."""
    rises = [0.0]
    if validation and len(run.evals):
        rises.append(float(run.evals["val_loss"].iloc[-1] - run.evals["val_loss"].min()))
    smooth = _smoothed(run)
    if smooth.size:
        rises.append(float(smooth[-1] - smooth.min()))
    return max(rises)


def still_falling(run: Run) -> bool:
    """Whether the training loss was still falling at the end: its last quarter of steps
    brought at least ``STILL_FALLING`` of its whole fall, or it never fell at all."""
    smooth = _smoothed(run)
    if smooth.size < 4:
        return True
    total = smooth[0] - smooth[-1]
    late = smooth[(3 * smooth.size) // 4] - smooth[-1]
    return bool(total <= 0 or late >= STILL_FALLING * total)


class Spike(NamedTuple):
    step: int
    peak: float
    start: float
    noise: float
    back: int | None = None
    """A later jump's: the step its median came back below halfway to where it jumped
    from (``back_level``); None when it never did."""
    from_initial: bool = False
    """An early spike's ``start`` is the initial loss on the sampled examples, which lay
    above the first step's batch loss."""
    window: int = 0
    """An early spike's: how many first steps it was looked for in (``SPIKE_SHARE``)."""

    @property
    def back_level(self) -> float:
        return self.start + max(SPIKE_NATS, JUMP_NOISE * self.noise) / 2


def _early(losses: np.ndarray) -> np.ndarray:
    return losses[:max(MIN_SPIKE_STEPS, int(len(losses) * SPIKE_SHARE))]


def _start(run: Run, early: np.ndarray) -> float:
    """Where an early rise is measured from: the higher of the first batch's loss and the
    initial loss on the sampled examples. With confidently wrong logits at init batch
    losses scatter by nats, and a lucky first batch (19.4 against an initial 24.7) made a
    loss that only fell look like it rose."""
    initial = run.initial_loss if len(run.logits) else math.nan
    return max(float(early[0]), initial) if math.isfinite(initial) else float(early[0])


def early_spike(run: Run) -> Spike | None:
    """The training loss's highest point in the first ``SPIKE_SHARE`` of the steps when it
    rose that far above where it started (a first step that overshoots); None otherwise."""
    losses = run.history["loss"].to_numpy(np.float64)
    early, late = _early(losses), losses[3 * len(losses) // 4:]
    if len(losses) < 2 * MIN_SPIKE_STEPS or not np.isfinite(early).all() \
            or not np.isfinite(late).all():
        return None
    noise = float(np.std(np.diff(late)) / np.sqrt(2))
    peak = int(np.argmax(early))
    start = _start(run, early)
    if early[peak] - start < max(SPIKE_NATS, SPIKE_NOISE * noise):
        return None
    return Spike(int(run.history["step"].iloc[peak]), float(early[peak]), start, noise,
                 from_initial=start > early[0], window=len(early))


def later_jump(run: Run) -> Spike | None:
    """The largest sudden rise of the training loss after the first ``SPIKE_SHARE`` of the
    steps: its running median (``JUMP_MEDIAN`` steps) above the lowest median of the
    ``JUMP_WINDOW`` before, by ``JUMP_NOISE`` times the late noise; None when none did
    (or the loss was not finite throughout: that is divergence's). The late noise is read
    off the last quarter, so a jump inside it raises its own bar."""
    found = _jumps(run)
    if found is None:
        return None
    jumps, base, noise, first, medians = found
    peak = int(np.argmax(jumps))
    if jumps[peak] < max(SPIKE_NATS, JUMP_NOISE * noise):
        return None
    steps = run.history["step"].to_numpy()
    at = first + peak
    spike = Spike(int(steps[at + JUMP_MEDIAN // 2]), float(medians[at]), float(base[peak]),
                  noise)
    below = np.flatnonzero(medians[at:] <= spike.back_level)
    return spike._replace(back=int(steps[at + below[0] + JUMP_MEDIAN // 2])
                          if len(below) else None)


def later_rise(run: Run) -> float:
    """The largest sudden rise of the training loss after its early steps (nats; 0 when
    it never rose, nan when too short to tell)."""
    found = _jumps(run)
    if found is None:
        return math.nan
    jumps = found[0]
    return float(max(0.0, jumps.max())) if len(jumps) else 0.0


def _jumps(run: Run) -> tuple[np.ndarray, np.ndarray, float, int, np.ndarray] | None:
    """(each median's rise above the lowest median of the window before it, that lowest
    median, the late step-to-step noise, the index of the first median compared, every
    running median); medians[i] is that of steps i..i + ``JUMP_MEDIAN`` - 1."""
    losses = run.history["loss"].to_numpy(np.float64)
    if len(losses) < 2 * MIN_SPIKE_STEPS + JUMP_MEDIAN or not np.isfinite(losses).all():
        return None
    late = losses[3 * len(losses) // 4:]
    noise = float(np.std(np.diff(late)) / np.sqrt(2))
    medians = np.median(np.lib.stride_tricks.sliding_window_view(losses, JUMP_MEDIAN), axis=1)
    window = max(MIN_SPIKE_STEPS, int(len(losses) * JUMP_WINDOW))
    lowest = pd.Series(medians).rolling(window).min().to_numpy()
    first = max(len(_early(losses)), window)
    base = lowest[first - 1:-1]
    return medians[first:] - base, base, noise, first, medians


def early_rise(run: Run) -> float:
    """How far the training loss rose above where it started (``_start``) early on (0 when
    it did not)."""
    early = _early(run.history["loss"].to_numpy(np.float64))
    if not len(early):
        return math.nan
    return (float(max(0.0, np.max(early) - _start(run, early))) if np.isfinite(early).all()
            else math.inf)


def spike_findings(run: Run, finder: LRFinderResult | None = None) -> list[Finding]:
    """A loss that jumped up in the first steps (steps too large for the loss surface at
    init), and one that jumped up suddenly later on; a diverged run has its own finding.
    In a run that recovered a spike is a note (``settled``)."""
    if run.status == "diverged":
        return []
    found = []
    spike = early_spike(run)
    if spike is not None:
        found.append(Finding(
            "warning", SPIKE_LESSONS[0],
            f"At step {spike.step:,} the training loss reached {spike.peak:.2f}, "
            f"{spike.peak - spike.start:.2f} above "
            + (f"its initial loss of {spike.start:.2f} on the {run.sample_name} at step 0"
               if spike.from_initial else
               f"its first step's batch loss of {spike.start:.2f}")
            + f" (late in training it moves about {spike.noise:.2g} from step "
            f"to step): early in training (its first {spike.window:,} steps) steps this "
            "large overshoot, and the run spends steps climbing back down (Loss tab).",
            metric="early_rise"))
    jump = later_jump(run)
    if jump is not None:
        back = (f"it took until step {jump.back:,} to come back halfway, below "
                f"{jump.back_level:.2f}" if jump.back is not None else
                f"it had not come back halfway, below {jump.back_level:.2f}, by the end")
        found.append(Finding(
            "warning", SPIKE_LESSONS[1],
            f"At step {jump.step:,} the training loss jumped to {jump.peak:.2f} (the median "
            f"of {JUMP_MEDIAN} steps), {jump.peak - jump.start:.2f} above the "
            f"{jump.start:.2f} it had come down to (late in training it moves about "
            f"{jump.noise:.2g} from step to step), and {back}: a step landed where the loss "
            "surface is steep and threw the weights off what they had learnt (Loss tab).",
            metric="later_rise"))
    return [with_advice(finding, blame(run, 1 / 3, finder)) for finding in found]


def recovered(run: Run) -> bool:
    """Whether the run ended converged on the validation examples too (a 2-D task near 0):
    what happened on the way there cost no result."""
    return converged(run) and run.final["val_loss"] < CONVERGED_SHARE * \
        run.expected_initial_loss


def settled(run: Run, found: list[Finding]) -> list[Finding]:
    """In a run that recovered, each warning as a note without advice: what it names cost
    steps, not the result, and its fix trades the result for a smoother way there (the
    default spiral's early spike: a third of its lr ends at 0.014 against 0.003; the moons'
    tanh net at init_scale 2.1, 57% saturated at init: init_scale 1 ends at 0.0033 against
    0.0016, and at 0.025 against 0.021 with lr 0.3)."""
    if not recovered(run):
        return found
    words = (" Yet the run ended below a tenth of the uniform guess's loss on both splits "
             f"(validation {run.final['val_loss']:.2g} against "
             f"{run.expected_initial_loss:.3g}): this cost at most steps, not the result, "
             "so no change is advised.")
    return [replace(f, level="info", text=f.text[:len(f.text) - len(f.advice)].rstrip()
                    + words, change={}, advice="") if f.level == "warning" else f
            for f in found]


def converged(run: Run) -> bool:
    return bool(run.final) and run.final["train_loss"] < CONVERGED_SHARE * \
        run.expected_initial_loss


def cut_drop(run: Run) -> float:
    """How far the training loss fell after the schedule first cut the rate tenfold (mean
    of the 5% of steps before the cut against the last 5%): what the next lower rate,
    a neighbour of this one, reached beyond it. 0 without a cut."""
    cuts = run.lr_cuts()
    if not cuts:
        return 0.0
    steps, losses = run.history["step"].to_numpy(), run.history["loss"].to_numpy()
    cut = int(np.searchsorted(steps, cuts[0][0]))
    window = max(10, len(losses) // 20)
    before, after = losses[max(0, cut - window):cut], losses[-window:]
    if not np.isfinite(before).all() or not np.isfinite(after).all():
        return 0.0
    return float(before.mean() - after.mean())


def blame(run: Run, factor: float = 0.1, finder: LRFinderResult | None = None) -> Advice:
    """What to turn when the loss blew up: the init when theory calls it deep in the chaotic
    phase (a lower lr only delays the blow-up), else the learning rate. A rate too high
    for any init blows up again at the advised scale (relu at lr 3): the init's advice says
    which rate to try next, the one this finding gives a run diverged at a tame init."""
    rate = lr_advice(run.config, factor, "")
    target = float(f"{finder.suggestion:.1g}") if finder is not None else None
    if target is not None and target < run.config.lr:
        # lr 8 was told 0.8 on the Overview and 0.43 in the LR finder tab, with nothing
        # to say which to trust: with a finder result for these settings, its rate.
        rate = Advice(f"Lower lr to {target:g}, the LR finder's suggestion for these "
                      "settings (LR finder tab).", {"lr": target})
    if chaotic_init(run) and not adam_far_too_high(run.config):
        init = init_scale_advice(run, "down")
        return Advice(f"{init.text} If it still blows up there, lower lr to "
                      f"{rate.change['lr']:g} as well.", init.change)
    return rate


def generalisation(run: Run, finder: LRFinderResult | None = None) -> list[Finding]:
    """Where the final losses stand: worse than a uniform guess, stuck at a baseline, or
    fitting the training examples far better than the validation ones. While training (no
    final losses yet) only the validation curve turning up can be told."""
    if not run.final:
        turned = _validation_turned(run)
        return [turned] if turned is not None else []
    train_loss, val_loss = run.final["train_loss"], run.final["val_loss"]
    uniform = run.expected_initial_loss
    if val_loss > uniform + BASELINE_MARGIN and train_loss > uniform - BASELINE_MARGIN:
        return [with_advice(Finding(
            "error", "Worse than a uniform guess",
            f"The final validation loss is {val_loss:.2f}, above the {uniform:.2f} of a "
            "uniform guess: training made the model worse than knowing nothing (look for "
            "the loss rising in the Loss tab).", metric="val_loss"), blame(run, finder=finder))]
    found = []
    unigram = run.baselines.get("unigram")
    # Closer to the uniform guess than to the unigram baseline (char tasks), or within the
    # margin of it (2-D tasks, which have no unigram baseline).
    near_uniform = uniform - BASELINE_MARGIN if unigram is None else (uniform + unigram) / 2
    # Stuck means not learnt at all, on the training examples too (a model that fits them
    # and fails on new ones is overfitting, below).
    judged = run.steps_done >= MIN_STEPS_FOR_BASELINE
    if judged and min(val_loss, train_loss) > near_uniform:
        found.append(Finding("warning", "Stuck at the uniform guess",
                             f"The final validation loss {val_loss:.2f} is close to the "
                             f"{uniform:.2f} of a uniform guess: the model has learnt next to "
                             "nothing."))
    elif judged and unigram is not None and min(val_loss, train_loss) > unigram - BASELINE_MARGIN:
        found.append(Finding("warning", "Stuck at the unigram baseline",
                             f"The final validation loss {val_loss:.2f} is no better than "
                             f"the {unigram:.2f} of predicting each "
                             "character by its frequency alone: the model has not learnt to "
                             "use its context."))
    accuracy_gap = run.final["train_acc"] - run.final["val_acc"]
    char_gap = val_loss - train_loss > OVERFIT_GAP and val_loss > 1.2 * train_loss
    point_gap = not run.config.is_char_task and accuracy_gap > OVERFIT_ACCURACY_GAP
    if char_gap or point_gap:
        found.append(_overfitting(run))
    return found


def _overfitting(run: Run) -> Finding:
    train_loss, val_loss = run.final["train_loss"], run.final["val_loss"]
    evals = run.evals
    best = evals.loc[evals["val_loss"].idxmin()] if len(evals) else None
    trend = ""
    if best is not None and val_loss - best["val_loss"] > RISE:
        trend = (f" Validation loss was lowest ({best['val_loss']:.2f}) at step "
                 f"{int(best['step']):,} and has risen since while training loss kept "
                 "falling: the later steps memorise.")
    accuracy = (f", accuracy {run.final['train_acc']:.0%} against "
                f"{run.final['val_acc']:.0%}" if not run.config.is_char_task else "")
    return _overfitting_finding(
        run, f"Training loss {train_loss:.3f}, validation loss {val_loss:.3f}{accuracy}: "
        "the model fits its training examples far better than new ones." + trend)


def _validation_turned(run: Run) -> Finding | None:
    """While training: the validation loss risen ``RISE`` above its lowest checkpoint while
    the smoothed training loss did not rise, so a live page does not call a run healthy
    whose validation curve climbs (the final judgement needs the final losses)."""
    evals = run.evals
    if run.status != "running" or len(evals) < 2:
        return None
    best, latest = evals.loc[evals["val_loss"].idxmin()], evals.iloc[-1]
    if latest["val_loss"] - best["val_loss"] <= RISE or loss_rise(run, validation=False) > RISE:
        return None
    return _overfitting_finding(
        run, f"So far: validation loss was lowest ({best['val_loss']:.2f}) at step "
        f"{int(best['step']):,} and has risen to {latest['val_loss']:.2f} by step "
        f"{int(latest['step']):,}, while training loss kept falling: the later steps "
        "memorise (judged again on the final losses when training ends).")


def _overfitting_finding(run: Run, measured: str) -> Finding:
    wd = min(1.0, run.config.wd * 10) if run.config.wd else 0.01
    return Finding("warning", "Overfitting",
                   measured + f" More data, a smaller model, fewer steps or weight decay "
                   f"help: try wd {wd:g}.", change={"wd": wd}, metric="gap")

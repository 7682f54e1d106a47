"""One Config for every entry point: sidebar, URL query, CLI flags and exported JSON.

Each setting is described once in ``SETTINGS`` (type, default, allowed values, help).
The dataclass, the validation messages, the CLI parser and the URL parser are all
derived from that table, so a name or a range can only change in one place.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from .features import DEFAULT_FEATURES, FEATURES
from .parts.activations import ACTIVATIONS
from .parts.initializers import INITIALIZERS
from .parts.layers import NORMS
from .parts.optimizers import OPTIMIZERS, SCHEDULES
from .setting_names import meant_setting
from .settings_rules import ConfigError, OverBudget, Setting, spell_default, spell_value

CHAR_TASKS = ("names", "words")
POINT_TASKS = ("spiral", "circles", "xor", "gauss", "moons")
NAMES_VOCAB = 27
MAX_WORDS_VOCAB = 64

CHAR_ONLY = frozenset({"context", "embed_dim", "fuse"})
POINT_ONLY = frozenset({"noise", "points", "train_frac", "features"})
"""Settings that only character tasks, or only 2-D tasks, use (the others ignore them)."""


def applies_to_task(name: str, task: str | None) -> bool:
    """Whether setting ``name`` affects a run of ``task`` (the sidebar and the sweep view
    show only those)."""
    return name not in (POINT_ONLY if task in CHAR_TASKS else CHAR_ONLY)


MAX_PARAMS = 5_000_000
MAX_SNAPSHOTS = 200
MAX_WORK = 1e12
"""Cap on parameters x steps x batch: admits the makemore 200k-step runs, bounds the rest."""


ACTIVATION_NAMES = tuple(ACTIVATIONS)

SETTINGS: tuple[Setting, ...] = (
    Setting("task", str, "names", "What to learn: next character of baby names, of your own word "
            "list, or a 2-D point classification.", choices=CHAR_TASKS + POINT_TASKS,
            group="Data", searchable=False),
    Setting("context", int, 3, "Characters of context the model sees to predict the next one.",
            1, 16, group="Data"),
    # Streamlit reserves the query parameter `embed`, so the URL, CLI and Config all say
    # `embed_dim`.
    Setting("embed_dim", int, 10, "Size of each character's learned embedding vector.", 1, 64,
            group="Architecture"),
    Setting("noise", float, 0.1, "Noise added to the 2-D points (share of the pattern's scale).",
            0.0, 1.0, group="Data", searchable=False),
    Setting("points", int, 1000, "Number of 2-D points generated.", 100, 20000, group="Data",
            searchable=False),
    Setting("train_frac", float, 0.8, "Share of the 2-D points used for training; the rest is "
            "held out.", 0.1, 0.9, group="Data", searchable=False),
    Setting("features", str, ",".join(DEFAULT_FEATURES), "Inputs a 2-D model gets from each "
            "point, as in TensorFlow Playground: the coordinates x1, x2, their squares, "
            "their product x1x2 and sines sin(pi x).", choices=tuple(FEATURES), multi=True,
            group="Data"),
    Setting("fuse", int, 0, "Characters joined per level, as in makemore part 5's WaveNet-style "
            "hierarchy: each hidden layer fuses this many neighbouring positions, so context "
            "8 with fuse 2 takes three levels (0 = the whole context at once, the flat MLP).",
            0, 16, group="Architecture"),
    Setting("depth", int, 3, "Number of hidden layers (0 = a single linear map to the logits).",
            0, 12, group="Architecture"),
    Setting("width", str, "100", "Units per hidden layer; a comma list (e.g. 200,100,50) sets "
            "each layer.", 1, 1024, group="Architecture"),
    Setting("norm", str, "none", "Normalization after each hidden Linear layer.",
            choices=tuple(NORMS), group="Architecture"),
    Setting("act", str, "tanh", "The nonlinearity each hidden unit applies.",
            choices=ACTIVATION_NAMES, group="Architecture"),
    Setting("init", str, "kaiming", "How weights are drawn: normal(std=scale), uniform(+-scale), "
            "Xavier, Kaiming (gain/sqrt(fan_in)) or all zeros.",
            choices=tuple(INITIALIZERS), group="Initialization"),
    Setting("init_scale", float, 1.0, "Multiplier on the scheme's scale: larger grows every "
            "layer's pre-activations (tanh and sigmoid saturate, ReLU-like signals grow with "
            "depth), smaller shrinks them; the header says which phase theory puts the net in.",
            1e-3, 1e2, log=True, group="Initialization"),
    Setting("out_scale", float, 0.1, "Extra multiplier on the output layer's weights; small "
            "values give unconfident logits at init.", 0.0, 10.0, group="Initialization"),
    Setting("bias_init", float, 0.0, "Standard deviation of the initial biases (0 = zeros).",
            0.0, 10.0, group="Initialization"),
    Setting("opt", str, "sgd", "Optimizer: plain SGD, SGD with momentum 0.9, Adam or AdamW.",
            choices=tuple(OPTIMIZERS)),
    Setting("lr", float, 0.1, "Learning rate (the step size).", 1e-5, 10.0, log=True),
    Setting("sched", str, "step", "Learning-rate schedule: constant, x0.1 after 75% of the "
            "steps, or cosine decay.", choices=tuple(SCHEDULES)),
    Setting("batch", int, 32, "Examples per training step.", 1, 4096),
    Setting("steps", int, 3000, "Training steps (parameter updates).", 1, 200_000),
    Setting("more", int, 0, "Steps trained after `steps` at the schedule's last learning rate: "
            "what the Continue button adds, kept so that a link reproduces a continued run.",
            0, 200_000, searchable=False),
    Setting("until", int, 0, "Train only the first `until` steps of the run (0 = all of "
            "them): a search's early look at a trial, continued exactly when it is promoted.",
            0, 400_000, searchable=False),
    Setting("wd", float, 0.0, "Weight decay on weight matrices (L2 for SGD/Adam, decoupled for "
            "AdamW).", 0.0, 1.0),
    Setting("seed", int, 42, "Random seed for the init and the batches, and for the data "
            "split unless data_seed is set: the same seed gives the same numbers.", 0,
            2**31 - 1),
    Setting("data_seed", int, -1, "Seed of the data split alone (which words go to train, val "
            "and test; the 2-D points). -1 follows seed; fixed, runs of several seeds share one "
            "split, so their spread is the init and batch noise alone.", -1, 2**31 - 1,
            group="Data", searchable=False),
    Setting("snap_every", int, 0, "Steps between diagnostic snapshots (0 = about 25 per run).",
            0, 200_000, searchable=False),
)
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
SEARCHABLE = tuple(s.name for s in SETTINGS if s.searchable)
"""What sweeps (--vary) and searches may vary: the rows flagged ``searchable``."""


VIEW_PARAMS = frozenset({"view", "snapshot", "search", "method", "trials", "repeats",
                         "budget", "search_seed", "rungs", "search_version"})
"""Link parameters that choose what the dashboard shows (the open tab, the Sweep view's
search), not what a run trains: a Config ignores them without a message."""


class ConfigRules:
    """What a Config is and does besides its fields: validation, the combination rules, the
    derived sizes and its spellings (dict, link). ``Config`` adds one field per row of
    ``SETTINGS``: the table is the only place a setting is listed."""

    def __post_init__(self) -> None:
        for setting in self.SETTINGS:
            value = setting.coerce(getattr(self, setting.name))
            object.__setattr__(self, setting.name, value)
        self._check_combination()

    def _check_combination(self) -> None:
        self._check_fuse()
        if self.until >= self.steps + self.more:
            raise ConfigError("until", self.until, f"0 (the whole run) or fewer than the run's "
                              f"{self.steps + self.more:,} steps")
        widths = self.width.split(",")
        if len(widths) > 1 and len(widths) != self.depth:
            raise ConfigError("width", self.width, f"a comma list needs one width per hidden "
                              f"layer: depth is {self.depth}, the list has {len(widths)}")
        n_params = self.n_params()
        if n_params > MAX_PARAMS:
            raise ConfigError("width", self.width, f"the model would have {n_params:,} "
                              f"parameters; at most {MAX_PARAMS:,} are allowed")
        if self.snapshot_count() > MAX_SNAPSHOTS:
            fewest = math.ceil(self.total_steps / (MAX_SNAPSHOTS - 1))
            while self.snapshot_count(fewest) > MAX_SNAPSHOTS:
                fewest += 1
            raise ConfigError("snap_every", self.snap_every, f"at most {MAX_SNAPSHOTS} snapshots "
                              f"per run; use snap_every >= {fewest}")
        if self.work() > MAX_WORK:
            raise OverBudget("steps", self.steps, f"parameters x (steps + more) x batch = "
                              f"{self.work():.2g} exceeds the server's budget of "
                              f"{MAX_WORK:.0g}; fewer steps, a smaller batch or a smaller model")

    def _check_fuse(self) -> None:
        if not self.is_char_task or self.fuse == 0:
            return
        if self.fuse == 1:
            raise ConfigError("fuse", self.fuse, "0 (the flat MLP) or 2 or more: fusing one "
                              "position at a time never joins the context")
        powers = [self.fuse**k for k in range(1, 5) if self.fuse**k <= 16]
        if self.context not in powers:
            raise ConfigError("fuse", self.fuse, f"fuse {self.fuse} needs a context that is a "
                              f"power of it ({', '.join(map(str, powers))}); context is "
                              f"{self.context}")
        if self.depth < self.fuse_levels:
            raise ConfigError("fuse", self.fuse, f"fuse {self.fuse} with context "
                              f"{self.context} makes {self.fuse_levels} levels, each a hidden "
                              f"layer; depth is {self.depth}")

    @property
    def fuse_levels(self) -> int:
        """Hidden layers that join positions: log_fuse(context) when fusing, else 0 (the
        flat MLP sees the whole context at its input)."""
        if not self.is_char_task or self.fuse == 0:
            return 0
        return round(math.log(self.context, self.fuse))

    def fan_ins(self) -> tuple[int, ...]:
        """Inputs of each hidden layer and then of the output layer.

        A fusing layer sees ``fuse`` neighbouring positions of the layer below (embeddings
        at the first level); the flat MLP's first layer sees the whole context at once.
        """
        if not self.is_char_task:
            fan = len(self.feature_names)
        elif self.fuse_levels:
            fan = self.fuse * self.embed_dim
        else:
            fan = self.context * self.embed_dim
        fans = [fan]
        for above, width in enumerate(self.widths, start=1):  # the layer these units feed
            fans.append(width * (self.fuse if above < self.fuse_levels else 1))
        return tuple(fans)

    @property
    def split_seed(self) -> int:
        """The seed the data are split (and 2-D points drawn) under."""
        return self.seed if self.data_seed < 0 else self.data_seed

    @property
    def is_char_task(self) -> bool:
        return self.task in CHAR_TASKS

    def applies(self, name: str) -> bool:
        """Whether setting ``name`` affects this Config's task."""
        return applies_to_task(name, self.task)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The 2-D model's input features (character tasks ignore them)."""
        return tuple(self.features.split(","))

    @property
    def widths(self) -> tuple[int, ...]:
        parts = [int(p) for p in self.width.split(",")]
        return tuple(parts) if len(parts) > 1 else tuple(parts * self.depth)

    def vocab_bound(self) -> int:
        """Output classes (the exact V for names and points, an upper bound for word lists)."""
        if self.task == "names":
            return NAMES_VOCAB
        return MAX_WORDS_VOCAB if self.task == "words" else 2

    def n_params(self, vocab: int | None = None) -> int:
        """Trainable parameters of the model this Config builds (for caps and run estimates)."""
        vocab = vocab or self.vocab_bound()
        fans = self.fan_ins()
        total = vocab * self.embed_dim if self.is_char_task else 0
        for fan, width in zip(fans, self.widths, strict=False):
            has_bias = self.norm != "batch"
            total += fan * width + (width if has_bias else 0)
            total += 2 * width if self.norm != "none" else 0
        return total + fans[-1] * vocab + vocab

    @property
    def total_steps(self) -> int:
        """The steps trained: the scheduled ``steps`` and the ``more`` continued after
        them, or only the first ``until`` of those."""
        return self.until or self.steps + self.more

    def work(self) -> float:
        """Rough compute estimate (parameters x steps x batch) used for caps and auto-run."""
        return float(self.n_params()) * self.total_steps * self.batch

    def snapshot_interval(self) -> int:
        return self.snap_every or max(1, math.ceil(self.steps / 25))

    def snapshot_steps(self) -> list[int]:
        """Step 0, every interval, the end of the schedule (``steps``) and the last step."""
        interval, total = self.snapshot_interval(), self.total_steps
        return sorted({0, *range(interval, total + 1, interval), min(self.steps, total), total})

    def snapshot_count(self, interval: int | None = None) -> int:
        """How many ``snapshot_steps`` there are (with another interval, if given)."""
        interval, total = interval or self.snapshot_interval(), self.total_steps
        return (1 + total // interval + (self.steps < total and self.steps % interval != 0)
                + (total % interval != 0))

    def to_dict(self) -> dict[str, Any]:
        return {s.name: getattr(self, s.name) for s in self.SETTINGS}

    def changed(self) -> dict[str, Any]:
        """Settings that differ from the defaults (what a URL or CLI line must carry)."""
        return {s.name: getattr(self, s.name) for s in self.SETTINGS
                if getattr(self, s.name) != s.default}

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Config:
        """Strict: unknown names or invalid values raise ConfigError."""
        unknown = sorted(set(values) - set(cls.SETTINGS_BY_NAME))
        if unknown:
            raise ConfigError(unknown[0], values[unknown[0]], "unknown setting; known: "
                              + ", ".join(cls.SETTINGS_BY_NAME))
        return cls(**dict(values))

    @classmethod
    def lenient(cls, values: Mapping[str, Any]) -> tuple[Config, list[str]]:
        """Forgiving: each bad value is replaced by its default, or a number beyond a bound
        by that bound, and explained in a message.

        Used for URLs, where a stale or hand-edited link must still open a dashboard.
        """
        messages: list[str] = []
        good: dict[str, Any] = {}
        for name, value in values.items():
            setting = cls.SETTINGS_BY_NAME.get(name)
            if setting is None:
                if name not in VIEW_PARAMS:
                    meant = meant_setting(name, cls.SETTINGS_BY_NAME)
                    messages.append(f"Ignored unknown parameter {name!r}"
                                    + (f" (did you mean {meant}?)." if meant else "."))
                continue
            try:
                good[name] = setting.coerce(value)
            except ConfigError as err:
                nearest = setting.nearest(value)
                if nearest is None:
                    messages.append(f"{err}; using the default {spell_default(setting.default)}.")
                else:
                    good[name] = nearest
                    messages.append(f"{err}; using the nearest allowed value "
                                    f"{spell_default(nearest)}.")
        while True:
            try:
                return cls(**good), messages
            except ConfigError as err:
                value = good.pop(err.name, None)
                if value is None or value == cls.SETTINGS_BY_NAME[err.name].default:
                    # A combination rule names a field the user did not set (or set to its
                    # default, which a message could only refuse for itself): drop the
                    # size settings the user did set, continued steps first, then largest.
                    for name in ("more", "width", "depth", "steps", "batch", "snap_every"):
                        if name in good and good[name] != cls.SETTINGS_BY_NAME[name].default:
                            value = good.pop(name)
                            err = ConfigError(name, value, err.allowed)
                            break
                    else:
                        raise
                narrower = cls._widest_fitting(good, value) if err.name == "width" else None
                if narrower is not None:
                    good["width"] = narrower
                    messages.append(f"{err}; using the widest that fits, {narrower!r}.")
                    continue
                messages.append(f"{err}; using the default "
                                f"{spell_default(cls.SETTINGS_BY_NAME[err.name].default)}.")

    @classmethod
    def _widest_fitting(cls, good: dict[str, Any], width: str) -> str | None:
        """``width`` scaled down (every layer alike) to the widest the parameter cap allows
        with the other settings in ``good``; None when no narrower width makes them valid
        (a comma list of the wrong length)."""
        widths = [int(part) for part in width.split(",")]

        def scaled(top: int) -> str:
            return ",".join(str(max(1, w * top // max(widths))) for w in widths)

        def fits(top: int) -> bool:
            try:
                cls(**{**good, "width": scaled(top)})
            except OverBudget:
                return False  # named after steps, yet the width is what is narrowed here
            except ConfigError as err:
                return err.name != "width"
            return True

        low, high = 0, max(widths) - 1  # the largest top that fits lies in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        return scaled(low) if low >= 1 and fits(low) else None

    @classmethod
    def from_query(cls, query: str) -> tuple[Config, list[str]]:
        """Parse a URL query string ('?lr=0.01&act=relu') leniently."""
        return cls.lenient(dict(parse_qsl(query.lstrip("?"), keep_blank_values=True)))

    def to_query(self) -> str:
        """The URL query that reproduces this Config (defaults omitted, as Streamlit does).

        Floats use their shortest exact form ('2', not '2.0'): the dashboard's log sliders
        read URL values by that spelling.
        """
        return "&".join(f"{k}={spell_value(v)}" for k, v in self.changed().items())


def make_config_class(settings: tuple[Setting, ...]) -> type:
    """A frozen dataclass with one field per setting (its default from the table) and the
    rules of ``ConfigRules``; ``settings`` other than ``SETTINGS`` make a scratch Config, as
    a test adding a setting does."""
    fields = [(s.name, s.kind, dataclasses.field(default=s.default)) for s in settings]
    namespace = {"__doc__": "Every setting of a run. Construction validates; invalid values "
                            "raise ConfigError.", "__module__": __name__,
                 "SETTINGS": settings, "SETTINGS_BY_NAME": {s.name: s for s in settings}}
    return dataclasses.make_dataclass("Config", fields, bases=(ConfigRules,), frozen=True,
                                      namespace=namespace)


Config = make_config_class(SETTINGS)

"""The lessons of docs/DESIGN.md (and one from TensorFlow Playground) as one-click presets: a
Config, what to look at, and the diagnosis-panel finding that names the effect; and the one
lesson that is a map of many small runs (the edge of chaos)."""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config


@dataclass(frozen=True)
class Preset:
    slug: str
    title: str
    look_at: str
    changes: dict
    finding: str
    """Lesson name the diagnosis panel shows for this preset (see neurondash.diagnosis)."""

    @property
    def config(self) -> Config:
        return Config(**self.changes)

    @property
    def query(self) -> str:
        return self.config.to_query()


DEEP = {"depth": 5, "width": "100", "steps": 2000}
BIGRAM = {"context": 1, "depth": 0, "embed_dim": 27, "opt": "adam", "lr": 0.1, "batch": 2048,
          "steps": 600, "out_scale": 0.0}

PRESETS: tuple[Preset, ...] = (
    Preset("confident-logits", "1. Confidently wrong logits at init",
           "The lecture's first network: every weight and bias drawn from a unit normal. The "
           "output layer's logits are large and confident, so the initial loss is about 25 "
           "(the lecture measured 27.9 on one batch of 32) against ln 27 = 3.30, the loss "
           "curve is a hockey stick and the logits histogram at step 0 is wide. Set "
           "out_scale to 0.01 (the lecture's W2 * 0.01: initial loss 3.3) and the steps "
           "spent squashing logits go to learning. The tanh layer saturates too: lesson 2.",
           {"depth": 1, "width": "200", "init": "normal", "out_scale": 1.0, "bias_init": 1.0,
            "steps": 6000}, "Confidently wrong logits at init"),
    Preset("saturated-tanh", "2. Saturated tanh from too large an init",
           "Activation histograms pile up at -1 and +1; the dead-unit map is mostly white.",
           DEEP | {"init_scale": 2.0}, "Saturated activations"),
    Preset("kaiming", "3a. Kaiming init: a deep tanh stack that trains",
           "Every layer's activations keep a std of about 0.65-0.75 with little saturation; "
           "gradient histograms have similar widths.",
           DEEP, "Healthy"),
    Preset("too-small-init", "3b. Too small an init: activations collapse",
           "Activations shrink layer by layer toward 0 and gradients vanish toward the input.",
           DEEP | {"init_scale": 0.3}, "Collapsing activations"),
    Preset("no-nonlinearity", "4. No nonlinearity: the deep net is one linear map",
           "With identity activations the loss stalls near the count-bigram level of a "
           "linear model: depth adds nothing.",
           DEEP | {"act": "identity"}, "No nonlinearity"),
    Preset("batchnorm-rescue", "5. BatchNorm makes the init scale irrelevant",
           "The same too-large init as lesson 2, but every layer is normalized: no "
           "saturation. The validation loss after these 2,000 steps is no lower than lesson "
           "2's (Compare the two): what BatchNorm fixes here is the activations.",
           DEEP | {"init_scale": 2.0, "norm": "batch"}, "BatchNorm rescue"),
    Preset("zero-init", "6. All-zero init: symmetry",
           "Every weight matrix after the embedding stays exactly zero (update:data 0/0 has no "
           "value), only the output bias learns, and the loss stops near the unigram level.",
           {"init": "zero", "steps": 2000}, "All-zero init: symmetry"),
    Preset("lr-too-low", "7a. Learning rate too low",
           "update:data sits far below -3 and the loss barely moves.",
           {"lr": 0.0001, "sched": "constant", "steps": 2000}, "Learning rate too low"),
    Preset("lr-too-high", "7b. Learning rate too high",
           "Only the learning rate differs from the defaults (10 instead of 0.1): update:data "
           "sits far above -3, each step rewrites a large share of the weights, the tanh "
           "units are thrown into saturation and the run ends worse than a uniform guess. "
           "Compare lesson 7a, the same network at lr 0.0001.",
           {"lr": 10.0, "steps": 2000}, "Learning rate too high"),
    Preset("dead-relu", "8. Dead ReLUs",
           "Steps too large for ReLU (momentum at lr 0.3) push units to where no training "
           "example activates them: they pass no gradient and never learn again. The "
           "header counts them on the whole training split; white columns in the dead-unit "
           "map.",
           {"act": "relu", "depth": 2, "width": "100", "opt": "momentum", "lr": 0.3,
            "steps": 2000}, "Dead ReLUs"),
    Preset("bigram", "9. The bigram neural net converges to the counting model",
           "Context 1 and no hidden layer: the learned probability table matches the counted "
           "one and the validation loss reaches the count-bigram line.",
           BIGRAM, "Bigram net = counting"),
    Preset("bigram-smoothing", "9b. Weight decay is smoothing (makemore part 1)",
           "Lesson 9 with weight decay 0.001. The penalty on the embedding and output "
           "weights pulls the logits toward 0, the table toward uniform, as adding k to "
           "every count does. The Logits tab names the count model nearest to the learned "
           "table: about add-7 here, against below add-one without decay (lesson 9); wd "
           "0.0001 comes near add-one smoothing. The validation loss pays a little for the "
           "flatter table (about 2.48 against 2.46).",
           BIGRAM | {"wd": 0.001}, "Bigram net = counting"),
    Preset("input-features", "10. Input features do a hidden layer's work (Playground)",
           "No hidden layer, yet the circles are separated: on x1² and x2² a straight line "
           "is a circle in the plane. Remove the features (back to x1, x2) and accuracy "
           "falls to about a coin flip.",
           {"task": "circles", "depth": 0, "features": "x1sq,x2sq", "lr": 0.5,
            "sched": "constant", "steps": 1000}, "Linear in the input features"),
    Preset("wavenet", "11. A hierarchy merges the context slowly (makemore part 5)",
           "Eight characters of context, fused two at a time over three levels: the Neuron "
           "tab shows the first layer seeing only two characters and the next one two "
           "positions of the layer below. Set fuse to 0 and width to 75 (the flat MLP over "
           "the same eight characters, with about the same number of parameters: 20,022 "
           "against 20,073) and compare the two runs: the hierarchy ends lower.",
           {"context": 8, "fuse": 2, "depth": 3, "width": "64", "norm": "batch"},
           "Hierarchical model (WaveNet-style)"),
)
PRESETS_BY_SLUG = {p.slug: p for p in PRESETS}


@dataclass(frozen=True)
class Grid:
    """A lesson that is a map, not one run: every Config of ``base`` × init scale × depth,
    trained only on request (it is too many runs for a link to start)."""

    slug: str
    title: str
    look_at: str
    base: dict
    scales: tuple[float, ...]
    depths: tuple[int, ...]

    def configs(self) -> list[Config]:
        """Depth-major: the map's rows in order."""
        return [Config(**self.base, init_scale=scale, depth=depth)
                for depth in self.depths for scale in self.scales]


EDGE_OF_CHAOS = Grid(
    "edge-of-chaos", "12. The edge of chaos: which init scales train at which depth",
    "Schoenholz et al.'s trainability map on the names task, small enough for a minute: tanh "
    "nets of width 32, 1000 SGD steps each, over 11 init scales and 8 depths up to the "
    "dashboard's 12. Mean-field theory says a signal survives about ξ_c layers and nets "
    "deeper than about 6 ξ_c train slowly or not at all; ξ_c is infinite at the critical "
    "init scale.",
    {"width": "32", "steps": 1000, "sched": "constant"},
    (0.05, 0.08, 0.13, 0.2, 0.3, 0.45, 0.6, 1.0, 1.7, 3.0, 5.0), (1, 2, 3, 4, 6, 8, 10, 12))

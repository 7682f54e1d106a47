"""Config validation: every rule fails with a message naming field, value and what is allowed."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurondash import train
from neurondash.config import (
    MAX_PARAMS,
    MAX_SNAPSHOTS,
    MAX_WORK,
    SETTINGS,
    Config,
    ConfigError,
    spell_value,
)


def bad_values(setting):
    if setting.choices:
        return ["nonsense", ""]
    if setting.name == "width":
        return ["0", "2000", "abc", "10,,5", "-3"]
    values = [setting.low - 1, setting.high * 2 + 1, "abc", float("nan")]
    if setting.kind is int:
        values.append(setting.low + 0.5)
    return values


CASES = [(s.name, v) for s in SETTINGS for v in bad_values(s)]


@pytest.mark.parametrize(("name", "value"), CASES)
def test_every_invalid_value_is_rejected_with_a_clear_message(name, value):
    with pytest.raises(ConfigError) as info:
        Config(**{name: value})
    assert info.value.name == name
    assert name in str(info.value) and "not allowed" in str(info.value)


def test_integer_ranges_read_as_integers():
    with pytest.raises(ConfigError) as info:
        Config(seed=-1)
    assert "an integer from 0 to 2,147,483,647" in str(info.value)


def test_defaults_are_valid_and_match_the_settings_table():
    config = Config()
    for setting in SETTINGS:
        assert getattr(config, setting.name) == setting.default
    assert config.changed() == {}


def test_width_list_must_match_depth():
    assert Config(depth=3, width="30, 20,10").widths == (30, 20, 10)
    with pytest.raises(ConfigError, match="one width per hidden layer"):
        Config(depth=2, width="30,20,10")


def test_parameter_cap():
    with pytest.raises(ConfigError, match=f"at most {MAX_PARAMS:,}"):
        Config(depth=12, width="1024")


def test_snapshot_and_work_caps():
    with pytest.raises(ConfigError, match="snapshots"):
        Config(steps=100_000, snap_every=1)
    with pytest.raises(ConfigError, match="budget"):
        Config(depth=4, width="1000", batch=4096, steps=200_000)


@pytest.mark.parametrize("steps", [400, 398, 1000, 200, 100_000])
def test_the_snapshot_cap_suggests_the_smallest_interval_that_fits(steps):
    with pytest.raises(ConfigError, match="snapshots") as refused:
        Config(steps=steps, snap_every=1)
    suggested = int(str(refused.value).rsplit(">= ", 1)[1].split()[0].rstrip(".;"))
    assert Config(steps=steps, snap_every=suggested).snapshot_count() <= MAX_SNAPSHOTS
    if suggested > 1:
        with pytest.raises(ConfigError, match="snapshots"):
            Config(steps=steps, snap_every=suggested - 1)


def test_snapshot_count_is_exact():
    for steps, every, more in ((300, 12, 0), (301, 12, 0), (5, 5, 0), (7, 3, 0), (3000, 0, 0),
                               (7, 3, 7), (37, 0, 37), (40, 7, 40), (3000, 0, 3000)):
        config = Config(depth=1, width="4", steps=steps, snap_every=every, more=more)
        total = steps + more
        expected = len({0, steps, total, *range(0, total + 1, config.snapshot_interval())})
        assert config.snapshot_count() == expected == len(config.snapshot_steps())
        if total < 400:
            assert train(config).snapshot_steps == config.snapshot_steps()


def test_more_counts_toward_every_cap():
    with pytest.raises(ConfigError, match="snapshots per run") as refused:
        Config(steps=1000, more=200_000)
    suggested = int(str(refused.value).rsplit(">= ", 1)[1])
    assert Config(steps=1000, more=200_000, snap_every=suggested).snapshot_count() == 200
    with pytest.raises(ConfigError, match="snapshots"):
        Config(steps=1000, more=200_000, snap_every=suggested - 1)
    with pytest.raises(ConfigError, match="steps \\+ more"):
        Config(depth=4, width="1000", batch=4096, steps=100_000, more=100_000)
    # A link whose `more` breaks a cap loses `more`, not the settings it was continued from.
    parsed, warnings = Config.from_query("steps=1000&width=64&more=200000")
    assert parsed == Config(steps=1000, width="64")
    assert any("more=200000" in w for w in warnings)


def test_parameter_count_matches_makemore():
    # Karpathy's MLP: 27x10 embedding, 30->200 tanh, 200->27: 11,897 parameters.
    assert Config(depth=1, width="200").n_params() == 11_897


def test_parameter_count_matches_makemore_part5():
    # The lecture's hierarchical model: 24-dim embeddings, context 8 fused two at a time
    # over three levels of 128 units with BatchNorm: 76,579 parameters.
    config = Config(context=8, fuse=2, depth=3, embed_dim=24, width="128", norm="batch")
    assert config.fuse_levels == 3 and config.fan_ins() == (48, 256, 256, 128)
    assert config.n_params() == 76_579


@pytest.mark.parametrize(("changes", "message"), [
    ({"fuse": 1}, "never joins"),
    ({"fuse": 2, "context": 3}, "power of it (2, 4, 8, 16); context is 3"),
    ({"fuse": 3, "context": 4}, "power of it (3, 9)"),
    ({"fuse": 2, "context": 8, "depth": 2}, "makes 3 levels, each a hidden layer; depth is 2"),
])
def test_fuse_rules(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        Config(**changes)
    assert info.value.name == "fuse"


def test_fuse_is_free_where_it_does_not_apply():
    assert Config(task="spiral", fuse=1).n_params() == Config(task="spiral").n_params()
    # More hidden layers than levels: the extra ones work on the single fused position.
    assert Config(context=4, fuse=2, depth=3, width="8").fan_ins() == (20, 16, 8, 8)


def test_query_round_trip_and_lenient_parsing():
    config = Config(act="relu", lr=0.01, width="64", depth=2, init_scale=0.5)
    parsed, warnings = Config.from_query("?" + config.to_query())
    assert parsed == config and warnings == []
    parsed, warnings = Config.from_query("lr=oops&act=relu&depth=99&bogus=1")
    assert parsed == Config(act="relu", depth=12)  # a number beyond a bound: the bound
    assert len(warnings) == 3 and any("nearest allowed value 12" in w for w in warnings)
    assert any("lr='oops'" in w for w in warnings) and any("bogus" in w for w in warnings)
    # The open tab travels with a dashboard link; training ignores it without a message.
    parsed, warnings = Config.from_query("act=relu&view=Neuron")
    assert parsed == Config(act="relu") and warnings == []


def test_lenient_repairs_an_invalid_combination():
    parsed, warnings = Config.from_query("depth=2&width=10,20,30")
    assert parsed.depth == 2 and parsed.width == "100"
    assert any("one width per hidden layer" in w for w in warnings)


def test_lenient_drops_a_fuse_the_context_does_not_allow():
    parsed, warnings = Config.from_query("fuse=2&depth=4")
    assert parsed == Config(depth=4)
    assert any("fuse=2" in w and "power of it" in w for w in warnings)


def test_strict_from_dict_rejects_unknown_names():
    with pytest.raises(ConfigError, match="unknown setting"):
        Config.from_dict({"learning_rate": 0.1})


NUMBERS = [s for s in SETTINGS if s.kind in (int, float)]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(NUMBERS), st.one_of(
    st.floats(allow_nan=False), st.integers(-10**15, 10**15)))
def test_a_link_number_beyond_a_bound_uses_that_bound_and_says_so(setting, number):
    """A link's lr=1e-9 trains at the smallest learning rate, not the default 0.1."""
    text = repr(number) if isinstance(number, float) else str(number)
    parsed, warnings = Config.from_query(f"{setting.name}={quote(text)}")
    used = getattr(parsed, setting.name)
    try:
        expected = setting.coerce(text)
    except ConfigError:
        expected = setting.nearest(text)
        if expected is None:  # infinite
            assert used == setting.default and "using the default" in warnings[0]
            return
    try:
        Config(**{setting.name: expected})
    except ConfigError:  # the bound breaks a rule over several settings
        assert used == setting.default and "using the default" in warnings[-1]
        return
    assert used == expected and setting.low <= used <= setting.high
    fraction = setting.kind is int and not float(number).is_integer()
    assert bool(warnings) == (fraction or not setting.low <= number <= setting.high), warnings
    if warnings:
        assert f"nearest allowed value {spell_value(used)}" in warnings[0], warnings


@pytest.mark.parametrize(("name", "meant"), [("learning_rate", "lr"), ("Lr", "lr"),
                                             ("init_scal", "init_scale"),
                                             ("batch_size", "batch"), ("foo", None),
                                             ("lerning_rate", "lr"), ("weight_decy", "wd")])
def test_an_unknown_link_parameter_names_the_setting_it_likely_means(name, meant):
    _, warnings = Config.from_query(f"{name}=1")
    hint = f" (did you mean {meant}?)." if meant else "."
    assert warnings == [f"Ignored unknown parameter {name!r}{hint}"]


@pytest.mark.parametrize("query", ["width=1024&depth=12", "width=100000&depth=50",
                                   "width=1024,1000,900,800,700,600,500&depth=7&context=8&embed_dim=32&fuse=2",
                                   "width=1024&depth=12&task=spiral&features=x1,x2,sin1"])
def test_a_link_width_over_the_parameter_cap_uses_the_widest_that_fits(query):
    """A width the parameter cap refuses is scaled down (every layer alike) to the widest
    that fits, as a number beyond a bound takes that bound, not the default 100."""
    config, messages = Config.from_query(query)
    widths = [int(w) for w in config.width.split(",")]
    asked = [min(int(w), 1024) for w in dict(parse_qsl(query))["width"].split(",")]
    assert config.n_params() <= MAX_PARAMS
    assert any(f"using the widest that fits, {config.width!r}" in m for m in messages)
    assert widths == [max(1, w * max(widths) // max(asked)) for w in asked]
    wider = ",".join(str(max(1, w * (max(widths) + 1) // max(asked))) for w in asked)
    with pytest.raises(ConfigError, match="parameters"):
        config.replace(width=wider)


@pytest.mark.parametrize("query", ["steps=200000&batch=4096&width=1024",
                                   "batch=2048&width=700&steps=3000", "batch=2048&width=700"])
def test_a_link_over_the_work_budget_says_once_what_it_narrowed(query):
    """steps=200000&batch=4096&width=1024 gave 839 warnings, one per width from 1024 down
    to 186: the budget's rule names steps, so every narrower width looked as if it fitted.
    batch=2048&width=700&steps=3000 began with "steps=3000 is not allowed ... using the
    default 3000". Now each setting is said once, never refused for its own default."""
    config, messages = Config.from_query(query)
    asked = dict(parse_qsl(query))
    assert len(messages) <= 2, messages
    (width,) = [m for m in messages if m.startswith("width=")]
    assert width.startswith(f"width='{asked['width']}' is not allowed: parameters x")
    assert width.endswith(f"budget of 1e+12; fewer steps, a smaller batch or a smaller "
                          f"model; using the widest that fits, {config.width!r}.")
    assert not [m for m in messages if m.startswith("steps=3000")]
    assert config.work() <= MAX_WORK
    wider = str(int(config.width) + 1)
    with pytest.raises(ConfigError, match="budget"):
        config.replace(width=wider)

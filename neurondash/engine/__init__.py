"""The NumPy engine: the model, the recorder and the training loop, composed from the
building blocks in ``neurondash.parts``."""

NUMBERS_VERSION = 3
"""Bump whenever a change to the engine, the data or the recorder alters any number a run
holds (the decay mask, a snapshot rule, an initializer, a setting's default): runs stored
under the old numbers then miss and are trained again (``identity.run_key``).
2: the recorder no longer declares divergence on a float32 overflow of finite weights.
3: update:data's carried sums restart every 64 steps (was 65), with BatchNorm's blocks."""

LONG_RUN_STEPS = 20_000
"""Runs of more ``steps`` than this are long runs (``diagnostics.UPDATE_DATA_POINTS``)."""
LONG_RUN_REVISION = 1
"""A revision of the numbers of long runs alone, as an activation's ``revision`` is of its
runs alone: their keys change (``identity.run_key``), every other run's stay valid.
1: update:data is measured at about 4,000 steps of a long run, not every few steps."""

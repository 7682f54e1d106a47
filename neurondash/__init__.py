"""neurondash: see inside a neural network while it trains.

Headless use::

    from neurondash import Config, train
    run = train(Config(depth=2, steps=500))
"""

from .config import Config, ConfigError
from .engine.train import Progress, continue_training, train
from .run import Run, RunFormatError

__all__ = ["Config", "ConfigError", "Progress", "Run", "RunFormatError", "continue_training",
           "train"]

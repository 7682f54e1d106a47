"""neurondash: see inside a neural network while it trains.

Headless use::

    from neurondash import Config, train
    run = train(Config(depth=2, steps=500))
"""

from .config import Config, ConfigError
from .engine.train import Progress
from .run import Run, RunFormatError
from .training import continue_training, train

__all__ = ["Config", "ConfigError", "Progress", "Run", "RunFormatError", "continue_training",
           "train"]

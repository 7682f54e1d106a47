"""Search: adaptive, random or grid search over up to eight settings, each trial repeated
over seeds on one fixed data split, so that an effect can be told from seed noise.

A search is written as text, the same in the CLI (``--sample``), the link and the dashboard:

    lr=auto                          log-uniform over the drawn optimizer's range (LR_RANGES)
    lr=loguniform(1e-4,1e-1)         log-uniform between two bounds
    init_scale=uniform(0.5,2)        uniform between two bounds (rounded for integer settings)
    width=choice(64,128,256)         one of the values (';' between comma-list values)
    wd=loguniform(1e-4,0.1) if opt=adamw    drawn only when the condition holds, else default

A spec and its seed give the same trials in the same order, whatever executor runs them and
however many trials are asked for (trial i is drawn from its own stream). A searched
setting's value in the base is not used: the same search run from one of its own trials'
settings ("use its settings") is the same search. A trial whose
Config is invalid (over the server's caps, a fuse that does not fit) is skipped with the
setting and the reason; the rest run.

By concept: ``space`` (a setting's range: parsing, spelling, the default ranges), ``spec``
(SearchSpec: trials, draws, adaptive rounds, repeats, budget), ``running`` (run_search),
``leaderboard`` (the results as tables).
"""

from ..config import SEARCHABLE
from .leaderboard import leaderboard, search_frame, skipped_frame, trial_scores
from .running import run_search
from .space import (
    KINDS,
    LR_RANGES,
    Range,
    SearchError,
    choice_range,
    default_ranges,
    parse_range,
    parse_ranges,
)
from .spec import (
    DRAW_ATTEMPTS,
    MAX_REPEATS,
    MAX_SEARCHED,
    MAX_TRIALS,
    METHODS,
    PARENTS,
    ROUND_SIZE,
    SearchSpec,
    Trial,
)

__all__ = [
    "DRAW_ATTEMPTS", "KINDS", "LR_RANGES", "MAX_REPEATS", "MAX_SEARCHED", "MAX_TRIALS",
    "METHODS", "PARENTS", "ROUND_SIZE", "SEARCHABLE", "Range", "SearchError", "SearchSpec",
    "Trial", "choice_range", "default_ranges", "leaderboard", "parse_range", "parse_ranges",
    "run_search", "search_frame", "skipped_frame", "trial_scores",
]

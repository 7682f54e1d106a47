"""Search: Optuna's samplers over up to eight settings, each trial repeated over seeds on
one fixed data split (so that an effect can be told from seed noise), trials grown by exact
continuation through successive-halving rungs, warm-started from the run store.

A search is written as text, the same in the CLI (``--sample``), the link and the dashboard:

    lr=auto                          log-uniform over the drawn optimizer's range (LR_RANGES)
    lr=loguniform(1e-4,1e-1)         log-uniform between two bounds
    init_scale=uniform(0.5,2)        uniform between two bounds (whole numbers for integers)
    width=choice(64,128,256)         one of the values (';' between comma-list values)
    wd=loguniform(1e-4,0.1) if opt=adamw    drawn only when the condition holds, else default

Each range is an Optuna distribution (``Range.distribution``); the methods are Optuna's TPE
(multivariate, conditions grouped, constant liar in parallel), random, grid (every
combination enqueued) and CMA-ES. A searched setting's value in the base is not used: the
same search run from one of its own trials' settings is the same search. A trial whose
Config is invalid (over the server's caps, a fuse that does not fit) is skipped with the
setting and the reason; the rest run.

By concept: ``space`` (a setting's range: parsing, spelling, its distribution), ``spec``
(SearchSpec: sampler, rungs, repeats, budget, plan), ``study`` (the Optuna study, warm
start, importances), ``running`` (run_search, replay_search, the search's record),
``leaderboard`` (the results as tables).
"""

from ..config import SEARCHABLE
from .leaderboard import (
    IMPORTANCE_TRIALS,
    importance_frame,
    leaderboard,
    search_frame,
    skipped_frame,
)
from .running import Planned, SearchLog, replay_search, run_search, search_key
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
    MAX_REPEATS,
    MAX_RUNGS,
    MAX_SEARCHED,
    MAX_TRIALS,
    METHODS,
    SearchSpec,
    Trial,
    rung_words,
)
from .study import importances, trial_value

__all__ = [
    "KINDS", "LR_RANGES", "MAX_REPEATS", "MAX_RUNGS", "MAX_SEARCHED", "MAX_TRIALS", "METHODS",
    "Planned", "Range", "SEARCHABLE", "SearchError", "SearchLog", "SearchSpec", "Trial",
    "IMPORTANCE_TRIALS", "choice_range", "default_ranges", "importance_frame", "importances",
    "leaderboard",
    "parse_range", "parse_ranges", "replay_search", "run_search", "rung_words", "search_frame",
    "search_key",
    "skipped_frame", "trial_value",
]

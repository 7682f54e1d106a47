"""``python -m neurondash``: see neurondash.cli."""

import sys

from .cli import main

sys.exit(main())

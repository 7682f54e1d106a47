"""``python -m neurondash``: see neurondash.cli."""

import sys

from .cli import main

if __name__ == "__main__":  # not when a sweep worker re-imports the main module
    sys.exit(main())

"""Every test, and every process a test starts (CLI, the browser test's server), uses a
run store of its own in a temporary directory, never the user's cache."""

from __future__ import annotations

import os
import tempfile

os.environ["NEURONDASH_STORE"] = tempfile.mkdtemp(prefix="neurondash-test-store-")

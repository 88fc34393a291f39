"""The console for the insights tests: the conversation tests' fixtures and helpers
(console_under_test), imported, not copied; and this folder's own helpers
(insights_events)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "conversations"))
sys.path.insert(0, str(Path(__file__).parent))

from console_under_test import console, router_admin, store_url  # noqa: F401

"""The settings tests' console (settings_under_test): imported, not copied, so the browser
tests can start the same console."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from settings_under_test import settings_console, store_url  # noqa: F401

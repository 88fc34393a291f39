"""The console, running for real on loopback over a SQLite conversation store migrated to
head, beside the real router (tests/router/harness.py) writing the same store; only Meta's
Graph API and the tenants' agent endpoints are loopback peers (console_under_test.py).

Tests write events to the store the way the router does (a separate connection, another
"process") or send customers' webhooks through the router, sign in by starting a real
session (the cookie and CSRF token a browser would hold), and talk to the console over
HTTP.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from console_under_test import console, router_admin, store_url  # noqa: F401

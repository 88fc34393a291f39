"""The router's HTTP API against its own OpenAPI schema (schemathesis, bounded): no
generated request, with or without the admin token, gets a 5xx. The POST webhook is in the
schema too (served by the raw-ASGI fast path); signed bodies are fuzzed in
test_fuzz_webhooks.py, since generated requests cannot sign."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from harness import RouterHarness
from hypothesis import HealthCheck, settings

from router.app import create_app
from router.live_routes import LiveRoutes
from router.settings import RouterSettings

ADMIN_TOKEN = "admin-token-for-schema-tests-5b1e"


@pytest.fixture
def router(start_router: Callable[..., RouterHarness]) -> RouterHarness:
    return start_router(admin_token=ADMIN_TOKEN)


def _document() -> dict[str, Any]:
    """The router's OpenAPI document, as the app serves it (building the app does no I/O)."""
    settings = RouterSettings(inbox_url="sqlite:///nonexistent/never-opened.db")
    return create_app(settings, routes=LiveRoutes()).openapi()


# Loaded at import, as schemathesis parametrizes at collection; requests go to `router`.
schema = schemathesis.openapi.from_dict(_document())


def test_the_webhook_notification_is_in_the_schema(router: RouterHarness) -> None:
    document = httpx.get(f"{router.url}/openapi.json").json()
    operations = document["paths"]["/webhooks/whatsapp"]
    assert {"get", "post"} <= set(operations)
    assert {"200", "400", "401", "413", "429"} <= set(operations["post"]["responses"])


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_gets_a_server_error(router: RouterHarness, case: Any) -> None:
    for headers in ({}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}):
        response = case.call(base_url=router.url, headers=headers, timeout=10)
        assert response.status_code < 500, (case.method, case.path, response.text[:300])

"""Work before authentication is bounded: the app secret is chosen by the phone number id
the body names (found without parsing it), at most a budget of bytes is hashed per
request, and bad signatures are counted and rate-limited (429 before any hashing)."""

import json
from pathlib import Path

import httpx
from harness import RouterHarness, Tenant
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import notification, signed, text

from router.limits import FailureAllowance
from router.signature import (
    HASH_BUDGET_BYTES,
    authenticate,
    candidate_secrets,
    claimed_numbers,
    sign,
)

APPS = {f"10595455895{n:04d}": f"app-secret-{n:03d}".encode() for n in range(100)}
EVERY = tuple(sorted(APPS.values()))
FULL = 512 * 1024


def _padded(payload: dict[str, object], size: int) -> bytes:
    body = json.dumps({**payload, "padding": ""}).encode()
    return body.replace(b'"padding": ""', b'"padding": "' + b"x" * (size - len(body)) + b'"')


class Lookups:
    """secret_for over APPS, remembering what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, number: str) -> bytes | None:
        self.asked.append(number)
        return APPS.get(number)


def test_only_the_secret_of_the_named_number_is_tried_among_a_hundred_apps() -> None:
    number = "105954558950057"
    body = json.dumps(notification(number, [text("kohomada")])).encode()
    assert candidate_secrets(body, APPS.get, EVERY) == (APPS[number],)
    assert authenticate(body, sign(body, APPS[number]), APPS.get, EVERY) == APPS[number]
    assert authenticate(body, sign(body, APPS["105954558950058"]), APPS.get, EVERY) is None


def test_a_forged_full_size_body_costs_at_most_the_hash_budget() -> None:
    numbers = list(APPS)[:8]
    payload = {"entry": [notification(n, [text("x")])["entry"][0] for n in numbers]}
    body = _padded(payload, FULL)
    assert len(candidate_secrets(body, APPS.get, EVERY)) * len(body) <= HASH_BUDGET_BYTES
    # Naming no routed number, it is not worth trying a hundred secrets at all.
    unrouted = _padded(notification("999999999999", [text("x")]), FULL)
    assert candidate_secrets(unrouted, APPS.get, EVERY) == ()


def test_a_small_body_naming_no_known_number_is_tried_against_every_secret_that_fits() -> None:
    body = json.dumps(notification("999999999999", [text("hello?")])).encode()
    assert candidate_secrets(body, APPS.get, EVERY) == EVERY  # 100 x ~300 bytes fits
    assert candidate_secrets(body, APPS.get, EVERY, budget=len(body) * 99) == ()


def test_the_scan_for_numbers_is_bounded() -> None:
    body = b"".join(b'{"phone_number_id": "%d"}' % n for n in range(10_000))
    assert claimed_numbers(body) == [str(n) for n in range(8)]
    lookups = Lookups()
    authenticate(body, sign(body, b"forged"), lookups, EVERY)
    assert len(lookups.asked) == 8


def test_a_missing_or_malformed_signature_costs_no_scan() -> None:
    body = json.dumps(notification("105954558950001", [text("x")])).encode()
    lookups = Lookups()
    for header in (None, "", "sha1=00", "sha256=zz"):
        assert authenticate(body, header, lookups, EVERY) is None
    assert lookups.asked == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_are_allowed_per_client_and_in_total() -> None:
    clock = Clock()
    allowance = FailureAllowance(rate=1, burst=2, total_rate=10, total_burst=3, clock=clock)
    for _ in range(2):
        assert allowance.allows("203.0.113.7")
        allowance.failed("203.0.113.7")
    assert not allowance.allows("203.0.113.7")
    assert allowance.allows("198.51.100.1")  # another client still has its own
    allowance.failed("198.51.100.1")
    assert not allowance.allows("198.51.100.2")  # ... until the total is spent
    clock.now += 1.0
    assert allowance.allows("203.0.113.7")
    assert allowance.allows("198.51.100.2")


def _rate_limited(router: RouterHarness) -> str:
    for line in router.metrics().splitlines():
        if line.startswith('katha_router_webhooks_total{result="signature_rate_limited"}'):
            return line.split()[-1]
    return "0"


def test_bad_signatures_are_rate_limited_then_the_router_listens_again(
    harness: RouterHarness,
) -> None:
    clock = Clock()
    harness.app.state.intake.failures = FailureAllowance(
        rate=1, burst=3, total_rate=100, total_burst=100, clock=clock
    )
    alpha = harness.tenants["alpha"]
    payload = notification(alpha.phone_number_id, [text("hello")])
    statuses = [harness.post(payload, "forged-secret-000").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert harness.post(payload, alpha.app_secret).status_code == 429  # unheard, not hashed
    assert _rate_limited(harness) == "3.0"
    assert 'katha_router_webhooks_total{result="bad_signature"} 3.0' in harness.metrics()
    clock.now += 1.0
    assert harness.post(payload, alpha.app_secret).status_code == 200


def test_with_a_hundred_apps_every_tenants_webhook_is_accepted(
    tmp_path: Path,
    sqlite_url: str,
    graph: GraphApi,
    agents: dict[str, tuple[Agent, ServerThread]],
    servers: list[ServerThread],
) -> None:
    endpoint = agents["alpha"][1].url
    tenants = [Tenant.named(f"shop{n:03d}", number, endpoint) for n, number in enumerate(APPS)]
    with RouterHarness(tmp_path, sqlite_url, graph, tenants, workers_enabled=False) as router:
        servers.append(router.server)
        for tenant in (tenants[0], tenants[57], tenants[99]):
            body, headers = signed(notification(tenant.phone_number_id, [text("hi")]),
                                   tenant.app_secret)  # fmt: skip
            response = httpx.post(f"{router.url}/webhooks/whatsapp", content=body, headers=headers)
            assert response.status_code == 200
        forged = _padded(notification(tenants[3].phone_number_id, [text("x")]), FULL - 100)
        _, headers = signed(forged, "forged-secret-000")
        response = httpx.post(f"{router.url}/webhooks/whatsapp", content=forged, headers=headers)
        assert response.status_code == 401
        assert 'result="accepted"} 3.0' in router.metrics()

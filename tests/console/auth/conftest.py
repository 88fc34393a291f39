"""The console's sign-in under test: the real app (TestClient) on a real SQLite store migrated
to the newest revision, calling the real router (tests/router/harness.py) whose routes say
which Businesses a number owns; the codes it sends are read where they land, on the
owner's phone, as Meta's Graph API (a loopback peer) received them."""

import asyncio
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from peers.graph_api import GraphApi, GraphCall
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from pydantic import SecretStr
from sqlalchemy import insert, select

from console.app import create_app
from console.auth import codes
from console.auth.keys import plain_hash
from console.settings import ConsoleSettings
from katha.store import upgrade
from katha.store.console_tables import console_audit, console_sessions
from katha.store.engines import sync_engine
from router.console_actions import LOGIN_CODES_MAX
from router.envelope import conversation_id
from router.inbox import open_inbox

sys.path.insert(0, str(Path(__file__).parents[2] / "router"))

from harness import RouterHarness, Tenant, wait_for

ADMIN_TOKEN = "router-admin-token-for-tests"
SESSION_SECRET = "session-secret-for-tests-" + "x" * 16
OWNER = "94771234567"  # owns alpha and beta
ALPHA, BETA, GAMMA = "shops/alpha", "shops/beta", "shops/gamma"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LOGIN_CODE = {"name": "katha_login_code", "languages": ["en"], "category": "AUTHENTICATION"}
OFFICE_OWNERS = 12  # more than one client may ask codes for (CODES_PER_CLIENT)


@dataclass
class Clock:
    """The console's clock, moved by the test (code and session expiry)."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def office(n: int) -> str:
    """The n-th owner signing in from one office (each owns a Business of their own)."""
    return f"9477100{n:04d}"


@dataclass
class RouterPeer:
    """The real router (its name from when a peer played it): each Business's route names
    its owner's number and its loginCode template, and the codes it sends reach the
    owner's phone through Meta's Graph API, played by `graph`."""

    harness: RouterHarness
    graph: GraphApi
    servers: list[ServerThread]

    @property
    def url(self) -> str:
        return self.harness.url

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Each code that reached a phone, once, oldest first: to whom, the code, the
        Businesses it came from, and its minutes when it came in words."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for call in self.graph.texts():
            code = _code(call)
            if code is None or call.to is None:
                continue
            sent = found.setdefault(
                (call.to, code), {"owner_number": call.to, "code": code, "tenants": []}
            )
            sent["tenants"].append(self.tenant_of(call.phone_number_id))
            if call.text is not None:
                sent["minutes"] = float(re.findall(r"expires in ([0-9]+) minutes", call.text)[0])
        return list(found.values())

    def last_code(self) -> str:
        return str(self.sent[-1]["code"])

    def tenant_of(self, phone_number_id: str) -> str:
        [tenant] = [
            str(t.extra["tenant"])
            for t in self.harness.tenants.values()
            if t.phone_number_id == phone_number_id
        ]
        return tenant

    def owner_writes(self, name: str, number: str = OWNER) -> None:
        """The owner writes to Business `name`: their 24-hour window with it is open (a
        code then comes in words), once the router has taken the message in."""
        self.harness.say(name, "good morning", sender=number)
        number_id = self.harness.tenants[name].phone_number_id
        conversation = conversation_id(self.harness.services.conversation_key, number_id, number)
        wait_for(lambda: asyncio.run(self._window_opened(conversation)), what="the window")

    async def _window_opened(self, conversation: str) -> bool:
        inbox = open_inbox(self.harness.settings)
        await inbox.open()
        try:
            return (await inbox.conversation(conversation)).last_inbound_at is not None
        finally:
            await inbox.close()

    def spend_codes(self, number: str) -> None:
        """Ask the router for codes for `number` until it refuses (its own limit), as
        other consoles (replicas, or someone else's) could have."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        body = {"owner_number": number, "code": "24681357", "minutes": 10}
        for _ in range(LOGIN_CODES_MAX):
            asked = httpx.post(f"{self.url}/admin/login-codes", json=body, headers=headers)
            assert asked.status_code == 200, asked.text


def _code(call: GraphCall) -> str | None:
    """The one-time code in a message: the loginCode template's parameter, or in words."""
    texts = call.template[2] if call.template else [call.text or ""]
    codes = [code for text in texts for code in re.findall(r"\b[0-9]{8}\b", text)]
    return codes[0] if codes else None


def businesses(endpoint: str) -> list[Tenant]:
    """Alpha and beta, owned by OWNER; gamma, nobody's; a Business for each office owner.
    Every one has its loginCode template: a code reaches its owner outside the window."""
    owned = [("alpha", OWNER), ("beta", OWNER), ("gamma", None)]
    owned += [(f"office{n:02d}", office(n)) for n in range(OFFICE_OWNERS)]
    found = []
    for n, (name, owner) in enumerate(owned):
        tenant = Tenant.named(name, f"10595455{n:07d}", endpoint)
        tenant.extra.update(tenant=f"shops/{name}", templates={"login_code": LOGIN_CODE})
        if owner is not None:
            tenant.extra["owner_number"] = "+" + owner
        found.append(tenant)
    return found


@pytest.fixture(autouse=True)
def prompt_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """/signin/code answers at once here (test_code_limits.py shows the wait it makes)."""
    monkeypatch.setattr(codes, "MIN_ANSWER_SECONDS", 0.0)


@pytest.fixture
def router_peer(tmp_path: Path) -> Iterator[RouterPeer]:
    """The router for one test (its own limits on codes start afresh), with the Graph API
    and one agent endpoint (no test here needs its answers); all stopped at the end."""
    graph = GraphApi()
    servers = [ServerThread(graph.app()).start()]
    graph.url = f"{servers[0].url}/{graph.version}"
    servers.append(ServerThread(Agent().app()).start())
    inbox = f"sqlite://{tmp_path / 'inbox.db'}"
    harness = RouterHarness(
        tmp_path, inbox, graph, businesses(servers[-1].url), admin_token=ADMIN_TOKEN
    )
    servers.append(harness.__enter__().server)
    try:
        yield RouterPeer(harness, graph, servers)
    finally:
        for server in servers:
            server.request_stop()
        for server in servers:
            server.stop()


@pytest.fixture
def router(router_peer: RouterPeer) -> RouterPeer:
    """The router as each test expects it to start: no code sent yet."""
    assert router_peer.sent == []
    return router_peer


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


def console_settings(store_url: str, router_url: str, **overrides: Any) -> ConsoleSettings:
    values: dict[str, Any] = {
        "store_url": SecretStr(store_url),
        "router_url": router_url,
        "router_admin_token": SecretStr(ADMIN_TOKEN),
        "session_secret": SecretStr(SESSION_SECRET),
        "secure_cookies": False,
        "public_url": "http://testserver",
    }
    return ConsoleSettings(**(values | overrides))


@pytest.fixture
def settings(store_url: str, router: RouterPeer) -> ConsoleSettings:
    return console_settings(store_url, router.url)


@pytest.fixture
def client(settings: ConsoleSettings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock), follow_redirects=False) as opened:
        yield opened


def wrong_code(right: str) -> str:
    """Another code of the same length (8 digits)."""
    return f"{(int(right) + 1) % 10**8:08d}"


def sign_in_with_code(client: TestClient, router: RouterPeer, number: str = OWNER) -> None:
    """The whole code flow, as an owner's browser does it."""
    asked = client.post("/signin/code", data={"number": number})
    assert asked.status_code == 200
    verified = client.post("/signin/verify", data={"code": router.last_code()})
    assert verified.status_code == 303, verified.text


def session_for(
    store_url: str, tenants: dict[str, str], *, subject: str = "oidc:test#u", at: datetime = START
) -> str:
    """A session row made directly in the store (a user with these roles signed in `at`);
    the cookie value that opens it."""
    token = secrets.token_urlsafe(32)
    engine = sync_engine(store_url)
    with engine.begin() as connection:
        connection.execute(
            insert(console_sessions).values(
                id=plain_hash(token), subject=subject, display="Test user", tenants=tenants,
                created_at=at, expires_at=at + timedelta(hours=12), last_seen_at=at,
            )
        )  # fmt: skip
    engine.dispose()
    return token


def audit_rows(store_url: str) -> list[dict[str, Any]]:
    engine = sync_engine(store_url)
    with engine.connect() as connection:
        rows = connection.execute(select(console_audit).order_by(console_audit.c.id)).mappings()
        found = [dict(row) for row in rows]
    engine.dispose()
    return found

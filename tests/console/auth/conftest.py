"""The console's sign-in under test: the real app (TestClient) on a real SQLite store migrated
to the newest revision, calling a router played by a FastAPI peer on loopback that answers
/admin/login-codes as the router does (and remembers the codes, as the owner's phone would)."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from peers.loopback import ServerThread
from pydantic import SecretStr
from sqlalchemy import insert, select

from console.app import create_app
from console.auth import codes
from console.auth.keys import plain_hash
from console.settings import ConsoleSettings
from katha.store import upgrade
from katha.store.console_tables import console_audit, console_sessions
from katha.store.engines import sync_engine

ADMIN_TOKEN = "router-admin-token-for-tests"
SESSION_SECRET = "session-secret-for-tests-" + "x" * 16
OWNER = "94771234567"  # owns alpha and beta
ALPHA, BETA, GAMMA = "shops/alpha", "shops/beta", "shops/gamma"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """The console's clock, moved by the test (code and session expiry)."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RouterPeer:
    """The router's /admin/login-codes: which Businesses a number owns, the codes sent."""

    owners: dict[str, list[str]] = field(default_factory=lambda: {OWNER: [ALPHA, BETA]})
    sent: list[dict[str, Any]] = field(default_factory=list)
    answer: int = 200  # 503: the router is down; 429: its own rate limit
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/admin/login-codes")
        async def login_codes(
            body: dict[str, Any], authorization: str = Header("")
        ) -> dict[str, list[str]]:
            if authorization != f"Bearer {ADMIN_TOKEN}":
                raise HTTPException(401)
            if self.answer != 200:
                raise HTTPException(self.answer)
            self.sent.append(body)
            digits = "".join(ch for ch in body["owner_number"] if ch.isdigit())
            return {"tenants": self.owners.get(digits, [])}

        return app

    def last_code(self) -> str:
        return str(self.sent[-1]["code"])


@pytest.fixture(autouse=True)
def prompt_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """/signin/code answers at once here (test_code_limits.py shows the wait it makes)."""
    monkeypatch.setattr(codes, "MIN_ANSWER_SECONDS", 0.0)


@pytest.fixture(scope="module")
def router_peer() -> Iterator[RouterPeer]:
    peer = RouterPeer()
    server = ServerThread(peer.app()).start()
    peer.url = server.url
    yield peer
    server.stop()


@pytest.fixture
def router(router_peer: RouterPeer) -> RouterPeer:
    """The module's peer, as each test expects it to start."""
    router_peer.sent.clear()
    router_peer.answer = 200
    router_peer.owners = {OWNER: [ALPHA, BETA]}
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


def session_for(store_url: str, tenants: dict[str, str], *, subject: str = "oidc:test#u") -> str:
    """A session row made directly in the store (a user with these roles signed in); the
    cookie value that opens it."""
    token = secrets.token_urlsafe(32)
    engine = sync_engine(store_url)
    with engine.begin() as connection:
        connection.execute(
            insert(console_sessions).values(
                id=plain_hash(token), subject=subject, display="Test user", tenants=tenants,
                created_at=START, expires_at=START + timedelta(hours=12), last_seen_at=START,
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

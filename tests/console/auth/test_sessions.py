"""Sessions end when unused for a while and when the browser signs in again, and the
cleanup (a task of the app's own, not a side effect of asking for a code) empties the
console's tables of what no longer counts."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from console import housekeeping
from console.app import create_app
from console.auth.sessions import SESSION_COOKIE
from katha.store.console_tables import console_audit, console_login_codes, console_sessions
from katha.store.engines import sync_engine

from .conftest import (
    ALPHA,
    START,
    Clock,
    RouterPeer,
    console_settings,
    session_for,
    sign_in_with_code,
)

TOKENS = f"/api/v1/tenants/{ALPHA}/tokens"


def count(store_url: str, table: object) -> int:
    engine = sync_engine(store_url)
    with engine.connect() as connection:
        found = int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]
    engine.dispose()
    return found


def test_a_session_unused_for_two_hours_ends(
    client: TestClient, router: RouterPeer, clock: Clock
) -> None:
    sign_in_with_code(client, router)
    for _ in range(3):  # used every hour: it lives on
        clock.advance(minutes=60)
        assert client.get(TOKENS).status_code == 200
    clock.advance(minutes=120, seconds=1)
    assert client.get(TOKENS).status_code == 401


def test_signing_in_again_ends_the_browsers_previous_session(
    client: TestClient, router: RouterPeer
) -> None:
    sign_in_with_code(client, router)
    first = client.cookies[SESSION_COOKIE]
    sign_in_with_code(client, router)
    second = client.cookies[SESSION_COOKIE]
    assert second != first
    for cookie, status in ((first, 401), (second, 200)):
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, cookie)
        assert client.get(TOKENS).status_code == status


def seed_old_and_new(store_url: str) -> None:
    """One of each kind of row that the cleanup drops, and one of each it keeps."""
    session_for(store_url, {ALPHA: "owner"})  # START, live for 12 hours
    engine = sync_engine(store_url)
    code = {"code_hash": "c", "number_hash": "n", "client_hash": "x", "tenants": [],
            "attempts": 1}  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(console_login_codes).values(
            [{"id": "old", "created_at": START - timedelta(hours=25),
              "expires_at": START - timedelta(hours=24), **code},
             {"id": "new", "created_at": START - timedelta(hours=23),
              "expires_at": START - timedelta(hours=22), **code}]
        ))  # fmt: skip
        connection.execute(insert(console_audit).values(
            [{"at": START - timedelta(days=401), "subject": "s", "action": "sign_in"},
             {"at": START - timedelta(days=399), "subject": "s", "action": "sign_in"}]
        ))  # fmt: skip
    engine.dispose()


def test_the_cleanup_forgets_what_no_longer_counts(
    store_url: str, router: RouterPeer, clock: Clock
) -> None:
    seed_old_and_new(store_url)
    app = create_app(console_settings(store_url, router.url), clock=clock)
    with TestClient(app):  # the app's own task cleans up as it starts
        pass
    assert count(store_url, console_sessions) == 1  # still live
    assert count(store_url, console_login_codes) == 1  # the guess budget still counts it
    assert count(store_url, console_audit) == 1  # 399 days old: kept
    clock.advance(minutes=121)  # the session went idle
    with TestClient(create_app(console_settings(store_url, router.url), clock=clock)):
        pass
    assert count(store_url, console_sessions) == 0


async def test_the_cleanup_runs_on_a_timer(
    store_url: str, router: RouterPeer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[object] = []

    class StopError(Exception):
        """Ends the endless task once it has run three times."""

    async def counted(services: object) -> None:
        runs.append(services)
        if len(runs) == 3:
            raise StopError

    monkeypatch.setattr(housekeeping, "CLEANUP_SECONDS", 0.0)
    monkeypatch.setattr(housekeeping, "forget_old", counted)
    with pytest.raises(StopError):
        await housekeeping.keep_tidy(object())  # type: ignore[arg-type]
    assert len(runs) == 3

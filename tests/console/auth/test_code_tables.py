"""What the sign-in's limits ask of the console's tables, on SQLite and on PostgreSQL alike:
a day's budget of wrong codes per number over all its codes, checked in the statement that
spends an attempt; a code that signs in once and gives back its right attempt; and the
cleanup of idle sessions, old codes and old audit entries."""

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from postgres_server import running_postgres

from katha.store import ConversationStore, upgrade
from katha.store.console_tables import AuditRow, ConsoleTables, LoginCodeRow, SessionRow

from .conftest import START

DAY = (START - timedelta(hours=24), 10)  # the budget: since, most


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def tables(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConsoleTables]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres")
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("DROP SCHEMA public CASCADE")
            admin.execute("CREATE SCHEMA public")
    upgrade(url)
    async with ConversationStore.from_url(url) as store:
        yield ConsoleTables.of(store)


def code(code_id: str, number: str = "n1", minutes: int = 0) -> LoginCodeRow:
    at = START + timedelta(minutes=minutes)
    return LoginCodeRow(
        id=code_id, code_hash="h", number_hash=number, client_hash="c", tenants=[],
        attempts=0, created_at=at, expires_at=at + timedelta(minutes=10),
    )  # fmt: skip


async def test_wrong_codes_count_against_the_number_over_all_its_codes(
    tables: ConsoleTables,
) -> None:
    for code_id in ("a", "b", "c"):
        await tables.add_login_code(code(code_id))
    await tables.add_login_code(code("other", number="n2"))
    for code_id in ("a", "b"):
        for _ in range(5):
            assert await tables.spend_attempt(code_id, START, 5, budget=DAY) is not None
    assert await tables.failed_attempts("n1", DAY[0]) == 10
    assert await tables.spend_attempt("c", START, 5, budget=DAY) is None  # the day is spent
    assert await tables.spend_attempt("other", START, 5, budget=DAY) is not None  # not n2's
    tomorrow = (START + timedelta(hours=1), 10)
    assert await tables.spend_attempt("c", START, 5, budget=tomorrow) is not None


async def test_a_code_signs_in_once_and_its_right_attempt_is_not_a_failure(
    tables: ConsoleTables,
) -> None:
    await tables.add_login_code(code("a"))
    await tables.set_login_code_tenants("a", ["shops/alpha"])
    spent = await tables.spend_attempt("a", START, 5, budget=DAY)
    assert spent is not None
    assert spent.tenants == ["shops/alpha"]
    assert await tables.consume_login_code("a")
    assert not await tables.consume_login_code("a")
    assert await tables.spend_attempt("a", START, 5, budget=DAY) is None  # dead
    assert await tables.failed_attempts("n1", DAY[0]) == 0
    assert await tables.login_codes_since(START, number_hash="n1") == 1  # still counted
    await tables.delete_login_code("a")
    assert await tables.login_codes_since(START, number_hash="n1") == 0


async def test_the_cleanup_drops_idle_sessions_old_codes_and_old_audit(
    tables: ConsoleTables,
) -> None:
    for session_id, seen in (("idle", START - timedelta(hours=3)), ("busy", START)):
        await tables.add_session(
            SessionRow(
                id=session_id, subject="s", display="d", tenants={},
                created_at=START - timedelta(hours=4), expires_at=START + timedelta(hours=8),
                last_seen_at=seen,
            )
        )  # fmt: skip
    idle_since = START - timedelta(hours=2)
    assert await tables.session("idle", START, idle_since) is None
    assert await tables.session("busy", START, idle_since) is not None
    await tables.add_audit(
        AuditRow(at=START - timedelta(days=401), subject="s", action="old"),
        AuditRow(at=START - timedelta(days=1), subject="s", action="new"),
    )
    await tables.add_login_code(code("old", minutes=-25 * 60))
    await tables.add_login_code(code("new", minutes=-23 * 60))
    await tables.forget_expired(
        START,
        START - timedelta(hours=24),
        idle_since=idle_since,
        audit_before=START - timedelta(days=400),
    )
    assert await tables.session("idle", START) is None  # gone, not only hidden
    assert await tables.session("busy", START) is not None
    assert [row.action for row in await tables.audit_log()] == ["new"]
    assert await tables.login_code("old") is None
    assert await tables.login_code("new") is not None

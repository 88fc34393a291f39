"""The store on both of its databases: every test that takes `store_url` or `store` runs on
a SQLite file and on a real PostgreSQL server (Debian's, started on loopback by
tests/support/postgres_server.py), each time in a fresh database migrated to the newest
revision."""

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from postgres_server import running_postgres, scratch_database

from katha.store import ConversationStore, StoreEvent, upgrade

DATABASES = ["sqlite", "postgresql"]
TENANT = "shops/ceylon-spice"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

EventFactory = Callable[..., StoreEvent]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    try:
        with running_postgres() as url:
            yield url
    except (FileNotFoundError, RuntimeError) as error:
        pytest.fail(str(error))


def fresh_database(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of `kind`, removed after the test."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    with scratch_database(server, "store") as url:
        yield url


@pytest.fixture(params=DATABASES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet, on each database the store runs on."""
    yield from fresh_database(request, request.param, tmp_path)


@pytest.fixture
def store_url(empty_url: str) -> str:
    """A database migrated to the newest revision."""
    upgrade(empty_url)
    return empty_url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[ConversationStore]:
    async with ConversationStore.from_url(store_url) as opened:
        yield opened


@pytest.fixture
def event() -> EventFactory:
    """A StoreEvent: `number` gives a distinct event id and a time `number` minutes after
    START; every other field may be given."""

    def make(number: int, **fields: Any) -> StoreEvent:
        values: dict[str, Any] = {
            "event_id": f"wamid.{number}",
            "tenant": TENANT,
            "conversation_id": "c-1",
            "at": START + timedelta(minutes=number),
            "author": "customer",
            "text": f"message {number}",
        }
        return StoreEvent(**(values | fields))

    return make

"""Conversation memory in a real PostgreSQL server when KATHA_AGENT_POSTGRES_URL is set.

The server is Debian's `postgresql` package, started by `tests/support/postgres_server.py`
on a loopback port; each test gets a database of its own.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from postgres_server import running_postgres, scratch_database

from agent_runtime.api.app import create_app
from agent_runtime.memory import forget_expired
from agent_runtime.state import HISTORY_TURNS

from .conftest import AgentFactory, ask
from .test_memory import history


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    try:
        with running_postgres() as url:
            yield url
    except (FileNotFoundError, RuntimeError) as error:
        pytest.fail(str(error))


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database on the shared server, dropped after the test."""
    with scratch_database(postgres_server) as url:
        yield url


def count(url: str, sql: str, *params: Any) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def test_a_conversation_is_remembered_by_another_replica_sharing_postgres(
    make_agent: AgentFactory, postgres_url: str, index_root: Path
) -> None:
    settings = {"postgres_url": postgres_url}
    first, second = make_agent(settings=settings), make_agent(settings=settings)
    with TestClient(create_app(first)) as client:
        ask(client, "What time do you open?", conversation="alpha", number=1)
    with TestClient(create_app(second)) as client:
        ask(client, "Can I pay by card?", conversation="alpha", number=2)
    turns = history(first, "alpha")  # the first replica sees what the second answered
    assert [(turn.role, turn.text) for turn in turns[:2]] == [
        ("customer", "What time do you open?"),
        (
            "agent",
            "We are open every day from 6.30 am to 9 pm, and from 8 am to 1 pm on Poya days.",
        ),
    ]
    assert [turn.text for turn in turns[2::2]] == ["Can I pay by card?"]
    assert len(turns) == 4
    # Nothing of the conversation went to the volume.
    assert not (index_root / "tenants" / "mihiri" / "conversations.sqlite").exists()
    assert count(postgres_url, "SELECT COUNT(*) FROM checkpoints WHERE thread_id = 'alpha'") == 1


def test_history_in_postgres_is_bounded(make_agent: AgentFactory, postgres_url: str) -> None:
    agent = make_agent(settings={"postgres_url": postgres_url})
    with TestClient(create_app(agent)) as client:
        for number in range(HISTORY_TURNS):
            ask(client, "thanks", conversation="long", number=number)
    assert len(history(agent, "long")) == HISTORY_TURNS
    # Only the latest checkpoint is stored, with only the blobs it refers to.
    assert count(postgres_url, "SELECT COUNT(*) FROM checkpoints WHERE thread_id = 'long'") == 1
    blobs = count(postgres_url, "SELECT COUNT(*) FROM checkpoint_blobs WHERE thread_id = 'long'")
    assert blobs < HISTORY_TURNS


def shifted_clock() -> tuple[Callable[[], datetime], Callable[[timedelta], None]]:
    shift = [timedelta(0)]

    def clock() -> datetime:
        return datetime.now(UTC) + shift[0]

    def advance(by: timedelta) -> None:
        shift[0] += by

    return clock, advance


def test_conversations_in_postgres_past_their_retention_are_forgotten(
    make_agent: AgentFactory, postgres_url: str
) -> None:
    clock, advance = shifted_clock()
    settings = {"postgres_url": postgres_url, "conversation_retention_days": 30}
    agent = make_agent(settings=settings, clock=clock)
    with TestClient(create_app(agent)) as client:
        for conversation in ("kept", "expired", "idle"):
            ask(client, "What time do you open?", conversation=conversation, number=1)
        advance(timedelta(days=29))
        ask(client, "Can I pay by card?", conversation="kept", number=2)
        assert len(history(agent, "kept")) == 4  # within the retention: remembered
        assert forget_expired(agent.saver, agent.retention, clock) == 0
        advance(timedelta(days=2))
        ask(client, "thanks", conversation="expired", number=2)
    # Past the retention: forgotten before the next message was answered.
    assert history(agent, "expired")[0].text == "thanks"
    assert len(history(agent, "expired")) == 2
    # In bulk (a replica's start): checkpoints carry the real time, so by this clock all
    # three conversations are now 31 days old.
    assert forget_expired(agent.saver, agent.retention, clock) == 3
    assert history(agent, "idle") == []
    assert count(postgres_url, "SELECT COUNT(*) FROM checkpoints") == 0
    assert count(postgres_url, "SELECT COUNT(*) FROM checkpoint_blobs") == 0

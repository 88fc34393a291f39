"""One customer's data held by the agent: exported and deleted through its HTTP API, and
kept within the retention period every day even when the agent is quiet."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent_runtime import customers
from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.customers import apply_retention

from .conftest import AgentFactory, ask

PIZZA = "Do you sell pizza?"
# Conversation ids as the router makes them ("c-" and 30 hex digits).
ALPHA, BETA = "c-" + "a1" * 15, "c-" + "b2" * 15
OPEN = "What time do you open?"


def _rows(path: Path, needle: str) -> int:
    """Rows of any table in a SQLite file with a column that contains `needle`."""
    found = 0
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for values in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - the file's own tables
                found += any(needle.encode() in _bytes(value) for value in values)
    return found


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def test_a_customer_is_exported_then_deleted_everywhere_the_agent_keeps_them(
    make_agent: AgentFactory, index_root: Path
) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        ask(client, OPEN, conversation=ALPHA, number=1)
        assert ask(client, PIZZA, conversation=ALPHA, number=2)["handoff"] is True
        ask(client, PIZZA, conversation=BETA, number=1)
        exported = client.get(f"/v1/customers/{ALPHA}").json()
        assert exported["conversation_id"] == ALPHA
        turns = [(turn["role"], turn["text"]) for turn in exported["memory"]["history"]]
        assert turns[0] == ("customer", OPEN)
        assert ("customer", PIZZA) in turns
        assert [item["text"] for item in exported["unanswered"]] == [PIZZA]

        deleted = client.delete(f"/v1/customers/{ALPHA}")
        assert deleted.status_code == 200
        counts = deleted.json()["deleted"]
        assert counts["checkpoints"] > 0
        assert counts["unanswered"] == 1
        again = client.delete(f"/v1/customers/{ALPHA}").json()["deleted"]
        assert again == {"checkpoints": 0, "unanswered": 0}
        gone = client.get(f"/v1/customers/{ALPHA}").json()
        assert gone["memory"] is None
        assert gone["unanswered"] == []
        other = client.get(f"/v1/customers/{BETA}").json()
        assert [item["text"] for item in other["unanswered"]] == [PIZZA]
    state = index_root / "tenants" / "mihiri"
    for name in ("conversations.sqlite", "unanswered.sqlite"):
        assert _rows(state / name, ALPHA) == 0, name
        assert _rows(state / name, BETA) > 0, name


def test_an_odd_conversation_id_is_refused(make_agent: AgentFactory) -> None:
    with TestClient(create_app(make_agent())) as client:
        assert client.delete("/v1/customers/a b").status_code == 422
        assert client.get("/v1/customers/" + "x" * 200).status_code == 422
        # Only the router's form: "c-" alone or cut short would name others' records.
        for wrong in ("c-", ALPHA[:6], ALPHA + "0", ALPHA.upper()):
            assert client.delete(f"/v1/customers/{wrong}").status_code == 422, wrong
            assert client.get(f"/v1/customers/{wrong}").status_code == 422, wrong


@pytest.mark.parametrize(
    ("pod_name", "scope"),
    [(None, "shared"), ("mihiri-agent-7c9d-x2kq", "replica")],
    ids=["one-state-for-every-replica", "a-state-folder-per-pod"],
)
def test_the_answer_says_whether_other_replicas_keep_their_own_copy(
    make_agent: AgentFactory, monkeypatch: pytest.MonkeyPatch, pod_name: str | None, scope: str
) -> None:
    # The operator names the pod only when replicas on several nodes each keep their own
    # state folder on the shared volume (render/index.py serving_storage).
    if pod_name is None:
        monkeypatch.delenv(customers.POD_NAME_ENV, raising=False)
    else:
        monkeypatch.setenv(customers.POD_NAME_ENV, pod_name)
    with TestClient(create_app(make_agent())) as client:
        ask(client, PIZZA, conversation=ALPHA)
        expected = {"memory": scope, "unanswered": scope}
        assert client.get(f"/v1/customers/{ALPHA}").json()["state"] == expected
        assert client.delete(f"/v1/customers/{ALPHA}").json()["state"] == expected


def test_retention_empties_both_stores_of_a_quiet_agent(make_agent: AgentFactory) -> None:
    now = [datetime.now(UTC)]
    agent = make_agent(clock=lambda: now[0])
    with TestClient(create_app(agent)) as client:
        assert ask(client, PIZZA, conversation="c-old")["handoff"] is True
    now[0] += agent.retention + timedelta(days=1)
    assert apply_retention(agent) == 1
    exported_memory = agent.saver.get_tuple({"configurable": {"thread_id": "c-old"}})
    assert exported_memory is None
    assert agent.unanswered.export_conversation("c-old") == []


def test_the_app_keeps_retention_daily_for_its_life(
    make_agent: AgentFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Agent] = []

    async def daily(agent: Agent) -> None:
        started.append(agent)
        await asyncio.Event().wait()  # cancelled when the app stops

    monkeypatch.setattr(customers, "keep_retention", daily)
    agent = make_agent()
    with TestClient(create_app(agent)):
        assert started == [agent]


async def test_the_daily_pass_forgets_what_expired(
    make_agent: AgentFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [datetime.now(UTC)]
    agent = make_agent(clock=lambda: now[0])
    agent.unanswered.add("en", PIZZA, conversation_id="c-old")
    now[0] += agent.retention + timedelta(days=1)
    passed, loop = asyncio.Event(), asyncio.get_running_loop()

    def one_pass(of: Agent) -> int:  # runs in a worker thread
        gone = apply_retention(of)
        loop.call_soon_threadsafe(passed.set)
        return gone

    monkeypatch.setattr(customers, "apply_retention", one_pass)
    task = asyncio.create_task(customers.keep_retention(agent, every_seconds=0.01))
    try:
        await passed.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert agent.unanswered.export_conversation("c-old") == []

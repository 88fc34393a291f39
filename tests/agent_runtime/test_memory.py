"""Conversation memory: kept per conversation on the tenant's volume, bounded, and forgotten."""

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent_runtime.agent import Agent, retention_days
from agent_runtime.api.app import create_app
from agent_runtime.memory import forget_expired
from agent_runtime.settings import AgentSettings
from agent_runtime.state import HISTORY_TURNS
from katha.contracts.serving import AgentAppArgs

from .bakery import bakery_spec
from .conftest import AgentFactory, ask


def history(agent: Agent, conversation: str) -> list[Any]:
    state = agent.graph.get_state({"configurable": {"thread_id": conversation}})
    turns: list[Any] = state.values.get("history", [])
    return turns


def test_each_conversation_remembers_its_own_turns_on_the_tenants_volume(
    make_agent: AgentFactory, index_root: Path
) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        ask(client, "What time do you open?", conversation="alpha", number=1)
        ask(client, "ආයුබෝවන්", conversation="beta", number=1)
    assert [(turn.role, turn.text) for turn in history(agent, "alpha")] == [
        ("customer", "What time do you open?"),
        (
            "agent",
            "We are open every day from 6.30 am to 9 pm, and from 8 am to 1 pm on Poya days.",
        ),
    ]
    assert [turn.language for turn in history(agent, "beta")] == ["si", "si"]
    assert (index_root / "tenants" / "mihiri" / "conversations.sqlite").is_file()


def test_memory_survives_a_new_replica_on_the_same_volume(make_agent: AgentFactory) -> None:
    with TestClient(create_app(make_agent())) as client:
        ask(client, "Can I pay by card?", conversation="gamma", number=1)
    assert len(history(make_agent(), "gamma")) == 2


def test_history_is_bounded(make_agent: AgentFactory) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        for number in range(HISTORY_TURNS):
            ask(client, "thanks", conversation="long", number=number)
    turns = history(agent, "long")
    assert len(turns) == HISTORY_TURNS
    # Only the latest checkpoint is stored: the file does not grow with the conversation.
    stored = agent.saver.conn.execute(  # type: ignore[attr-defined]
        "SELECT COUNT(*) FROM checkpoints WHERE thread_id = 'long'"
    ).fetchone()[0]
    assert stored == 1


def test_a_conversation_past_its_retention_is_forgotten(make_agent: AgentFactory) -> None:
    seconds = 0.3
    agent = make_agent(settings={"conversation_retention_days": seconds / 86400})
    with TestClient(create_app(agent)) as client:
        ask(client, "What time do you open?", conversation="old", number=1)
        ask(client, "Can I pay by card?", conversation="older", number=1)
        time.sleep(seconds + 0.1)
        ask(client, "thanks", conversation="old", number=2)
    assert history(agent, "old")[0].text == "thanks"
    assert forget_expired(agent.saver, agent.retention) == 1  # "older"
    assert history(agent, "older") == []


def test_the_business_sets_the_retention_unless_the_environment_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = bakery_spec()
    spec["memory"] = {"retentionDays": 7.5}
    args = AgentAppArgs.model_validate({"tenant": "demo/bakery", "business": spec})
    monkeypatch.delenv("KATHA_AGENT_CONVERSATION_RETENTION_DAYS", raising=False)
    assert retention_days(args, AgentSettings()) == 7.5
    monkeypatch.setenv("KATHA_AGENT_CONVERSATION_RETENTION_DAYS", "2")
    assert retention_days(args, AgentSettings()) == 2

"""Owner notes (`POST /v1/notes`): what the owner wrote to a customer from the WhatsApp
Business app is kept in that conversation's memory, once, and later answers heed it.

The model is the loopback OpenAI-compatible peer, recording each chat request: what the
model was shown is read from there.
"""

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from peers.openai_compatible import ChatServer

from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.memory import forget_expired
from katha.contracts.messages import AGENT_NOTES_PATH
from katha.observability import configure_logging

from .conftest import TEA_SHOP, AgentFactory, ask
from .test_memory import history
from .test_memory_postgres import postgres_server, postgres_url  # noqa: F401 - fixtures

PROMISE = "Your chocolate fudge cake will be ready at 5pm today 🎂"


def note(
    text: str = PROMISE, *, conversation: str = "cake", number: int = 1, **fields: Any
) -> dict[str, Any]:
    """An OwnerNote as the router posts it: the echo of what the owner sent."""
    return {
        "message_id": f"wamid.owner.{conversation}.{number}",
        "tenant": "tenants/mihiri",
        "conversation_id": conversation,
        "timestamp": datetime.now(UTC).isoformat(),
        "text": text,
        **fields,
    }


def keep(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post(AGENT_NOTES_PATH, json=body)
    assert response.status_code == 204, response.text
    assert response.content == b""


def with_model(make_agent: AgentFactory, chat_server: ChatServer, **args: Any) -> Agent:
    return make_agent(llm={"base_url": f"{chat_server.base}/v1", "model": "sinhala-llm"}, **args)


def roles(agent: Agent, conversation: str) -> list[tuple[str, str]]:
    return [(turn.role, turn.text) for turn in history(agent, conversation)]


def owner_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [message for message in request["messages"] if message.get("name") == "owner"]


def test_a_note_is_kept_without_an_answer_and_nothing_is_sent(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    agent = with_model(make_agent, chat_server)
    with TestClient(create_app(agent)) as client:
        keep(client, note())
    assert chat_server.requests == []  # the graph did not run: no model, no reply
    assert roles(agent, "cake") == [("owner", PROMISE)]
    assert agent.metrics.answers.collect()[0].samples == []  # no answer was counted


def test_the_model_sees_the_owners_words_as_the_owners_not_its_own(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "Your cake will be ready at 5pm today 😊"
    agent = with_model(make_agent, chat_server)
    with TestClient(create_app(agent)) as client:
        ask(client, "Do you make chocolate cakes?", conversation="cake", number=1)
        keep(client, note())
        reply = ask(client, "When is my cake ready?", conversation="cake", number=2)
    # "5" is in no fact of the knowledge: it stands because the owner said it.
    assert reply["text"] == "Your cake will be ready at 5pm today 😊"
    assert reply["handoff"] is False
    request = chat_server.requests[-1]
    assert owner_messages(request) == [{"role": "assistant", "content": PROMISE, "name": "owner"}]
    assert [message["role"] for message in request["messages"]] == [
        "system",
        "user",  # Do you make chocolate cakes?
        "assistant",  # the agent's answer
        "assistant",  # the owner, by name
        "user",  # When is my cake ready?
    ]
    assert "name" not in request["messages"][2]  # the agent's own answer is not the owner's
    system = request["messages"][0]["content"]
    assert f"[owner] {PROMISE}" in system
    assert "The owner of Mihiri Bakery, a person, also wrote to this customer" in system
    assert "never contradict them" in system
    assert [role for role, _ in roles(agent, "cake")] == [
        "customer",
        "agent",
        "owner",
        "customer",
        "agent",
    ]


def test_without_a_note_the_model_hears_nothing_of_an_owner(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "We open at 6.30 am every day."
    with TestClient(create_app(with_model(make_agent, chat_server))) as client:
        ask(client, "What time do you open?", conversation="plain")
    request = chat_server.requests[-1]
    assert owner_messages(request) == []
    assert "owner" not in request["messages"][0]["content"]


def test_a_note_in_one_conversation_never_reaches_another(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "HANDOFF"
    agent = with_model(make_agent, chat_server)
    with TestClient(create_app(agent)) as client:
        keep(client, note(conversation="alpha"))
        ask(client, "When is my cake ready?", conversation="beta", number=1)
    sent = json.dumps(chat_server.requests, ensure_ascii=False)
    assert "5pm" not in sent
    assert owner_messages(chat_server.requests[-1]) == []
    assert [role for role, _ in roles(agent, "beta")] == ["customer", "agent"]
    assert roles(agent, "alpha") == [("owner", PROMISE)]


def test_a_redelivered_note_is_kept_once(make_agent: AgentFactory) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        keep(client, note(number=1))
        keep(client, note(number=1))  # the same echo, delivered again
        keep(client, note("ok", number=2))
        keep(client, note("ok", number=3))  # the owner said "ok" twice: two messages
        keep(client, note(number=1))
    assert roles(agent, "cake") == [("owner", PROMISE), ("owner", "ok"), ("owner", "ok")]


def test_a_note_for_another_tenant_is_refused_and_not_kept(make_agent: AgentFactory) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        response = client.post(AGENT_NOTES_PATH, json=note(tenant=TEA_SHOP))
    assert response.status_code == 409
    assert history(agent, "cake") == []


def test_without_a_model_the_owners_promise_is_the_answer(make_agent: AgentFactory) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        # Without the note, the knowledge's nearest FAQ answers ("order ... two days in advance").
        general = ask(client, "When will my cake be ready?", conversation="other", number=1)
        keep(client, note())
        reply = ask(client, "When will my cake be ready?", conversation="cake", number=1)
    assert general["text"] != PROMISE
    assert general["sources"]
    assert reply["text"] == PROMISE
    assert reply["handoff"] is False
    assert reply["sources"] == []  # the owner's words, not the knowledge's


def test_the_owners_words_answer_what_the_knowledge_does_not(make_agent: AgentFactory) -> None:
    sent = "Your parcel was sent this morning with Sunil"
    with TestClient(create_app(make_agent())) as client:
        unknown = ask(client, "Has my parcel been sent?", conversation="other", number=1)
        keep(client, note(sent, conversation="parcel"))
        reply = ask(client, "Has my parcel been sent?", conversation="parcel", number=1)
    assert unknown["handoff_reason"] == "low_confidence"  # the knowledge has no answer
    assert reply["text"] == sent
    assert reply["handoff"] is False


def test_the_model_is_asked_when_only_the_owners_words_may_answer(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    sent = "Your parcel was sent this morning with Sunil"
    chat_server.reply = lambda request: "Yes, Sunil took it this morning."
    with TestClient(create_app(with_model(make_agent, chat_server))) as client:
        keep(client, note(sent, conversation="parcel"))
        reply = ask(client, "Has my parcel been sent?", conversation="parcel", number=1)
    assert reply["text"] == "Yes, Sunil took it this morning."
    assert f"[owner] {sent}" in chat_server.requests[-1]["messages"][0]["content"]


def test_a_question_the_knowledge_fits_better_keeps_the_knowledges_answer(
    make_agent: AgentFactory,
) -> None:
    with TestClient(create_app(make_agent())) as client:
        keep(client, note())
        reply = ask(client, "How much is the chocolate fudge cake?", conversation="cake", number=1)
    assert "4,800" in reply["text"]
    assert reply["sources"]


def test_a_note_the_question_is_not_about_is_not_the_answer(make_agent: AgentFactory) -> None:
    with TestClient(create_app(make_agent())) as client:
        keep(client, note())
        reply = ask(client, "Do you sell pizza?", conversation="cake", number=1)
    assert reply["handoff"] is True
    assert reply["handoff_reason"] == "low_confidence"


def test_notes_are_forgotten_with_their_conversation(make_agent: AgentFactory) -> None:
    agent = make_agent(settings={"conversation_retention_days": 30})
    with TestClient(create_app(agent)) as client:
        keep(client, note(conversation="old"))
    later = datetime.now(UTC) + timedelta(days=31)
    assert forget_expired(agent.saver, agent.retention, lambda: later) == 1
    assert history(agent, "old") == []


def test_a_note_after_the_retention_starts_the_conversation_afresh(
    make_agent: AgentFactory,
) -> None:
    shift = [timedelta(0)]
    agent = make_agent(
        settings={"conversation_retention_days": 30},
        clock=lambda: datetime.now(UTC) + shift[0],
    )
    with TestClient(create_app(agent)) as client:
        ask(client, "What time do you open?", conversation="cake", number=1)
        shift[0] = timedelta(days=31)
        keep(client, note())
    assert roles(agent, "cake") == [("owner", PROMISE)]


def test_a_note_and_its_conversation_are_shared_by_replicas_on_postgres(
    make_agent: AgentFactory,
    chat_server: ChatServer,
    postgres_url: str,  # noqa: F811 - the fixture
) -> None:
    settings = {"postgres_url": postgres_url}
    first = make_agent(settings=settings)
    second = with_model(make_agent, chat_server, settings=settings)
    chat_server.reply = lambda request: "It will be ready at 5pm today."
    with TestClient(create_app(first)) as client:
        keep(client, note())
    with TestClient(create_app(second)) as client:
        keep(client, note())  # redelivered to the other replica: still kept once
        reply = ask(client, "When is my cake ready?", conversation="cake", number=1)
    assert reply["text"] == "It will be ready at 5pm today."
    assert owner_messages(chat_server.requests[-1]) == [
        {"role": "assistant", "content": PROMISE, "name": "owner"}
    ]
    assert [role for role, _ in roles(first, "cake")] == ["owner", "customer", "agent"]


def test_the_logs_never_hold_the_notes_words(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    log = io.StringIO()
    configure_logging("DEBUG", "json", log)  # as a replica does, at its most verbose
    chat_server.reply = lambda request: "Your cake will be ready at 5pm today."
    with TestClient(create_app(with_model(make_agent, chat_server))) as client:
        keep(client, note())
        keep(client, note())
        ask(client, "When is my cake ready?", conversation="cake", number=1)
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    assert {"owner_note.kept", "owner_note.repeated"} <= {event["event"] for event in events}
    assert "chocolate" not in log.getvalue()
    assert "5pm" not in log.getvalue()

"""Customers are known by a business-scoped user id (BSUID) since 2026, with or without a
phone number Meta shares: a conversation, its memory, its handoff and its limits follow
the customer through a username-only chat and a change of id (WhatsApp Cloud API, 2026
shapes: `contacts[].user_id`, `messages[].from_user_id`, `system.user_changed_user_id`)."""

import time
from collections.abc import Callable
from typing import Any

from harness import RouterHarness, Tenant, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import BUSINESS_DISPLAY_NUMBER, echo, echoes, message_id

from katha.contracts.messages import AgentReply

Agents = dict[str, tuple[Agent, ServerThread]]
OLD_ID = "LK.13491208655302741918"
NEW_ID = "LK.99120865530274191834"
PHONE = "94770005555"
OWNER = "94771112222"
OWNER_ID = "LK.55501208655302741918"


def _value(router: RouterHarness, messages: list[dict[str, Any]], contacts: list[Any]) -> Any:
    alpha = router.tenants["alpha"]
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": BUSINESS_DISPLAY_NUMBER,
            "phone_number_id": alpha.phone_number_id,
        },
        "messages": messages,
    }
    if contacts:
        value["contacts"] = contacts
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    response = router.post(payload, alpha.app_secret)
    assert response.status_code == 200, response.text


def _text(body: str, *, user_id: str | None, phone: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": message_id(),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": body},
    }
    if user_id:
        message["from_user_id"] = user_id
    if phone:
        message["from"] = phone
    return message


def _contact(user_id: str | None, phone: str | None = None, username: str | None = None) -> Any:
    profile: dict[str, str] = {"name": "Sheena"}
    if username:
        profile["username"] = username
    contact: dict[str, Any] = {"profile": profile}
    if user_id:
        contact["user_id"] = user_id
    if phone:
        contact["wa_id"] = phone
    return contact


def test_a_username_only_customer_gets_exactly_one_reply_addressed_by_bsuid(
    harness: RouterHarness, graph: GraphApi, agents: Agents
) -> None:
    contact = _contact(OLD_ID, username="@sheena")
    _value(harness, [_text("Do you have chocolate cake?", user_id=OLD_ID)], [contact])
    (reply,) = wait_for(lambda: graph.texts(), what="the reply")
    assert reply.body["recipient"] == OLD_ID
    assert "to" not in reply.body  # no phone number was shared
    time.sleep(0.5)
    assert len(graph.texts()) == 1
    assert agents["alpha"][0].received[0].text == "Do you have chocolate cake?"


def test_a_bsuid_change_keeps_the_conversation_and_is_not_answered(
    harness: RouterHarness, graph: GraphApi, agents: Agents
) -> None:
    agent = agents["alpha"][0]
    _value(harness, [_text("I ordered a cake", user_id=OLD_ID)], [_contact(OLD_ID)])
    wait_for(lambda: agent.received, what="the first message")
    change = {
        "id": message_id(),
        "from_user_id": OLD_ID,
        "timestamp": str(int(time.time())),
        "type": "system",
        "system": {
            "body": f"User Sheena changed from {OLD_ID} to {NEW_ID}",
            "user_id": NEW_ID,
            "previous_user_id": OLD_ID,
            "type": "user_changed_user_id",
        },
    }
    _value(harness, [change], [])
    _value(harness, [_text("is it ready?", user_id=NEW_ID)], [_contact(NEW_ID)])
    wait_for(lambda: len(agent.received) == 2, what="the message from the new id")
    first, second = agent.received
    assert second.conversation_id == first.conversation_id  # the agent's memory goes on
    assert [m.text for m in agent.received] == ["I ordered a cake", "is it ready?"]
    replies = wait_for(lambda: graph.texts()[1:], what="the second reply")
    assert replies[0].body["recipient"] == NEW_ID
    assert 'katha_router_identity_changes_total{result="merged",tenant="tenants/alpha"} 1.0' in (
        harness.metrics()
    )


def test_a_customer_known_by_phone_keeps_the_conversation_when_their_bsuid_appears(
    harness: RouterHarness, agents: Agents
) -> None:
    agent = agents["alpha"][0]
    _value(harness, [_text("hello", user_id=None, phone=PHONE)], [_contact(None, PHONE)])
    wait_for(lambda: agent.received, what="the first message")
    both = [_text("still there?", user_id=OLD_ID, phone=PHONE)]
    _value(harness, both, [_contact(OLD_ID, PHONE)])
    _value(harness, [_text("and now?", user_id=OLD_ID)], [_contact(OLD_ID)])
    wait_for(lambda: len(agent.received) == 3, what="every message")
    assert len({message.conversation_id for message in agent.received}) == 1


def test_an_owner_who_writes_first_keeps_the_customer_whose_reply_names_a_bsuid(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    """The owner starts a chat from the Business app (the echo names only the number); the
    customer's reply, in 2026's shape, names their BSUID too: it is the same conversation,
    with the owner, so the agent says nothing."""
    router = start_router()
    alpha = router.tenants["alpha"]
    started = router.post(echoes(alpha.phone_number_id, [echo("Your cake is ready", to=PHONE)]),
                          alpha.app_secret)  # fmt: skip
    assert started.status_code == 200
    agent = agents["alpha"][0]
    (note,) = wait_for(lambda: agent.notes, what="the owner's words at the agent")
    _value(router, [_text("thanks! coming at 5", user_id=OLD_ID, phone=PHONE)],
           [_contact(OLD_ID, PHONE)])  # fmt: skip
    _value(router, [_text("see you", user_id=OLD_ID)], [_contact(OLD_ID)])
    time.sleep(0.5)
    assert agent.received == []  # the owner is talking to them
    assert graph.texts() == []
    router.say("alpha", "someone else", sender="94770001234")
    wait_for(lambda: agent.received, what="another customer's answer")
    assert agent.received[0].conversation_id != note.conversation_id


def test_the_owners_window_is_seen_whichever_id_they_write_with(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """The first handoff looks the owner up by number before they ever wrote; later they
    write with their BSUID and number: the next notice goes as words, not a template."""
    tenants["alpha"].extra.update(
        owner_number="+" + OWNER,
        templates={"handoff_notice": {"name": "katha_handoff", "languages": ["en"]}},
    )
    agent = agents["alpha"][0]
    agent.answer = lambda message: AgentReply(
        message_id=message.message_id, text="A person will help.", handoff=True
    )
    router = start_router()
    router.say("alpha", "refund please", sender=PHONE)
    first = wait_for(lambda: [c for c in graph.texts() if c.to == OWNER], what="the notice")[0]
    assert first.template is not None  # the owner never wrote
    _value(router, [_text("good morning", user_id=OWNER_ID, phone=OWNER)],
           [_contact(OWNER_ID, OWNER)])  # fmt: skip
    time.sleep(0.3)
    router.say("alpha", "me too, refund", sender="94770001234")
    notices = wait_for(
        lambda: [c for c in graph.texts() if c.to == OWNER][1:], what="the second notice"
    )
    assert notices[0].template is None
    assert "refund" in (notices[0].text or "") or "person" in (notices[0].text or "")

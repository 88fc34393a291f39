"""Customers are known by a business-scoped user id (BSUID) since 2026, with or without a
phone number Meta shares: a conversation, its memory, its handoff and its limits follow
the customer through a username-only chat and a change of id (WhatsApp Cloud API, 2026
shapes: `contacts[].user_id`, `messages[].from_user_id`, `system.user_changed_user_id`)."""

import time
from typing import Any

from harness import RouterHarness, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import BUSINESS_DISPLAY_NUMBER, message_id

Agents = dict[str, tuple[Agent, ServerThread]]
OLD_ID = "LK.13491208655302741918"
NEW_ID = "LK.99120865530274191834"
PHONE = "94770005555"


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

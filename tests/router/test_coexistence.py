"""Coexistence: the owner uses the same number in the WhatsApp Business app, and what they
type there reaches the router as `smb_message_echoes` webhooks. An echo hands that one
customer's conversation to the owner at once: the agent is not asked and nothing is sent
to the customer until the quiet period ends or the conversation is released."""

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import RouterClient, RouterHarness, RouterProcess, Tenant, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import echo, echoes
from ports import free_port

from router.payload import parse_notification

Agents = dict[str, tuple[Agent, ServerThread]]
OWNER = "94771234567"
CUSTOMER_A = "94770001111"
CUSTOMER_B = "94770002222"
_TAKEOVERS = r'katha_router_owner_takeovers_total\{tenant="[^"]*alpha"\} (\d+)\.0'


def _takeovers(router: RouterClient) -> int:
    found = re.search(_TAKEOVERS, httpx.get(f"{router.url}/metrics").text)
    return int(found.group(1)) if found else 0


def _owner_writes(router: RouterClient, entries: list[Any]) -> None:
    alpha = router.tenants["alpha"]
    response = router.post(echoes(alpha.phone_number_id, entries), alpha.app_secret)
    assert response.status_code == 200, response.text


def _taken_over(router: RouterHarness, entries: list[Any], count: int = 1) -> None:
    """The owner's echoes are posted and handled: the takeover counter says so."""
    _owner_writes(router, entries)
    wait_for(lambda: _takeovers(router) == count, what=f"{count} takeover(s)")


def _texts_to(graph: GraphApi, customer: str) -> list[str | None]:
    return [call.text for call in graph.texts() if call.to == customer]


def test_the_documented_echo_is_parsed_once_with_the_owners_words() -> None:
    payload = echoes("106540352242922", [echo("Here's the info you requested.", to=CUSTOMER_A)])
    found = parse_notification(payload)
    assert found.messages == []
    assert found.skipped == []
    assert found.unknown == []
    (parsed,) = found.echoes
    assert parsed.phone_number_id == "106540352242922"
    assert parsed.customer.wa_id == CUSTOMER_A
    assert parsed.raw_type == "text"
    assert parsed.message.text == "Here's the info you requested."  # for the agent's memory


def test_an_owner_echo_silences_the_bot_for_that_customer_only(
    start_router: Callable[..., RouterHarness],
    inbox_url: str,
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    tenants["alpha"].extra["owner_number"] = "+" + OWNER
    router = start_router(inbox_url)
    _taken_over(router, [echo("I'll sort this out myself", to=CUSTOMER_A)])

    router.say("alpha", "hello? how much is the cake?", sender=CUSTOMER_A)
    b_message = router.say("alpha", "are you open today?", sender=CUSTOMER_B)
    wait_for(lambda: _texts_to(graph, CUSTOMER_B), what="customer B's answer")
    time.sleep(0.5)
    assert [m.text for m in agents["alpha"][0].received] == ["are you open today?"]
    assert _texts_to(graph, CUSTOMER_A) == []
    # The agent keeps what the owner said, in customer A's conversation, and answers nothing.
    agent = agents["alpha"][0]
    (note,) = wait_for(lambda: agent.notes, what="the owner's words at the agent")
    assert note.text == "I'll sort this out myself"
    b_conversation = agent.received[0].conversation_id
    assert note.conversation_id != b_conversation
    assert note.tenant == "tenants/alpha"
    assert _texts_to(graph, OWNER) == []  # no notice: the owner is the one talking
    read = [call.body.get("message_id") for call in graph.calls if call.is_read_receipt]
    assert read == [b_message]  # A's message was not even marked read by the bot
    assert _takeovers(router) == 1


def test_the_quiet_period_is_extended_by_each_echo_and_ends_by_itself(
    start_router: Callable[..., RouterHarness], inbox_url: str, graph: GraphApi, agents: Agents
) -> None:
    # Margins of a second or more either side: a loaded CI machine handles echoes late.
    router = start_router(inbox_url, owner_quiet_seconds=3.0)
    agent = agents["alpha"][0]
    _taken_over(router, [echo("one moment", to=CUSTOMER_A)])
    time.sleep(1.5)
    _owner_writes(router, [echo("checking the oven now", to=CUSTOMER_A)])
    time.sleep(2.0)  # past the first quiet period, inside the second
    router.say("alpha", "still there?", sender=CUSTOMER_A)
    time.sleep(0.3)
    assert agent.received == []
    assert _takeovers(router) == 1  # extended, not taken over twice

    time.sleep(2.5)
    router.say("alpha", "hello again", sender=CUSTOMER_A)
    wait_for(lambda: _texts_to(graph, CUSTOMER_A), what="the bot again")
    assert [m.text for m in agent.received] == ["hello again"]


def test_the_owners_release_command_ends_the_takeover_early(
    start_router: Callable[..., RouterHarness],
    inbox_url: str,
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    tenants["alpha"].extra["owner_number"] = "+" + OWNER
    router = start_router(inbox_url)
    agent = agents["alpha"][0]
    router.say("alpha", "hi", sender=CUSTOMER_A)
    wait_for(lambda: _texts_to(graph, CUSTOMER_A), what="the first answer")
    _taken_over(router, [echo("I will answer you myself", to=CUSTOMER_A)])
    router.say("alpha", "ok, waiting", sender=CUSTOMER_A)
    time.sleep(0.3)
    assert len(agent.received) == 1

    ref = agent.received[0].conversation_id.removeprefix("c-")[:8]
    router.say("alpha", f"release {ref}", sender=OWNER)
    time.sleep(0.3)
    # The customer is told the assistant is back (their window is open: in words).
    wait_for(lambda: len(_texts_to(graph, CUSTOMER_A)) == 2, what="the follow-up")
    assert "is back to help you" in (_texts_to(graph, CUSTOMER_A)[1] or "")
    router.say("alpha", "back to the bot", sender=CUSTOMER_A)
    wait_for(lambda: len(_texts_to(graph, CUSTOMER_A)) == 3, what="the bot again")
    assert [m.text for m in agent.received] == ["hi", "back to the bot"]


def test_an_admin_call_ends_the_takeover(
    start_router: Callable[..., RouterHarness], inbox_url: str, graph: GraphApi, agents: Agents
) -> None:
    router = start_router(inbox_url, admin_token="admin-token-0123456789")
    agent = agents["alpha"][0]
    router.say("alpha", "hi", sender=CUSTOMER_A)
    wait_for(lambda: agent.received, what="the first answer")
    _taken_over(router, [echo("leave this one to me", to=CUSTOMER_A)])
    conversation = agent.received[0].conversation_id
    response = httpx.post(
        f"{router.url}/admin/conversations/{conversation}/release",
        headers={"Authorization": "Bearer admin-token-0123456789"},
    )
    assert response.json() == {"released": True}
    router.say("alpha", "thanks", sender=CUSTOMER_A)
    wait_for(lambda: len(agent.received) == 2, what="the agent again")


def test_a_malformed_echo_is_skipped_and_the_rest_of_the_batch_is_handled(
    start_router: Callable[..., RouterHarness], inbox_url: str, graph: GraphApi, agents: Agents
) -> None:
    router = start_router(inbox_url)
    no_id = echo("lost", to=CUSTOMER_B)
    del no_id["id"]
    nobody = echo("to whom?", to="")
    entries = ["not an echo", no_id, nobody, echo("I'll call you", to=CUSTOMER_A), 7]
    _taken_over(router, entries)
    skipped = r'katha_router_webhook_messages_skipped_total\{reason="malformed"\} 4\.0'
    assert re.search(skipped, router.metrics())

    router.say("alpha", "call me when?", sender=CUSTOMER_A)
    router.say("alpha", "hello", sender=CUSTOMER_B)
    wait_for(lambda: _texts_to(graph, CUSTOMER_B), what="customer B's answer")
    time.sleep(0.3)
    assert [m.text for m in agents["alpha"][0].received] == ["hello"]


def test_every_kind_of_echo_takes_over_and_a_redelivered_echo_counts_once(
    start_router: Callable[..., RouterHarness], inbox_url: str, graph: GraphApi, agents: Agents
) -> None:
    router = start_router(inbox_url)
    photo = echo("", to=CUSTOMER_A)
    del photo["text"]
    photo.update(type="image", image={"id": "1479537139650973", "mime_type": "image/jpeg"})
    edit = echo("", to=CUSTOMER_B, type="edit")
    _taken_over(router, [photo, edit], count=2)
    _owner_writes(router, [photo])  # Meta retries: the inbox has seen this id
    router.say("alpha", "nice photo", sender=CUSTOMER_A)
    router.say("alpha", "hello", sender=CUSTOMER_B)
    time.sleep(0.5)
    assert agents["alpha"][0].received == []
    assert graph.texts() == []
    assert _takeovers(router) == 2


@pytest.mark.slow
def test_an_echo_acknowledged_before_a_crash_still_takes_over_after_restart(
    tmp_path: Path,
    inbox_url: str,
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """The 200 means the echo is stored: a router that only accepts (no workers) is
    SIGKILLed right after it, and the next router on the same inbox hands the
    conversation to the owner all the same."""
    first = RouterProcess(tmp_path, inbox_url, graph, list(tenants.values()), free_port())
    first.env["KATHA_ROUTER_WORKERS_ENABLED"] = "false"
    first.start()
    try:
        _owner_writes(first, [echo("I'll take this one", to=CUSTOMER_A)])
        first.kill()
    finally:
        first.stop()
    second = RouterProcess(tmp_path, inbox_url, graph, list(tenants.values()), free_port())
    second.start()
    try:
        wait_for(lambda: _takeovers(second) == 1, timeout=60, what="the takeover after restart")
        second.say("alpha", "hello?", sender=CUSTOMER_A)
        second.say("alpha", "hello", sender=CUSTOMER_B)
        wait_for(lambda: _texts_to(graph, CUSTOMER_B), timeout=30, what="customer B's answer")
        time.sleep(0.3)
        assert [m.text for m in agents["alpha"][0].received] == ["hello"]
    finally:
        second.stop()

"""What the router itself decides per conversation: media it cannot forward gets a polite
answer in the customer's language, a handoff silences the agent until released, and a
sender who floods gets one polite reply, then silence."""

import re
import time
from collections.abc import Callable

import httpx
from harness import RouterHarness, Tenant, wait_for, write_routes
from peers.graph_api import GraphApi, GraphCall
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import message, notification, text

from katha.contracts.messages import AgentReply, InboundMessage, MessageType

Agents = dict[str, tuple[Agent, ServerThread]]
OWNER = "+94771234567"
CUSTOMER = "94770009999"


def test_media_gets_a_polite_text_only_answer_and_the_agent_is_not_asked(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router()
    alpha = router.tenants["alpha"]
    voice = message("audio", {"id": "1003383421387256", "mime_type": "audio/ogg", "voice": True})
    assert (
        router.post(notification(alpha.phone_number_id, [voice]), alpha.app_secret).status_code
        == 200
    )
    wait_for(lambda: graph.texts(), what="the canned reply")
    (reply,) = graph.texts()
    assert reply.text == "I can read text messages; please type your question."
    assert reply.reply_to == voice["id"]
    assert agents["alpha"][0].received == []


def sinhala_answers(message: InboundMessage) -> AgentReply:
    """The agent found Sinhala in the customer's words and answered in it."""
    return AgentReply(message_id=message.message_id, text="ඔව්, තියෙනවා.", language="si")


def test_the_polite_answer_follows_the_conversations_language(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    agents["alpha"][0].answer = sinhala_answers
    router = start_router()
    router.say("alpha", "ඔබට කොත්තු තියෙනවද?", sender=CUSTOMER)
    wait_for(lambda: graph.texts(), what="the first reply")
    alpha = router.tenants["alpha"]
    photo = message("image", {"id": "1479537139650973", "mime_type": "image/jpeg"}, sender=CUSTOMER)
    router.post(notification(alpha.phone_number_id, [photo]), alpha.app_secret)
    wait_for(lambda: len(graph.texts()) == 2, what="the canned reply")
    assert graph.texts()[1].text == "මට කියවිය හැක්කේ පෙළ පණිවිඩ පමණයි; කරුණාකර ඔබේ ප්‍රශ්නය ටයිප් කරන්න."
    answered = 'katha_router_answers_total{language="si",tenant="tenants/alpha"} 1.0'
    assert answered in router.metrics()


def test_the_router_learns_the_language_from_the_agent_and_hints_it_back(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    """The router detects nothing itself: what it remembers is what the agent answered
    in, and an answer whose language the agent did not know leaves the memory alone."""
    agent = agents["alpha"][0]
    languages = iter(["ta", "unknown", "unknown"])

    def answers(message: InboundMessage) -> AgentReply:
        return AgentReply(message_id=message.message_id, text="ok", language=next(languages))

    agent.answer = answers
    router = start_router()
    for sent, words in enumerate(["விலை என்ன?", "ok", "thanks"], start=1):
        router.say("alpha", words, sender=CUSTOMER)
        wait_for(lambda sent=sent: len(graph.texts()) == sent, what=f"reply {sent}")  # type: ignore[misc]
    hints = [inbound.previous_language for inbound in agent.received]
    assert hints == [None, "ta", "ta"]


def test_media_goes_to_an_agent_that_declares_it_with_the_media_id_only(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    tenants["alpha"].extra["accepts"] = ["text", "image"]
    router = start_router()
    write_routes(router.routes_file, list(tenants.values()))
    wait_for(
        lambda: (
            MessageType.IMAGE
            in router.services.routes.route_for(tenants["alpha"].phone_number_id).accepts
        ),  # type: ignore[union-attr]
        what="the new route",
    )
    photo = message(
        "image", {"id": "1479537139650973", "mime_type": "image/jpeg", "caption": "price?"}
    )
    alpha = router.tenants["alpha"]
    router.post(notification(alpha.phone_number_id, [photo]), alpha.app_secret)
    agent = agents["alpha"][0]
    wait_for(lambda: agent.received, what="the forward")
    (inbound,) = agent.received
    assert inbound.type is MessageType.IMAGE
    assert inbound.media is not None
    assert inbound.media.id == "1479537139650973"
    assert inbound.text == "price?"
    assert alpha.access_token not in inbound.model_dump_json()


def _handoff_once(message_text: str) -> Callable[..., AgentReply]:
    def answer(inbound: object) -> AgentReply:
        text = getattr(inbound, "text", "") or ""
        return AgentReply(
            message_id=getattr(inbound, "message_id", ""),
            text=f"answer to {text}",
            handoff=text == message_text,
            handoff_reason="asked for a refund" if text == message_text else None,
        )

    return answer


def test_handoff_tells_the_owner_and_keeps_the_agent_quiet_until_released(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    tenants["alpha"].extra["owner_number"] = OWNER
    agent = agents["alpha"][0]
    agent.answer = _handoff_once("I want a refund")
    router = start_router()
    router.say("alpha", "Good morning, I'm watching today", sender=OWNER.lstrip("+"))
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    # The owner wrote within 24 hours: the notice goes as words, not a template.
    wait_for(lambda: len(graph.texts()) == 2, what="the reply and the owner's notice")
    reply, notice = graph.texts()
    assert reply.to == CUSTOMER
    assert notice.to == OWNER.lstrip("+")
    assert "asked for a refund" in (notice.text or "")
    ref = (notice.text or "").rsplit("'release ", 1)[1].split("'")[0]
    metrics = httpx.get(f"{router.url}/metrics").text
    assert re.search(r'katha_router_handoffs_total\{tenant="[^"]*alpha"\} 1\.0', metrics)

    router.say("alpha", "hello? anyone?", sender=CUSTOMER)
    time.sleep(0.5)
    assert len(agent.received) == 1  # the human has it now
    assert len(graph.texts()) == 2

    router.say("alpha", f"release {ref}", sender=OWNER.lstrip("+"))
    wait_for(lambda: len(graph.texts()) == 3, what="the customer's follow-up")
    assert graph.texts()[2].to == CUSTOMER
    router.say("alpha", "back to the bot", sender=CUSTOMER)
    wait_for(lambda: any(c.text == "answer to back to the bot" for c in graph.texts()), what="bot")
    assert [m.text for m in agent.received] == ["I want a refund", "back to the bot"]


def test_owner_notices_wait_their_turn_in_the_inbox_not_in_the_shops_workers(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """Meta paces the messages to one person: five customers handed over at once give the
    owner five notices a second apart. Each customer has their answer at once, another
    customer of the shop is answered meanwhile, and every notice still goes, once."""
    tenants["alpha"].extra["owner_number"] = OWNER
    agents["alpha"][0].answer = _handoff_once("I want a refund")
    router = start_router(tenant_concurrency=2, recipient_rate_per_second=1, recipient_burst=1)
    owner = OWNER.lstrip("+")
    router.say("alpha", "Good morning, I'm watching today", sender=owner)  # the notices go as words
    customers = [f"9477000{n:04d}" for n in range(5)]
    for customer in customers:
        router.say("alpha", "I want a refund", sender=customer)
    wait_for(lambda: {c.to for c in graph.texts()} >= set(customers), what="five answers")
    router.say("alpha", "Do you open on Sunday?", sender="94770001111")
    wait_for(lambda: any(c.to == "94770001111" for c in graph.texts()), what="the other customer")
    # Answered while the notices are still being paced (a second apart): a few at most
    # had gone out. Workers waiting for the owner's turn held it back until four had.
    assert sum(c.to == owner for c in graph.texts()) <= 3
    wait_for(
        lambda: sum(c.to == owner for c in graph.texts()) == len(customers),
        what="every owner notice",
        timeout=20,
    )
    time.sleep(0.5)
    texts = graph.texts()
    assert sum(c.to == owner for c in texts) == len(customers)
    assert all(sum(c.to == customer for c in texts) == 1 for customer in customers)
    metrics = httpx.get(f"{router.url}/metrics").text
    assert re.search(r'katha_router_handoffs_total\{tenant="[^"]*alpha"\} 5\.0', metrics)


def test_owner_notices_waiting_their_turn_are_each_put_back_about_once(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """Eight customers handed over at once, the owner's number paced at two a second: each
    waiting notice is given its own turn and comes back once, when it is due (6 returns
    here). Told only when the next slot was free, the waiting ones came back together at
    every slot and all but one were put back again (12 here, growing as the square of the
    queue)."""
    tenants["alpha"].extra["owner_number"] = OWNER
    agents["alpha"][0].answer = _handoff_once("I want a refund")
    router = start_router(recipient_rate_per_second=2, recipient_burst=1)
    owner = OWNER.lstrip("+")
    router.say("alpha", "Good morning, I'm watching today", sender=owner)  # the notices go as words
    customers = [f"9477100{n:04d}" for n in range(8)]
    for customer in customers:
        router.say("alpha", "I want a refund", sender=customer)
    wait_for(
        lambda: sum(c.to == owner for c in graph.texts()) == len(customers),
        what="every owner notice",
        timeout=20,
    )
    metrics = httpx.get(f"{router.url}/metrics").text
    found = re.search(
        r'katha_router_retries_total\{reason="owner_notice_paced",tenant="[^"]*alpha"\} '
        r"(\d+)\.0",
        metrics,
    )
    assert found is not None, metrics
    assert 1 <= int(found.group(1)) <= len(customers)  # paced, each back about once


def test_an_owner_notice_meta_could_not_take_goes_once_when_the_message_is_retried(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """The conversation is handed over before the owner is told: when Meta is down for the
    notice, the retried message finds the conversation with a person already, and must
    still tell the owner (once), without asking the agent or answering the customer again."""
    tenants["alpha"].extra["owner_number"] = OWNER
    agent = agents["alpha"][0]
    agent.answer = _handoff_once("I want a refund")
    router = start_router(graph_max_attempts=1, retry_base_seconds=0.2)
    owner = OWNER.lstrip("+")
    router.say("alpha", "Good morning, I'm watching today", sender=owner)  # the notice: words
    graph.failures_to[owner] = [(503, 2), (503, 2)]  # Meta fails the notice twice
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    wait_for(lambda: any(c.to == owner for c in graph.texts()), what="the owner's notice")
    time.sleep(0.5)
    texts = graph.texts()
    assert [c.to for c in graph.refused] == [owner, owner]
    assert sum(c.to == owner for c in texts) == 1
    assert "asked for a refund" in (next(c for c in texts if c.to == owner).text or "")
    assert sum(c.to == CUSTOMER for c in texts) == 1  # the customer's answer went once
    assert len(agent.received) == 1  # and the agent was asked once
    metrics = httpx.get(f"{router.url}/metrics").text
    assert re.search(r'katha_router_handoffs_total\{tenant="[^"]*alpha"\} 1\.0', metrics)

    router.say("alpha", "hello? anyone?", sender=CUSTOMER)  # still with the owner
    wait_for(lambda: _metric(router, r"messages_total\{[^}]*alpha[^}]*\} 3\.0"), what="it")
    time.sleep(0.3)  # counted when its handling starts; a few milliseconds more to finish
    assert len(agent.received) == 1
    assert sum(c.to == owner for c in graph.texts()) == 1


ADMIN = "admin-token-0123456789"


def _metric(router: RouterHarness, pattern: str) -> bool:
    return re.search(pattern, httpx.get(f"{router.url}/metrics").text) is not None


def _refund_with_failing_graph(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
    failing: str,
    retry_seconds: float,
) -> tuple[RouterHarness, Agent]:
    """The owner wrote today (a notice goes as words); a customer asks for a refund, which
    the agent hands over, while Meta fails the next message to `failing` once."""
    tenants["alpha"].extra["owner_number"] = OWNER
    agent = agents["alpha"][0]
    agent.answer = _handoff_once("I want a refund")
    router = start_router(
        graph_max_attempts=1,
        retry_base_seconds=retry_seconds,
        retry_max_seconds=retry_seconds,
        admin_token=ADMIN,
    )
    router.say("alpha", "Good morning, I'm watching today", sender=OWNER.lstrip("+"))
    graph.failures_to[failing] = [(503, 2)]
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    wait_for(lambda: graph.refused, what="the failed message")
    return router, agent


def test_a_notice_that_never_goes_is_counted_and_sends_the_answered_customer_no_reopen(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """Meta refuses every message to the owner until the customer's message is a day old:
    the customer had the answer and the handoff, so no "write to us again" template goes to
    them; the lost notice is logged and counted."""
    tenants["alpha"].extra.update(
        owner_number=OWNER,
        business_account_id="102290129340398",
        templates={"reopen": {"name": "katha_reopen", "languages": ["en"]}},
    )
    agents["alpha"][0].answer = _handoff_once("I want a refund")
    router = start_router(graph_max_attempts=1, retry_base_seconds=0.5, retry_max_seconds=0.5)
    owner = OWNER.lstrip("+")
    router.say("alpha", "Good morning, I'm watching today", sender=owner)
    graph.failures_to[owner] = [(503, 2)] * 100
    alpha = router.tenants["alpha"]
    almost_a_day = str(int(time.time()) - 24 * 3600 + 3)
    late = text("I want a refund", sender=CUSTOMER, timestamp=almost_a_day)
    router.post(notification(alpha.phone_number_id, [late]), alpha.app_secret)
    lost = r'katha_router_sends_total\{code="",result="notice_lost"\} 1\.0'

    def to_customer() -> list[GraphCall]:
        return [call for call in graph.texts() if call.to == CUSTOMER]

    # The message expires after 3 s: counted as lost, or (the defect) a reopen template.
    wait_for(
        lambda: _metric(router, lost) or any(c.template for c in to_customer()),
        what="the message to expire",
        timeout=30,
    )
    assert [(c.text, c.template) for c in to_customer()] == [("answer to I want a refund", None)]
    assert _metric(router, lost)
    assert not any(call.to == owner for call in graph.texts())  # every notice refused


def test_a_handoff_released_while_its_notice_waits_is_not_handed_over_again(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """The owner's notice failed and the message waits for its retry; meanwhile the
    conversation is released. The retry tells nobody and hands nothing over again: the
    customer hears that the assistant is back, and the assistant answers the next message."""
    owner = OWNER.lstrip("+")
    router, agent = _refund_with_failing_graph(start_router, graph, agents, tenants, owner, 1.5)
    conversation = agent.received[0].conversation_id
    released = httpx.post(
        f"{router.url}/admin/conversations/{conversation}/release",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert released.json() == {"released": True}
    # The assistant-is-back words follow the retried message in the conversation's order.
    wait_for(lambda: sum(c.to == CUSTOMER for c in graph.texts()) == 2, what="back to the bot")
    assert not any(c.to == owner for c in graph.texts())  # a released handoff: no notice
    assert _metric(router, r'katha_router_handoffs_total\{tenant="[^"]*alpha"\} 1\.0')
    router.say("alpha", "is the cake ready?", sender=CUSTOMER)
    wait_for(lambda: len(agent.received) == 2, what="the agent answering again")


def test_a_message_that_only_asked_for_a_person_tells_no_owner_after_a_take_over(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    """The agent asked for a person, but the customer's answer failed before the handoff
    started; the owner took the conversation over from the console meanwhile. The retry
    finds it with a person and sends no notice of a handoff it never started."""
    owner = OWNER.lstrip("+")
    # The customer's answer fails once: the handoff has not started when it is retried.
    router, agent = _refund_with_failing_graph(start_router, graph, agents, tenants, CUSTOMER, 3)
    wait_for(lambda: _metric(router, r"katha_router_inbox_depth 1\.0"), what="the retry waiting")
    taken = httpx.post(
        f"{router.url}/admin/conversations/{agent.received[0].conversation_id}/takeover",
        headers={"Authorization": f"Bearer {ADMIN}"},
        json={"tenant": "tenants/alpha"},
    )
    assert taken.json() == {"with_person": True}
    wait_for(lambda: _metric(router, r"katha_router_inbox_depth 0\.0"), what="the retry done")
    assert not any(c.to == owner for c in graph.texts())
    assert not _metric(router, r'katha_router_handoffs_total\{tenant="[^"]*alpha"\} [1-9]')
    assert len(agent.received) == 1


def test_an_admin_call_releases_a_handoff(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    agents["alpha"][0].answer = _handoff_once("human please")
    router = start_router(admin_token="admin-token-0123456789")
    router.say("alpha", "human please", sender=CUSTOMER)
    wait_for(lambda: agents["alpha"][0].received, what="the handoff")
    conversation = agents["alpha"][0].received[0].conversation_id
    url = f"{router.url}/admin/conversations/{conversation}/release"
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    time.sleep(0.3)
    response = httpx.post(url, headers={"Authorization": "Bearer admin-token-0123456789"})
    assert response.json() == {"released": True}
    router.say("alpha", "thanks", sender=CUSTOMER)
    wait_for(lambda: len(agents["alpha"][0].received) == 2, what="the agent again")


def test_a_flooding_sender_gets_one_polite_reply_then_silence(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router(sender_burst=3, sender_rate_per_minute=1, recipient_rate_per_second=100)
    for n in range(8):
        router.say("alpha", f"Is the shop open today? Asking again, {n}", sender=CUSTOMER)
    wait_for(lambda: len(graph.texts()) == 4, what="three answers and one warning")
    time.sleep(0.5)
    texts = [call.text for call in graph.texts()]
    assert texts[:3] == [
        f"alpha answers: Is the shop open today? Asking again, {n}" for n in range(3)
    ]
    assert texts[3] == "You are sending messages very quickly; please wait a moment and try again."
    assert len(agents["alpha"][0].received) == 3
    router.say("alpha", "another customer is fine", sender="94770001234")
    wait_for(lambda: len(graph.texts()) == 5, what="the other customer's answer")


def test_reactions_are_not_answered(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router()
    alpha = router.tenants["alpha"]
    thumbs = message("reaction", {"message_id": "wamid.OUT", "emoji": "👍"})
    router.post(notification(alpha.phone_number_id, [thumbs]), alpha.app_secret)
    time.sleep(0.5)
    assert graph.texts() == []
    assert agents["alpha"][0].received == []


def test_a_handoff_ends_by_itself_after_the_timeout(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    agents["alpha"][0].answer = _handoff_once("a person please")
    router = start_router(handoff_timeout_seconds=1.0)
    router.say("alpha", "a person please", sender=CUSTOMER)
    wait_for(lambda: agents["alpha"][0].received, what="the handoff")
    router.say("alpha", "still there?", sender=CUSTOMER)
    time.sleep(0.3)
    assert len(agents["alpha"][0].received) == 1
    time.sleep(1.0)
    router.say("alpha", "hello again", sender=CUSTOMER)
    wait_for(lambda: len(agents["alpha"][0].received) == 2, what="the agent again")

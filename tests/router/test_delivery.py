"""Workers forward to the tenant's agent and answer through the Graph API: exactly one
reply per message, in order per conversation, through agent outages and Graph throttling,
and one busy tenant never starves another."""

import time
from collections.abc import Callable

from harness import RouterHarness, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import notification, text

from katha.contracts.messages import AgentReply, InboundMessage

Agents = dict[str, tuple[Agent, ServerThread]]


def test_duplicate_webhook_gets_one_reply_on_both_inboxes(
    start_router: Callable[..., RouterHarness], inbox_url: str, graph: GraphApi, agents: Agents
) -> None:
    router = start_router(inbox_url)
    alpha = router.tenants["alpha"]
    payload = notification(alpha.phone_number_id, [text("Ada open da?")])
    for _ in range(5):
        assert router.post(payload, alpha.app_secret).status_code == 200
    wait_for(lambda: graph.texts(), what="the reply")
    time.sleep(0.5)
    assert [call.text for call in graph.texts()] == ["alpha answers: Ada open da?"]
    assert len(agents["alpha"][0].received) == 1


def test_agent_down_then_back_answers_everything_in_order(
    start_router: Callable[..., RouterHarness], inbox_url: str, graph: GraphApi, agents: Agents
) -> None:
    router = start_router(inbox_url)
    agent = agents["alpha"][0]
    agent.failing = True
    questions = [f"question {n}" for n in range(5)]
    for question in questions:
        router.say("alpha", question, sender="94770000001")
    router.say("alpha", "another customer", sender="94770000002")
    time.sleep(1.5)  # "a minute" of outage, with retries and the breaker opening
    assert graph.texts() == []
    agent.failing = False
    wait_for(lambda: len(graph.texts()) == 6, timeout=15, what="six replies")
    first_customer = [c.text for c in graph.texts() if c.to == "94770000001"]
    assert first_customer == [f"alpha answers: {q}" for q in questions]
    assert [m.text for m in agent.received if m.text and m.text.startswith("question")] == questions


def test_one_message_in_flight_per_conversation(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router()
    agent = agents["alpha"][0]
    agent.delay = 0.2
    for n in range(4):
        router.say("alpha", f"part {n}", sender="94770000003")
    wait_for(lambda: len(graph.texts()) == 4, timeout=10, what="four replies")
    assert agent.max_in_flight == 1
    assert [c.text for c in graph.texts()] == [f"alpha answers: part {n}" for n in range(4)]


def test_circuit_breaker_stops_hammering_a_failing_agent(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router(breaker_failures=2, breaker_reset_seconds=2.5, retry_base_seconds=0.01)
    agent = agents["alpha"][0]
    agent.failing = True
    for n in range(3):
        router.say("alpha", f"hello {n}", sender=f"9477100000{n}")
    breaker = router.services.dispatcher.worker.breaker("tenants/alpha")  # type: ignore[union-attr]
    wait_for(lambda: breaker.state.value == "open", timeout=5, what="the circuit to open")
    opened_with = agent.attempts
    time.sleep(0.8)
    assert agent.attempts == opened_with  # resting: nobody is sent while it is open
    agent.failing = False
    wait_for(lambda: len(graph.texts()) == 3, timeout=10, what="the answers after the rest")


def test_one_flooding_tenant_does_not_starve_another(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router(tenant_concurrency=4, total_concurrency=16, recipient_rate_per_second=50)
    agents["alpha"][0].delay = 1.0  # alpha's agent is slow and alpha is flooded
    alpha = router.tenants["alpha"]
    flood = [text(f"flood {n}", sender=f"9477{n:07d}") for n in range(200)]
    for start in range(0, 200, 50):
        payload = notification(alpha.phone_number_id, flood[start : start + 50])
        assert router.post(payload, alpha.app_secret).status_code == 200
    router.say("beta", "am I still answered?", sender="94779999999")
    wait_for(lambda: any(c.to == "94779999999" for c in graph.texts()), timeout=5, what="beta")
    # Alpha's 200 messages need 50 s at 4 in flight; beta's one waits for none of them.
    answered_for_alpha = sum(1 for call in graph.texts() if call.to != "94779999999")
    assert answered_for_alpha < 50, answered_for_alpha
    assert agents["alpha"][0].max_in_flight <= 4


def test_graph_429_is_retried_within_the_per_number_rate(
    start_router: Callable[..., RouterHarness], graph: GraphApi
) -> None:
    router = start_router(number_rate_per_second=5, recipient_rate_per_second=50)
    graph.failures = [(429, 130429), (400, 131056), (500, 1), (400, 4), (400, 80007)]
    for n in range(3):
        router.say("alpha", f"q{n}", sender=f"9477555000{n}")
    wait_for(lambda: len(graph.texts()) == 3, timeout=15, what="three replies")
    assert graph.failures == []
    attempts = sorted(call.at for call in graph.calls + graph.refused if not call.is_read_receipt)
    every = sorted(call.at for call in graph.calls + graph.refused)
    # 5 per second with a burst of 5: never more than 5 + 5 * t calls within t seconds
    # (one extra allowed for arrival jitter at this end).
    for first in range(len(every)):
        for last in range(first, len(every)):
            calls = last - first + 1
            assert calls <= 5 + 5 * (every[last] - every[first]) + 1
    assert len(attempts) >= 3


def test_messages_that_arrive_count_toward_the_per_number_rate(
    start_router: Callable[..., RouterHarness], graph: GraphApi
) -> None:
    """Meta's throughput per number counts inbound and outbound messages together: ten
    arriving at once use two seconds of a 5-a-second number, so the replies' first send
    waits until a second of it is repaid (arrivals never owe more than a second)."""
    router = start_router(number_rate_per_second=5, recipient_rate_per_second=50)
    alpha = router.tenants["alpha"]
    batch = [text(f"q{n}", sender=f"9477666000{n}") for n in range(10)]
    arrived = time.monotonic()
    assert (
        router.post(notification(alpha.phone_number_id, batch), alpha.app_secret).status_code == 200
    )
    wait_for(lambda: len(graph.texts()) == 10, timeout=20, what="ten replies")
    sends = sorted(call.at for call in graph.calls + graph.refused)
    # 10 arrivals take the burst of 5 and owe 5: the first send waits (1 + 5) / 5 s.
    assert sends[0] - arrived >= 1.1, sends[0] - arrived
    # From then on the sends keep to 5 a second (the burst refills while replies wait on
    # the agent; one extra allowed for arrival jitter at this end).
    for first in range(len(sends)):
        for last in range(first, len(sends)):
            assert last - first + 1 <= 5 + 5 * (sends[last] - sends[first]) + 1


def test_the_agent_is_asked_while_the_read_receipt_waits_its_turn(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    """Ten messages arriving at once owe the 5-a-second number a second: each read receipt
    waits its turn, but the agent is asked at once, so its thinking overlaps that wait
    (asked only after its receipt went, the first question reached the agent 1.2 s late).
    Each answer still goes after its own receipt."""
    router = start_router(number_rate_per_second=5, recipient_rate_per_second=50)
    alpha = router.tenants["alpha"]
    asked: list[float] = []

    def answer(message: InboundMessage) -> AgentReply:
        asked.append(time.monotonic())
        return AgentReply(message_id=message.message_id, text="ok", language="en")

    agents["alpha"][0].answer = answer
    batch = [text(f"q{n}", sender=f"9477666100{n}") for n in range(10)]
    arrived = time.monotonic()
    assert (
        router.post(notification(alpha.phone_number_id, batch), alpha.app_secret).status_code == 200
    )
    wait_for(lambda: len(graph.texts()) == 10, timeout=20, what="ten replies")
    receipts = sorted(call.at for call in graph.calls if call.is_read_receipt)
    assert len(receipts) == 10
    assert receipts[0] - arrived >= 1.1, receipts[0] - arrived  # paced behind the arrivals
    assert min(asked) - arrived < 0.9, min(asked) - arrived
    receipt_at = {c.body["message_id"]: c.at for c in graph.calls if c.is_read_receipt}
    assert all(receipt_at[c.reply_to] <= c.at for c in graph.texts() if c.reply_to)


def test_a_permanent_graph_error_is_not_retried(
    start_router: Callable[..., RouterHarness], graph: GraphApi
) -> None:
    router = start_router()
    graph.failures = [(200, 0)] * 0 + [(400, 131047)] * 2  # read receipt, then the reply
    router.say("alpha", "hello")
    wait_for(lambda: len(graph.refused) == 2, what="the refusals")
    time.sleep(0.5)
    assert graph.texts() == []
    assert 'result="outside_window"' in router.metrics()


def test_long_replies_are_split_on_sentence_boundaries(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    sentence = "Our kitchen opens at eleven and closes at ten every day. "
    long_text = sentence * 150  # about 8,500 characters
    agents["alpha"][0].answer = lambda m: AgentReply(message_id=m.message_id, text=long_text)
    router = start_router()
    router.say("alpha", "when are you open?")
    wait_for(lambda: len(graph.texts()) == 3, what="three parts")
    parts = [call.text or "" for call in graph.texts()]
    assert all(len(part) <= 4096 for part in parts)
    assert all(part.endswith("every day.") for part in parts)
    assert " ".join(parts) == long_text.strip()


def test_the_customer_sees_read_ticks_and_typing_while_the_agent_works(
    start_router: Callable[..., RouterHarness], graph: GraphApi
) -> None:
    router = start_router()
    message_id = router.say("alpha", "hello")
    wait_for(lambda: graph.texts(), what="the reply")
    (receipt,) = graph.read_receipts()
    assert receipt.body == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": message_id,
        "typing_indicator": {"type": "text"},
    }
    assert graph.calls.index(receipt) < graph.calls.index(graph.texts()[0])


def test_no_free_form_reply_outside_the_24_hour_window(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router()
    alpha = router.tenants["alpha"]
    old = text("sent two days ago")
    old["timestamp"] = str(int(time.time()) - 2 * 86400)
    assert (
        router.post(notification(alpha.phone_number_id, [old]), alpha.app_secret).status_code == 200
    )
    time.sleep(0.8)
    assert graph.texts() == []
    assert agents["alpha"][0].received == []
    assert 'katha_router_sends_total{code="131047",result="outside_window"} 1.0' in router.metrics()


def test_username_only_customers_are_answered_by_user_id(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router()
    alpha = router.tenants["alpha"]
    sent = text("hi from a username")
    del sent["from"]
    sent["from_user_id"] = "LK.1502576394655843"
    payload = notification(alpha.phone_number_id, [sent])
    payload["entry"][0]["changes"][0]["value"]["contacts"] = [
        {"profile": {"name": "Sachini", "username": "@sachini"}, "user_id": "LK.1502576394655843"}
    ]
    assert router.post(payload, alpha.app_secret).status_code == 200
    wait_for(lambda: graph.texts(), what="the reply")
    (reply,) = graph.texts()
    assert reply.body["recipient"] == "LK.1502576394655843"
    assert "to" not in reply.body
    received: InboundMessage = agents["alpha"][0].received[0]
    assert "LK.1502576394655843" not in received.model_dump_json()


def test_an_agent_that_is_down_gets_the_backlog_when_it_comes_back(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
) -> None:
    router = start_router()
    agent, server = agents["alpha"]
    port = server.port
    server.stop()  # connection refused from now on
    for n in range(3):
        router.say("alpha", f"while you were out {n}", sender="94770000009")
    time.sleep(1.0)
    assert graph.texts() == []
    back = ServerThread(agent.app(), port=port).start()
    try:
        wait_for(lambda: len(graph.texts()) == 3, timeout=15, what="the backlog")
        assert [c.text for c in graph.texts()] == [
            f"alpha answers: while you were out {n}" for n in range(3)
        ]
    finally:
        back.stop()

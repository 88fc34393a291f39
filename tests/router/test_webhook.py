"""The webhook endpoint: the subscription handshake, signatures before anything else,
durable acceptance with dedupe, and routing by phone_number_id."""

import sqlite3
import time

import httpx
from harness import RouterHarness, Tenant, wait_for, write_routes
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import message, notification, text


def test_handshake_answers_the_challenge_for_a_known_verify_token(harness: RouterHarness) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": harness.tenants["beta"].verify_token,
        "hub.challenge": "1158201444",
    }
    response = httpx.get(f"{harness.url}/webhooks/whatsapp", params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


def test_handshake_with_a_wrong_token_or_mode_is_forbidden(harness: RouterHarness) -> None:
    good = harness.tenants["alpha"].verify_token
    for mode, token in (("subscribe", "wrong-token"), ("unsubscribe", good), (None, good)):
        params = {"hub.verify_token": token, "hub.challenge": "42"}
        if mode:
            params["hub.mode"] = mode
        response = httpx.get(f"{harness.url}/webhooks/whatsapp", params=params)
        assert response.status_code == 403


def test_bad_signature_is_refused_and_nothing_is_stored(
    harness: RouterHarness, agents: dict[str, tuple[Agent, ServerThread]], graph: GraphApi
) -> None:
    payload = notification(harness.tenants["alpha"].phone_number_id, [text("hello")])
    assert harness.post(payload, "not-the-app-secret").status_code == 401
    assert harness.post(payload, None).status_code == 401
    body, headers = b"{}", {"X-Hub-Signature-256": "sha256=zz"}
    response = httpx.post(f"{harness.url}/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 401
    time.sleep(0.3)
    assert agents["alpha"][0].received == []
    assert graph.calls == []
    inbox_file = harness.settings.inbox_url.removeprefix("sqlite://")
    with sqlite3.connect(inbox_file) as db:  # a reader of its own, beside the router
        assert db.execute("SELECT COUNT(*) FROM inbox").fetchone() == (0,)
    assert 'katha_router_webhooks_total{result="bad_signature"} 3.0' in harness.metrics()


def test_oversized_bodies_are_refused(harness: RouterHarness) -> None:
    payload = notification(harness.tenants["alpha"].phone_number_id, [text("x" * 600_000)])
    response = harness.post(payload, harness.tenants["alpha"].app_secret)
    assert response.status_code == 413


def test_duplicate_webhook_gets_one_reply(
    harness: RouterHarness, agents: dict[str, tuple[Agent, ServerThread]], graph: GraphApi
) -> None:
    alpha = harness.tenants["alpha"]
    sent = text("Kottu thiyenawada?")
    payload = notification(alpha.phone_number_id, [sent])
    for _ in range(5):
        assert harness.post(payload, alpha.app_secret).status_code == 200
    wait_for(lambda: graph.texts(), what="the reply")
    time.sleep(0.5)
    assert len(graph.texts()) == 1
    assert len(agents["alpha"][0].received) == 1
    (reply,) = graph.texts()
    assert reply.reply_to == sent["id"]
    assert reply.to == "94771234567"
    assert reply.phone_number_id == alpha.phone_number_id
    assert reply.authorization == f"Bearer {alpha.access_token}"
    assert reply.text == "alpha answers: Kottu thiyenawada?"
    # The same message inside a different webhook (another batch) is still one reply.
    again = notification(alpha.phone_number_id, [sent, text("second question")])
    assert harness.post(again, alpha.app_secret).status_code == 200
    wait_for(lambda: len(graph.texts()) == 2, what="the second reply")
    time.sleep(0.3)
    assert len(graph.texts()) == 2


def test_the_agent_sees_a_pseudonym_never_the_phone_number(
    harness: RouterHarness, agents: dict[str, tuple[Agent, ServerThread]]
) -> None:
    harness.say("alpha", "hello", sender="94770001111")
    harness.say("alpha", "again", sender="94770001111")
    harness.say("alpha", "me too", sender="94770002222")
    agent = agents["alpha"][0]
    wait_for(lambda: len(agent.received) == 3, what="three forwards")
    first, second, third = agent.received
    assert first.conversation_id == second.conversation_id != third.conversation_id
    assert first.tenant == "tenants/alpha"
    assert first.sender_name == "Nimal"
    for inbound in agent.received:
        assert "9477000" not in inbound.model_dump_json()


def test_unknown_numbers_are_acknowledged_and_not_forwarded(
    harness: RouterHarness, agents: dict[str, tuple[Agent, ServerThread]], graph: GraphApi
) -> None:
    payload = notification("999999999999", [text("hello?")])
    assert harness.post(payload, harness.tenants["alpha"].app_secret).status_code == 200
    time.sleep(0.3)
    assert agents["alpha"][0].received == []
    assert graph.calls == []


def test_a_tenants_app_cannot_inject_messages_for_another_tenants_number(
    harness: RouterHarness, agents: dict[str, tuple[Agent, ServerThread]]
) -> None:
    alpha, beta = harness.tenants["alpha"], harness.tenants["beta"]
    forged = notification(beta.phone_number_id, [text("I am beta's customer, honest")])
    # Only the app secret of the number a body names is tried: alpha's signature is no
    # signature for beta's number.
    assert harness.post(forged, alpha.app_secret).status_code == 401
    harness.say("beta", "the real one")
    wait_for(lambda: agents["beta"][0].received, what="beta's real message")
    time.sleep(0.2)
    assert [m.text for m in agents["beta"][0].received] == ["the real one"]
    assert agents["alpha"][0].received == []
    assert alpha.app_secret != beta.app_secret


def test_route_changes_apply_within_seconds(
    harness: RouterHarness,
    tenants: dict[str, Tenant],
    agents: dict[str, tuple[Agent, ServerThread]],
) -> None:
    beta = tenants["beta"]
    beta.extra["suspended"] = True
    write_routes(harness.routes_file, list(tenants.values()))
    wait_for(
        lambda: harness.services.routes.route_for(beta.phone_number_id).suspended,  # type: ignore[union-attr]
        timeout=3,
        what="the suspension to apply",
    )
    harness.say("beta", "anyone there?")
    time.sleep(0.4)
    assert agents["beta"][0].received == []
    # A broken table is refused and the last good one kept.
    harness.routes_file.write_text("{not json")
    time.sleep(0.5)
    assert harness.services.routes.route_for(beta.phone_number_id) is not None


def test_statuses_are_acknowledged_and_counted(harness: RouterHarness, graph: GraphApi) -> None:
    alpha = harness.tenants["alpha"]
    statuses = [
        {
            "id": "wamid.OUT1",
            "status": "delivered",
            "timestamp": str(int(time.time())),
            "recipient_id": "94771234567",
        },
        {
            "id": "wamid.OUT2",
            "status": "failed",
            "timestamp": str(int(time.time())),
            "recipient_id": "94771234567",
            "errors": [{"code": 131026, "title": "Undeliverable"}],
        },
    ]
    response = harness.post(
        notification(alpha.phone_number_id, statuses=statuses), alpha.app_secret
    )
    assert response.status_code == 200
    metrics = harness.metrics()
    assert 'katha_router_statuses_total{status="failed"} 1.0' in metrics
    assert 'katha_router_statuses_total{status="delivered"} 1.0' in metrics
    assert graph.calls == []


def test_health_readiness_and_metrics(harness: RouterHarness) -> None:
    assert httpx.get(f"{harness.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{harness.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "routes": True, "inbox": True, "claims": True}
    harness.say("alpha", "hi")
    metrics = harness.metrics()
    for name in (
        "webhooks_total",
        "inbox_depth",
        "inbox_oldest_age_seconds",
        "forward_seconds",
        "sends_total",
        "messages_total",
    ):
        assert f"katha_router_{name}" in metrics


def test_messages_of_every_type_are_accepted(harness: RouterHarness) -> None:
    alpha = harness.tenants["alpha"]
    kinds = [
        ("image", {"id": "1479537139650973", "mime_type": "image/jpeg"}),
        ("location", {"latitude": 6.9, "longitude": 79.8}),
        ("reaction", {"message_id": "wamid.X", "emoji": "👍"}),
    ]
    payload = notification(alpha.phone_number_id, [message(k, c) for k, c in kinds])
    assert harness.post(payload, alpha.app_secret).status_code == 200

"""The router's admin API as the owner console calls it (console/router_client.py): a
person takes a conversation over, replies through the Graph API inside the customer's
24-hour window (and sends nothing outside it), and owners get their one-time sign-in code
on WhatsApp from their own Business's number. Another tenant's conversation is not there,
and no code, number or reply text reaches the logs.

Everything runs for real: the router under uvicorn, signed webhooks, the conversation
store on SQLite, both inbox backends where it matters; the Graph API is the loopback peer."""

import asyncio
import time
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from harness import RouterHarness, Tenant, wait_for
from peers.graph_api import GraphApi, GraphCall
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import WABA_ID, account_change, notification, text
from structlog.testing import capture_logs

from katha.store import ConversationStore, StoredEvent, upgrade
from router.console_actions import login_code_words
from router.envelope import conversation_id

Agents = dict[str, tuple[Agent, ServerThread]]
TOKEN = "admin-token-console-5d2c9e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALPHA = "tenants/alpha"
CUSTOMER = "94770009999"
OWNER = "94771234567"
DAY = 24 * 3600
LOGIN = {"name": "katha_login", "languages": ["en"], "category": "AUTHENTICATION"}
CODE = "739154"


def _post(router: RouterHarness, path: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
    return httpx.post(f"{router.url}/admin{path}", json=body, headers=AUTH, timeout=20, **kw)


def _conversation(router: RouterHarness, tenant: str, customer: str) -> str:
    """The pseudonymous id the router gives this customer's conversation."""
    number = router.tenants[tenant].phone_number_id
    return conversation_id(router.services.conversation_key, number, customer)


def _thread(url: str, conversation: str) -> list[StoredEvent]:
    async def read() -> list[StoredEvent]:
        store = ConversationStore.from_url(url)
        try:
            return await store.thread(ALPHA, conversation)
        finally:
            await store.close()

    return asyncio.run(read())


def _to(graph: GraphApi, who: str) -> list[GraphCall]:
    return [call for call in graph.texts() if call.to == who]


def _logged(logs: Sequence[MutableMapping[str, Any]], event: str) -> bool:
    return any(entry["event"] == event for entry in logs)


def test_a_person_takes_over_replies_once_and_releases_to_the_agent(
    start_router: Callable[..., RouterHarness], tmp_path: Path, graph: GraphApi, agents: Agents
) -> None:
    store = f"sqlite:///{tmp_path / 'conversations.db'}"
    upgrade(store)
    router = start_router(admin_token=TOKEN, store_url=store)
    agent = agents["alpha"][0]
    router.say("alpha", "Do you deliver to Peradeniya?", sender=CUSTOMER)
    wait_for(lambda: _to(graph, CUSTOMER), what="the agent's answer")
    conversation = _conversation(router, "alpha", CUSTOMER)
    takeover = f"/conversations/{conversation}/takeover"
    assert httpx.post(f"{router.url}/admin{takeover}", json={"tenant": ALPHA}).status_code == 401
    assert _post(router, takeover, {"tenant": ALPHA}).json() == {"with_person": True}

    with capture_logs() as logs:
        router.say("alpha", "Hello? Anyone there?", sender=CUSTOMER)
        wait_for(lambda: _logged(logs, "message.with_human"), what="the agent kept quiet")
    assert [m.text for m in agent.received] == ["Do you deliver to Peradeniya?"]

    words = {"tenant": ALPHA, "text": "Yes, tomorrow by noon.", "author": "owner@kandy.lk"}
    reply = f"/conversations/{conversation}/reply"
    for _ in range(2):  # the console retried: sent once, kept once
        answer = _post(router, reply, {**words, "reply_id": "r-1"})
        assert answer.json() == {"sent": "free_form"}
    (sent,) = [call for call in _to(graph, CUSTOMER) if call.text == words["text"]]
    assert sent.phone_number_id == router.tenants["alpha"].phone_number_id

    def kept() -> list[tuple[str, str, str | None]]:
        return [
            (e.author, e.kind, e.text or e.handoff_reason) for e in _thread(store, conversation)
        ]

    expected = [
        ("customer", "message", "Do you deliver to Peradeniya?"),
        ("agent", "message", "alpha answers: Do you deliver to Peradeniya?"),
        ("system", "handoff_started", "taken over in the console"),
        ("customer", "message", "Hello? Anyone there?"),
        ("person", "message", "Yes, tomorrow by noon."),
    ]
    wait_for(lambda: kept() == expected, what=f"the thread in the store: {kept()}")

    assert _post(router, f"/conversations/{conversation}/release", {}).json() == {"released": True}
    router.say("alpha", "Thanks!", sender=CUSTOMER)
    wait_for(lambda: len(agent.received) == 2, what="the agent answering again")


def test_outside_the_window_or_while_restricted_a_reply_sends_nothing(
    start_router: Callable[..., RouterHarness], graph: GraphApi, tenants: dict[str, Tenant]
) -> None:
    reopen = {"name": "katha_reopen", "languages": ["en"]}
    tenants["alpha"].extra.update(business_account_id=WABA_ID, templates={"reopen": reopen})
    router = start_router(admin_token=TOKEN)
    alpha = router.tenants["alpha"]
    late = text("are you open?", sender=CUSTOMER, timestamp=str(int(time.time()) - DAY - 60))
    router.post(notification(alpha.phone_number_id, [late]), alpha.app_secret)
    (reopen,) = wait_for(lambda: _to(graph, CUSTOMER), what="the router's own reopen template")
    conversation = _conversation(router, "alpha", CUSTOMER)
    words = {"tenant": ALPHA, "text": "Sorry for the wait!", "author": "owner"}
    answer = _post(router, f"/conversations/{conversation}/reply", words)
    assert answer.json() == {"sent": "outside_window"}
    assert _to(graph, CUSTOMER) == [reopen]  # the template is no stand-in for a person

    restriction = {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [
            {
                "restriction_type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING",
                "expiration": "2099-04-19T13:59:20+0000",
            },
        ],
    }
    assert router.post(account_change("account_update", restriction), alpha.app_secret)
    router.say("alpha", "hello again", sender=CUSTOMER)  # the window opens again
    wait_for(lambda: 'result="restricted"' in router.metrics(), what="the agent's refusal")
    answer = _post(router, f"/conversations/{conversation}/reply", words)
    assert answer.json() == {"sent": "restricted"}
    assert _to(graph, CUSTOMER) == [reopen]


def test_another_tenants_or_an_unknown_conversation_is_not_found(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    router = start_router(admin_token=TOKEN)
    router.say("alpha", "hello", sender=CUSTOMER)
    wait_for(lambda: _to(graph, CUSTOMER), what="the answer")
    conversation = _conversation(router, "alpha", CUSTOMER)
    words = {"text": "I am beta, reading alpha's customer", "author": "mallory"}
    for tenant, conv in [
        ("tenants/beta", conversation),  # a real conversation, another Business's
        ("tenants/nobody", conversation),  # no such Business
        (ALPHA, "c-0123456789abcdef0123456789abcd"),  # no such conversation
    ]:
        assert (
            _post(router, f"/conversations/{conv}/takeover", {"tenant": tenant}).status_code == 404
        )
        reply = _post(router, f"/conversations/{conv}/reply", {**words, "tenant": tenant})
        assert reply.status_code == 404
    assert len(_to(graph, CUSTOMER)) == 1
    router.say("alpha", "still the agent?", sender=CUSTOMER)  # nobody took it over
    wait_for(lambda: len(agents["alpha"][0].received) == 2, what="the agent's second answer")


def test_a_login_code_goes_to_the_owner_from_each_of_their_businesses(
    start_router: Callable[..., RouterHarness], graph: GraphApi, tenants: dict[str, Tenant]
) -> None:
    for tenant in tenants.values():
        tenant.extra.update(owner_number="+" + OWNER, templates={"login_code": LOGIN})
    router = start_router(admin_token=TOKEN)
    alpha, beta = router.tenants["alpha"], router.tenants["beta"]
    with capture_logs() as logs:
        router.say("alpha", "good morning", sender=OWNER)  # the owner's window with alpha
        wait_for(lambda: _logged(logs, "owner.message"), what="the owner's message")
        body = {"owner_number": "+94 77 123 4567", "code": CODE, "minutes": 10}
        answer = _post(router, "/login-codes", body)
        assert sorted(answer.json()["tenants"]) == [ALPHA, "tenants/beta"]
        nobody = _post(router, "/login-codes", {**body, "owner_number": "+94770000001"})
        assert nobody.json() == {"tenants": []}
        refused = _post(router, "/login-codes", {**body, "code": "12<script>"})
        assert refused.status_code == 422
        assert "12<script>" not in refused.text
    words, template = sorted(_to(graph, OWNER), key=lambda call: call.template is not None)
    assert words.phone_number_id == alpha.phone_number_id
    assert words.text == login_code_words(CODE, 10)
    assert words.text.startswith(f"{CODE} is your Katha sign-in code.")
    assert template.phone_number_id == beta.phone_number_id
    assert template.template == ("katha_login", "en", [CODE])
    # Meta's authentication templates take the code in their copy-code button too.
    button = template.body["template"]["components"][1]
    assert (button["type"], button["index"], button["parameters"]) == (
        "button",
        "0",
        [{"type": "text", "text": CODE}],
    )
    assert len(graph.texts()) == 2
    logged = repr(logs)
    for secret in (CODE, OWNER, "1234567", "0000001"):
        assert secret not in logged


def test_a_business_without_the_template_sends_no_code_outside_the_window(
    start_router: Callable[..., RouterHarness], graph: GraphApi, tenants: dict[str, Tenant]
) -> None:
    tenants["alpha"].extra["owner_number"] = "+" + OWNER
    router = start_router(admin_token=TOKEN)
    body = {"owner_number": OWNER, "code": CODE, "minutes": 5}
    assert _post(router, "/login-codes", body).json() == {"tenants": []}
    assert graph.texts() == []


def test_login_codes_for_one_number_are_limited(
    start_router: Callable[..., RouterHarness], inbox_url: str
) -> None:
    router = start_router(inbox_url, admin_token=TOKEN)
    body = {"owner_number": "+94770000001", "code": CODE, "minutes": 10}
    answers = [_post(router, "/login-codes", body).status_code for _ in range(6)]
    assert answers == [200, 200, 200, 200, 200, 429]
    other = _post(router, "/login-codes", {**body, "owner_number": "+94770000002"})
    assert other.status_code == 200
    unauthorised = httpx.post(f"{router.url}/admin/login-codes", json=body)
    assert unauthorised.status_code == 401

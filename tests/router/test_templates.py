"""What the business starts: words inside the recipient's 24-hour window, the Business's
approved template outside it, and nothing Meta would refuse (WhatsApp Cloud API).

Every webhook here is signed and driven through the router; the Graph API peer records
what the router sent (and refuses free-form words to anyone in `graph.closed`, as Meta
does with 131047)."""

import re
import time
from collections.abc import Callable
from typing import Any

from harness import RouterHarness, Tenant, wait_for
from peers.graph_api import GraphApi, GraphCall
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import (
    BUSINESS_DISPLAY_NUMBER,
    WABA_ID,
    account_change,
    notification,
    text,
)
from structlog.testing import capture_logs

from katha.contracts.messages import AgentReply, InboundMessage

Agents = dict[str, tuple[Agent, ServerThread]]
OWNER = "94771234567"
CUSTOMER = "94770009999"
DAY = 24 * 3600
DISPLAY = BUSINESS_DISPLAY_NUMBER
NOTICE = {"name": "katha_handoff", "languages": ["en"]}
ENDED = {"name": "katha_back", "languages": ["si", "ta", "en_US"]}
REOPEN = {"name": "katha_reopen", "languages": ["en", "si"]}


def _templates(tenant: Tenant, **templates: dict[str, Any]) -> None:
    tenant.extra.update(
        owner_number="+" + OWNER,
        business_account_id=WABA_ID,
        templates=templates,
        display_name="Kandy Bakehouse",
        assistant_name="Mihiri",
    )


def _handoff(language: str = "en") -> Callable[[InboundMessage], AgentReply]:
    def answer(message: InboundMessage) -> AgentReply:
        return AgentReply(
            message_id=message.message_id,
            text="A person will help you.",
            language=language,
            handoff=True,
            handoff_reason="asked for a refund",
        )

    return answer


def _handing_over(
    start_router: Callable[..., RouterHarness], agents: Agents, tenants: dict[str, Tenant]
) -> tuple[RouterHarness, "Recorded"]:
    """Alpha with an owner and a handoff-notice template, an agent that hands every
    message over, and a router whose status writes are recorded."""
    _templates(tenants["alpha"], handoff_notice=NOTICE)
    agents["alpha"][0].answer = _handoff()
    writes = Recorded()
    return start_router(status=writes), writes


def _templates_sent(router: RouterHarness, purpose: str, result: str) -> float:
    pattern = (
        rf'katha_router_templates_sent_total\{{purpose="{purpose}",result="{result}",'
        rf'tenant="tenants/alpha"\}} ([0-9.]+)'
    )
    found = re.search(pattern, router.metrics())
    return float(found.group(1)) if found else 0.0


def _to(graph: GraphApi, who: str) -> list[GraphCall]:
    return [call for call in graph.texts() if call.to == who]


def _signal(
    router: RouterHarness, field: str, value: dict[str, Any], tenant: str = "alpha"
) -> None:
    response = router.post(account_change(field, value), router.tenants[tenant].app_secret)
    assert response.status_code == 200, response.text


def test_a_handoff_outside_the_owners_window_sends_the_notice_template(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"], handoff_notice=NOTICE)
    agents["alpha"][0].answer = _handoff()
    router = start_router()
    router.say("alpha", "I want a refund", sender=CUSTOMER)  # the owner never wrote
    (notice,) = wait_for(lambda: _to(graph, OWNER), what="the owner's notice")
    assert notice.template is not None
    name, language, parameters = notice.template
    assert (name, language) == ("katha_handoff", "en")
    ref, who, why = parameters
    assert re.fullmatch(r"[0-9a-f]{8}", ref)
    assert who == f"Nimal ({CUSTOMER})"
    assert why == "asked for a refund"
    assert _templates_sent(router, "handoff_notice", "template") == 1


def test_words_meta_refuses_are_sent_again_as_the_template(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"], handoff_notice=NOTICE)
    agents["alpha"][0].answer = _handoff()
    router = start_router()
    router.say("alpha", "good morning", sender=OWNER)  # the router thinks the window is open
    graph.closed.add(OWNER)  # but Meta counts it otherwise
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    (notice,) = wait_for(lambda: _to(graph, OWNER), what="the owner's notice")
    assert notice.template is not None
    assert [call.body.get("type") for call in graph.refused] == ["text"]


def test_without_a_template_the_owner_outside_the_window_is_not_told_and_it_shows(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    tenants["alpha"].extra["owner_number"] = "+" + OWNER
    agents["alpha"][0].answer = _handoff()
    router = start_router()
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    wait_for(
        lambda: _templates_sent(router, "handoff_notice", "not_configured") == 1,
        what="the notice counted as not sent",
    )
    assert _to(graph, OWNER) == []


def _customer_writes_just_inside_the_window(router: RouterHarness, body: str) -> float:
    """A message whose 24 hours end a few seconds from now; when they do."""
    written = int(time.time()) - DAY + 12
    alpha = router.tenants["alpha"]
    message = text(body, sender=CUSTOMER, timestamp=str(written))
    assert router.post(notification(alpha.phone_number_id, [message]), alpha.app_secret)
    return written + DAY


def _released_after_the_window(router: RouterHarness, graph: GraphApi, words: str) -> None:
    """The owner is around, a customer writes just inside their window and is handed to
    the owner; once the window has closed, the owner releases the conversation."""
    router.say("alpha", "hello", sender=OWNER)
    closes = _customer_writes_just_inside_the_window(router, words)
    notice = wait_for(lambda: _to(graph, OWNER), what="the owner's notice")[0]
    assert len(_to(graph, CUSTOMER)) == 1  # the handoff reply went inside the window
    ref = (notice.text or "").rsplit("'release ", 1)[1].split("'")[0]
    while time.time() <= closes + 0.5:
        time.sleep(0.2)
    router.say("alpha", f"release {ref}", sender=OWNER)


def test_a_tamil_customer_released_after_their_window_gets_the_tamil_template(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"], handoff_ended=ENDED)
    agents["alpha"][0].answer = _handoff(language="ta")
    router = start_router()
    _released_after_the_window(router, graph, "எனக்கு பணம் திரும்ப வேண்டும்")
    follow_up = wait_for(lambda: _to(graph, CUSTOMER)[1:], what="the follow-up")[0]
    assert follow_up.template == ("katha_back", "ta", ["Mihiri"])  # never the Sinhala one


def test_a_template_without_the_customers_language_or_english_is_not_sent(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"], handoff_ended={"name": "katha_back", "languages": ["si"]})
    agents["alpha"][0].answer = _handoff(language="ta")
    router = start_router()
    _released_after_the_window(router, graph, "எனக்கு உதவி வேண்டும்")
    wait_for(lambda: _templates_sent(router, "handoff_ended", "no_language") == 1, what="refusal")
    assert len(_to(graph, CUSTOMER)) == 1  # the handoff reply only: no Sinhala to a Tamil reader


def test_an_answer_after_the_window_asks_the_customer_to_write_again(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"], reopen=REOPEN)
    router = start_router()
    alpha = router.tenants["alpha"]
    late = text("are you open?", sender=CUSTOMER, timestamp=str(int(time.time()) - DAY - 60))
    router.post(notification(alpha.phone_number_id, [late]), alpha.app_secret)
    (call,) = wait_for(lambda: _to(graph, CUSTOMER), what="the reopen template")
    assert call.template == ("katha_reopen", "en", ["Kandy Bakehouse"])
    assert agents["alpha"][0].received == []  # words that could not be sent are not asked for


def test_a_restriction_stops_what_the_business_starts_until_it_expires(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    router, writes = _handing_over(start_router, agents, tenants)
    _signal(
        router,
        "account_update",
        {
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [
                {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                 "expiration": int(time.time()) + 3600},
            ],
        },
    )  # fmt: skip
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    wait_for(lambda: _templates_sent(router, "handoff_notice", "restricted") == 1, what="refusal")
    assert _to(graph, OWNER) == []
    assert len(_to(graph, CUSTOMER)) == 1  # replies inside the window still go
    restricted = (
        'katha_router_messaging_restricted{kind="business_initiated",tenant="tenants/alpha"} 1.0'
    )
    assert restricted in router.metrics()
    (tenant, whatsapp), *_ = wait_for(lambda: writes.calls, what="the status patch")
    assert tenant == "tenants/alpha"
    account = whatsapp["account"]
    assert account["event"] == "ACCOUNT_RESTRICTION"
    assert account["restrictions"][0]["type"] == "RESTRICTED_BIZ_INITIATED_MESSAGING"


def test_a_customer_initiated_restriction_silences_replies(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"])
    router = start_router()
    _signal(
        router,
        "account_update",
        {
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [
                {"restriction_type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING",
                 "expiration": "2099-04-19T13:59:20+0000"},
            ],
        },
    )  # fmt: skip
    router.say("alpha", "are you open?", sender=CUSTOMER)
    router.say("beta", "are you open?", sender=CUSTOMER)  # another account: unaffected
    wait_for(lambda: 'result="restricted"' in router.metrics(), what="the refusal")
    wait_for(lambda: [c for c in graph.texts() if c.phone_number_id == "206065669065538"])
    assert [c for c in graph.texts() if c.phone_number_id == "105954558954427"] == []


def test_a_paused_template_is_not_sent_and_the_status_says_why(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    router, writes = _handing_over(start_router, agents, tenants)
    _signal(
        router,
        "message_template_status_update",
        {
            "event": "PAUSED",
            "message_template_id": 1689556908129832,
            "message_template_name": "katha_handoff",
            "message_template_language": "en",
            "reason": "NONE",
            "message_template_category": "UTILITY",
            "other_info": {"title": "FIRST_PAUSE", "description": "Paused for 3 hours."},
        },
    )
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    wait_for(lambda: _templates_sent(router, "handoff_notice", "unusable") == 1, what="refusal")
    assert _to(graph, OWNER) == []
    (_, whatsapp), *_ = wait_for(lambda: writes.calls, what="the status patch")
    assert whatsapp["templates"]["katha_handoff:en"]["event"] == "PAUSED"


def test_a_signal_signed_by_another_tenants_app_changes_nothing(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    router, writes = _handing_over(start_router, agents, tenants)
    restriction = {"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "DISABLE"}}
    _signal(router, "account_update", restriction, tenant="beta")  # beta's app, alpha's WABA
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    (notice,) = wait_for(lambda: _to(graph, OWNER), what="the owner's notice")
    assert notice.template is not None
    assert writes.calls == []


def test_a_quality_update_reaches_the_number_it_names_on_a_shared_account(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    for tenant in tenants.values():
        tenant.app_secret = "one-app-for-both-numbers-9f8e"
        tenant.extra["business_account_id"] = WABA_ID
    writes = Recorded()
    router = start_router(status=writes)
    router.say("alpha", "hi", sender=CUSTOMER)  # the router learns alpha's display number
    wait_for(lambda: _to(graph, CUSTOMER), what="the answer")
    quality = {
        "display_phone_number": "94112345678",
        "event": "FLAGGED",
        "current_limit": "TIER_1K",
    }
    _signal(router, "phone_number_quality_update", quality)
    (tenant, whatsapp), *_ = wait_for(lambda: writes.calls, what="the status patch")
    assert tenant == "tenants/alpha"
    assert whatsapp["quality"]["event"] == "FLAGGED"
    assert whatsapp["quality"]["messagingLimit"] == "TIER_1K"
    time.sleep(0.3)
    assert len(writes.calls) == 1  # beta shares the account, not the number


def test_a_customer_who_stopped_marketing_gets_no_marketing_template(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"], reopen={**REOPEN, "category": "MARKETING"})
    router = start_router()
    alpha = router.tenants["alpha"]
    preference = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY, "phone_number_id": alpha.phone_number_id},
        "contacts": [{"wa_id": CUSTOMER}],
        "user_preferences": [
            {"wa_id": CUSTOMER, "detail": "User requested to stop marketing messages",
             "category": "marketing_messages", "value": "stop", "timestamp": int(time.time())},
        ],
    }  # fmt: skip
    _signal(router, "user_preferences", preference)
    late = text("are you open?", sender=CUSTOMER, timestamp=str(int(time.time()) - DAY - 60))
    router.post(notification(alpha.phone_number_id, [late]), alpha.app_secret)
    wait_for(lambda: _templates_sent(router, "reopen", "opted_out") == 1, what="refusal")
    assert _to(graph, CUSTOMER) == []
    assert 'katha_router_marketing_preferences_total{tenant="tenants/alpha",value="stop"} 1.0' in (
        router.metrics()
    )


class Recorded:
    """A status writer that keeps what the router would patch into the Business."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def write(self, tenant: str, whatsapp: dict[str, Any]) -> bool:
        self.calls.append((tenant, whatsapp))
        return True

    async def aclose(self) -> None:
        return None


def test_a_number_whose_business_declares_no_account_is_pointed_out_once(
    harness: RouterHarness, graph: GraphApi
) -> None:
    with capture_logs() as logs:
        harness.say("alpha", "hi", sender=CUSTOMER)
        harness.say("alpha", "again", sender=CUSTOMER)
        wait_for(lambda: len(_to(graph, CUSTOMER)) == 2, what="both answers")
    warnings = [entry for entry in logs if entry["event"] == "route.account_unknown"]
    assert [(w["tenant"], w["declared"], w["webhook_account"]) for w in warnings] == [
        ("tenants/alpha", None, WABA_ID)
    ]


def test_a_late_retried_signal_does_not_undo_a_newer_one(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    router, writes = _handing_over(start_router, agents, tenants)
    paused = {
        "event": "PAUSED",
        "message_template_name": "katha_handoff",
        "message_template_language": "en",
    }
    approved = {**paused, "event": "APPROVED"}
    now = int(time.time())
    secret = router.tenants["alpha"].app_secret
    for value, at in ((approved, now), (paused, now - 600)):  # Meta retried the old one
        payload = account_change("message_template_status_update", value)
        payload["entry"][0]["time"] = at
        assert router.post(payload, secret).status_code == 200
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    (notice,) = wait_for(lambda: _to(graph, OWNER), what="the owner's notice")
    assert notice.template is not None  # still approved
    assert [call[1]["templates"]["katha_handoff:en"]["event"] for call in writes.calls] == [
        "APPROVED"
    ]


class Flaky(Recorded):
    """The API server refuses the first `failures` writes (a rollout, throttling)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def write(self, tenant: str, whatsapp: dict[str, Any]) -> bool:
        if self.failures > 0:
            self.failures -= 1
            return False
        return await super().write(tenant, whatsapp)


def test_a_status_write_the_api_server_refuses_is_retried_until_written(
    start_router: Callable[..., RouterHarness], tenants: dict[str, Tenant]
) -> None:
    _templates(tenants["alpha"])
    writes = Flaky(failures=2)
    router = start_router(status=writes)
    quality = {"display_phone_number": DISPLAY, "event": "FLAGGED", "current_limit": "TIER_250"}
    _signal(router, "phone_number_quality_update", quality)
    (_, whatsapp), *_ = wait_for(lambda: writes.calls, what="the status patch")
    assert whatsapp["quality"]["event"] == "FLAGGED"
    metrics = router.metrics()
    assert 'katha_router_business_status_writes_total{result="retried"} 2.0' in metrics
    assert 'katha_router_business_status_writes_total{result="written"} 1.0' in metrics


def test_declaring_another_businesss_account_collects_none_of_its_signals(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    tenants: dict[str, Tenant],
) -> None:
    """One platform app serves every tenant (Embedded Signup), so the signature cannot
    tell them apart: Meta's own message webhooks say which account a number is in."""
    for tenant in tenants.values():
        tenant.app_secret = "the-platforms-one-app-secret-77"
        tenant.extra["business_account_id"] = WABA_ID  # beta claims alpha's account
    writes = Recorded()
    router = start_router(status=writes)
    beta = router.tenants["beta"]
    theirs = notification(beta.phone_number_id, [text("hi", sender="94770004444")])
    theirs["entry"][0]["id"] = "555000111222333"  # beta's number is in its own account
    assert router.post(theirs, beta.app_secret).status_code == 200
    router.say("alpha", "hi", sender=CUSTOMER)  # alpha's number: in WABA_ID
    wait_for(lambda: len(graph.texts()) == 2, what="both answers")
    restriction = {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SCAM"}}
    _signal(router, "account_update", restriction)
    (tenant, whatsapp), *_ = wait_for(lambda: writes.calls, what="the status patch")
    assert tenant == "tenants/alpha"
    assert whatsapp["account"]["violation"] == "SCAM"
    time.sleep(0.3)
    assert [call[0] for call in writes.calls] == ["tenants/alpha"]


def test_an_answer_that_comes_after_the_window_closed_sends_the_reopen_template(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    _templates(tenants["alpha"], reopen=REOPEN)
    agents["alpha"][0].delay = 8.0  # the agent is slow; the window closes meanwhile
    router = start_router(agent_timeout_seconds=20.0)
    alpha = router.tenants["alpha"]
    written = int(time.time()) - DAY + 4
    message = text("are you open?", sender=CUSTOMER, timestamp=str(written))
    router.post(notification(alpha.phone_number_id, [message]), alpha.app_secret)
    (call,) = wait_for(lambda: _to(graph, CUSTOMER), timeout=30, what="the reopen template")
    assert call.template == ("katha_reopen", "en", ["Kandy Bakehouse"])
    assert len(agents["alpha"][0].received) == 1  # asked in time, answered too late

"""`katha up`'s local Graph API refuses what Meta refuses: free-form messages outside the
recipient's 24-hour window (131047), templates the Business never declared (132001) or
sent with the wrong number of body parameters (132000); declared templates go any time,
and a customer known only by a BSUID is addressed with `recipient`."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from katha.api.business import Template, Templates
from katha_cli.local.chat import Customer, webhook_body
from katha_cli.local.meta_rules import GraphRules, window_seconds_from_env
from katha_cli.local.outbox import Outbox, OutboxMessage, create_graph_app
from katha_cli.local.servers import BackgroundServer, bind
from katha_cli.local.state import TenantInfo, UpState

NUMBER = "106540352242922"
CUSTOMER = "16505551234"
OWNER = "94771234567"
BSUID = "US.13491208655302741918"
DAY = 24 * 3600.0
TEMPLATES = Templates(
    handoff_notice=Template(name="katha_handoff", languages=["si", "en"]),
    handoff_ended=Template(name="katha_back", languages=["en"]),
    reopen=Template(name="katha_reopen", languages=["en_US"]),
)


class Clock:
    """Meta's clock, moved by the test instead of waiting a day."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Graph:
    url: str
    outbox: Outbox
    clock: Clock

    def send(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.url}/v23.0/{NUMBER}/messages", json=body)

    def customer_wrote(self, value: dict[str, Any]) -> None:
        """A customer message Meta delivers (the `value` of a `messages` webhook)."""
        webhook = {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}
            ],
        }
        response = httpx.post(f"{self.url}/local/inbound", json=webhook)
        assert response.status_code == 200

    def sent(self) -> list[OutboxMessage]:
        found = httpx.get(f"{self.url}/outbox").json()["messages"]
        return [OutboxMessage.from_dict(item) for item in found]


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[Graph]:
    clock = Clock()
    outbox = Outbox(tmp_path / "outbox.db")
    rules = GraphRules(templates={NUMBER: TEMPLATES}, clock=clock)
    app = create_graph_app(outbox, frozenset(), rules=rules)
    server = BackgroundServer(app, bind("127.0.0.1", 0, "graph"), "graph").start()
    yield Graph(server.url, outbox, clock)
    server.stop()
    outbox.close()


def router_taking_any_webhook() -> BackgroundServer:
    """The router's part in `katha chat`: it takes the signed webhook (what it replies is
    played by the test, straight into the local Graph API)."""
    app = FastAPI()

    @app.post("/webhooks/whatsapp")
    async def webhook() -> dict[str, str]:
        return {"status": "ok"}

    return BackgroundServer(app, bind("127.0.0.1", 0, "router"), "router").start()


def from_phone(number: str, text: str = "Does it come in another color?") -> dict[str, Any]:
    """Meta's 2026 `messages` value from a customer whose phone may be shared."""
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": NUMBER},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": number, "user_id": BSUID}],
        "messages": [
            {"from": number, "from_user_id": BSUID, "id": "wamid.HBgL1", "timestamp": "1749416383",
             "type": "text", "text": {"body": text}}
        ],
    }  # fmt: skip


def from_username(bsuid: str) -> dict[str, Any]:
    """Meta's 2026 `messages` value from a username-only customer: no phone at all."""
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": NUMBER},
        "contacts": [{"profile": {"name": "Sheena Nelson", "username": "@realsheenanelson"},
                      "user_id": bsuid}],
        "messages": [
            {"from_user_id": bsuid, "id": "wamid.HBgL2", "timestamp": "1749416383",
             "type": "text", "text": {"body": "Does it come in another color?"}}
        ],
    }  # fmt: skip


def text(to: str, body: str = "Yes, in blue.") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": {"body": body}}  # fmt: skip


def template(
    name: str, code: str, *parameters: str, to: dict[str, str] | None = None
) -> dict[str, Any]:
    body = [{"type": "text", "text": value} for value in parameters]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **(to or {"to": OWNER}),
        "type": "template",
        "template": {"name": name, "language": {"code": code},
                     "components": [{"type": "body", "parameters": body}]},
    }  # fmt: skip


def assert_meta_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code}) ")
    assert error["type"] == "OAuthException"
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["fbtrace_id"]
    return error


def test_a_free_form_reply_inside_the_window_is_sent(graph: Graph) -> None:
    graph.customer_wrote(from_phone(CUSTOMER))
    graph.clock.now += DAY - 1
    response = graph.send(text(CUSTOMER))
    assert response.status_code == 200, response.text
    assert response.json()["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    assert [(m.recipient, m.kind, m.text) for m in graph.sent()] == [
        (CUSTOMER, "text", "Yes, in blue.")
    ]


def test_a_free_form_reply_after_the_window_is_refused_as_meta_does(graph: Graph) -> None:
    graph.customer_wrote(from_phone(CUSTOMER))
    graph.clock.now += DAY
    error = assert_meta_error(graph.send(text(CUSTOMER)), 400, 131047)
    assert error["message"] == "(#131047) Re-engagement message"
    assert "more than 24 hours have passed" in error["error_data"]["details"]
    assert graph.sent() == []
    graph.customer_wrote(from_phone(CUSTOMER, "hello again"))  # writing reopens the window
    assert graph.send(text(CUSTOMER)).status_code == 200


def test_someone_who_never_wrote_gets_no_free_form_message(graph: Graph) -> None:
    graph.customer_wrote(from_phone(CUSTOMER))
    assert_meta_error(graph.send(text(OWNER, "A customer needs you")), 400, 131047)
    other_number = {**text(CUSTOMER)}
    response = httpx.post(f"{graph.url}/v23.0/100000000000009/messages", json=other_number)
    assert_meta_error(response, 400, 131047)  # the window is per business number


def test_a_declared_template_goes_any_time(graph: Graph) -> None:
    graph.clock.now += 30 * DAY
    notice = template("katha_handoff", "si", "ab12cd34", "Sheena (16505551234)", "asked for a job")
    response = graph.send(notice)
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["message_status"] == "accepted"
    (sent,) = graph.sent()
    assert (sent.recipient, sent.kind) == (OWNER, "template")
    assert sent.text == (
        "[template katha_handoff si] ab12cd34 · Sheena (16505551234) · asked for a job"
    )
    assert graph.send(template("katha_reopen", "en_US", "Senkadagala Bakery")).status_code == 200


@pytest.mark.parametrize(
    ("name", "code"),
    [("katha_welcome", "en"), ("katha_handoff", "ta"), ("katha_reopen", "en")],
    ids=["undeclared-name", "undeclared-language", "language-must-match-exactly"],
)
def test_an_undeclared_template_or_translation_does_not_exist(
    graph: Graph, name: str, code: str
) -> None:
    error = assert_meta_error(graph.send(template(name, code, "Kandy")), 404, 132001)
    assert error["message"] == "(#132001) Template name does not exist in the translation"
    assert name in error["error_data"]["details"]
    assert graph.sent() == []


@pytest.mark.parametrize(
    ("name", "parameters"),
    [("katha_handoff", ("ab12cd34", "Sheena")), ("katha_back", ()), ("katha_back", ("a", "b"))],
)
def test_a_template_with_the_wrong_number_of_parameters_is_refused(
    graph: Graph, name: str, parameters: tuple[str, ...]
) -> None:
    error = assert_meta_error(graph.send(template(name, "en", *parameters)), 400, 132000)
    assert f"({len(parameters)})" in error["error_data"]["details"]
    assert graph.sent() == []


def test_a_username_only_customer_is_answered_through_recipient(graph: Graph) -> None:
    graph.customer_wrote(from_username("LK.90210"))
    body = {**text("LK.90210"), "recipient": "LK.90210"}
    del body["to"]
    response = graph.send(body)
    assert response.status_code == 200, response.text
    assert response.json()["contacts"] == [{"input": "LK.90210", "user_id": "LK.90210"}]
    assert [(m.recipient, m.text) for m in graph.sent()] == [("LK.90210", "Yes, in blue.")]
    assert_meta_error(graph.send({**body, "recipient": "LK.55555"}), 400, 131047)


def test_to_wins_over_recipient_and_a_bsuid_opens_the_window_too(graph: Graph) -> None:
    graph.customer_wrote(from_phone(CUSTOMER))  # carries the BSUID as well as the phone
    both = {**text(CUSTOMER), "recipient": BSUID}
    assert graph.send(both).json()["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    by_bsuid = {**text(CUSTOMER), "recipient": BSUID}
    del by_bsuid["to"]
    assert graph.send(by_bsuid).status_code == 200
    assert [m.recipient for m in graph.sent()] == [CUSTOMER, BSUID]
    template_to_bsuid = template("katha_back", "en", "Amali", to={"recipient": "LK.77"})
    assert graph.send(template_to_bsuid).status_code == 200  # templates need no window


def test_a_message_to_nobody_is_an_invalid_parameter(graph: Graph) -> None:
    body = text(CUSTOMER)
    del body["to"]
    assert_meta_error(graph.send(body), 400, 100)


def test_katha_chat_opens_the_window_and_shows_a_template_reply(graph: Graph) -> None:
    # The chat tells the local Graph API of its message before the router gets it, so
    # the router's free-form reply is inside the window.
    router = router_taking_any_webhook()
    state = UpState(pid=0, directory=".", router_url=router.url, graph_url=graph.url,
                    agents_url="http://127.0.0.1:9", tenants=[])  # fmt: skip
    tenant = TenantInfo(key="demo/tea", display_name="Tea", phone_number_id=NUMBER,
                        app_secret="local-x")  # fmt: skip
    try:
        with Customer(state, tenant, number=CUSTOMER) as customer:
            message_id = customer.send("Is the shop open?")
            assert graph.send(text(CUSTOMER)).status_code == 200
            reopen = template("katha_reopen", "en_US", "Tea", to={"to": CUSTOMER})
            graph.send({**reopen, "context": {"message_id": message_id}})
            answer = customer.wait_for_reply(message_id, after=0, started=time.perf_counter())
    finally:
        router.stop()
    assert answer.text == "[template katha_reopen en_US] Tea"


def test_a_template_handoff_notice_is_released_by_katha_chat(graph: Graph) -> None:
    # `/release` reads the owner's notice: as a template, the reference is its first
    # parameter; the owner's "release <ref>" then goes out as the owner's own message.
    router = router_taking_any_webhook()
    state = UpState(pid=0, directory=".", router_url=router.url, graph_url=graph.url,
                    agents_url="http://127.0.0.1:9", tenants=[])  # fmt: skip
    tenant = TenantInfo(key="demo/tea", display_name="Tea", phone_number_id=NUMBER,
                        app_secret="local-x", owner_number="+" + OWNER)  # fmt: skip
    graph.send(template("katha_handoff", "en", "9f8e7d6c", "Amali (94770000001)", "refund"))
    graph.send(template("katha_handoff", "en", "ab12cd34", f"Tester ({CUSTOMER})", "a job"))
    try:
        with Customer(state, tenant, number=CUSTOMER) as customer:
            assert customer.release() == "ab12cd34"
    finally:
        router.stop()
    # The owner wrote ("release ab12cd34"): a free-form message may now reach them.
    assert graph.send(text(OWNER, "Released.")).status_code == 200


def test_the_window_can_be_shortened_by_hand() -> None:
    assert window_seconds_from_env({}) == DAY
    assert window_seconds_from_env({"KATHA_LOCAL_WINDOW_SECONDS": "90"}) == 90.0
    for bad in ("0", "-5", "a day", "inf", "nan"):
        with pytest.raises(ValueError, match="KATHA_LOCAL_WINDOW_SECONDS must be a positive"):
            window_seconds_from_env({"KATHA_LOCAL_WINDOW_SECONDS": bad})


def test_katha_chats_webhook_opens_the_window_of_its_sender(graph: Graph) -> None:
    tenant = TenantInfo(key="demo/tea", display_name="Tea", phone_number_id=NUMBER,
                        app_secret="local-x")  # fmt: skip
    webhook = webhook_body(tenant, CUSTOMER, "Tester", "wamid.katha.1", "hi")
    assert httpx.post(f"{graph.url}/local/inbound", json=webhook).json() == {"recorded": 1}
    assert graph.outbox.last_inbound(NUMBER, CUSTOMER) == graph.clock.now

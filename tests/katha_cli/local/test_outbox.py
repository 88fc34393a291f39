"""The local Graph API keeps replies of local tenants in the outbox and passes a live
tenant's messages on to Meta unchanged, with Meta's answer (errors included) back."""

import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from katha.contracts.messages import ReplyTracking
from katha_cli.local import chat
from katha_cli.local.chat import Customer, WithPersonError, webhook_body
from katha_cli.local.outbox import Outbox, OutboxMessage, create_graph_app
from katha_cli.local.router_process import LOCAL_HANDOFF_SECONDS
from katha_cli.local.servers import BackgroundServer, PortInUseError, bind
from katha_cli.local.state import TenantInfo, UpState

LOCAL, LIVE = "100000000000001", "100000000000002"


class Meta:
    """Graph API as Meta runs it, for the forwarding: records calls, can throttle."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, dict[str, Any]]] = []
        self.throttle = False

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/{version}/{number}/messages")
        async def messages(version: str, number: str, request: Request) -> JSONResponse:
            self.calls.append((number, request.headers.get("authorization"), await request.json()))
            if self.throttle:
                error = {"message": "(#130429) Rate limit hit", "type": "OAuthException"}
                return JSONResponse({"error": {**error, "code": 130429}}, status_code=429)
            return JSONResponse({"messaging_product": "whatsapp", "messages": [{"id": "wamid.M"}]})

        return api


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, Outbox, Meta, list[OutboxMessage]]]:
    meta = Meta()
    meta_server = BackgroundServer(meta.app(), bind("127.0.0.1", 0, "meta"), "meta").start()
    outbox = Outbox(tmp_path / "outbox.db")
    shown: list[OutboxMessage] = []
    app = create_graph_app(
        outbox, frozenset({LIVE}), meta_url=meta_server.url, on_message=shown.append
    )
    graph = BackgroundServer(app, bind("127.0.0.1", 0, "graph"), "graph").start()
    customer_wrote(graph.url, "9477")  # else Meta's rules refuse free-form replies to them
    yield graph.url, outbox, meta, shown
    graph.stop()
    meta_server.stop()
    outbox.close()


def customer_wrote(url: str, customer: str) -> None:
    """The local Graph API learns of a customer's message as `katha chat` tells it."""
    tenant = TenantInfo(
        key="demo/tea", display_name="Tea", phone_number_id=LOCAL, app_secret="local-x"
    )
    webhook = webhook_body(tenant, customer, "Tester", "wamid.IN1", "hello")
    assert httpx.post(f"{url}/local/inbound", json=webhook).json() == {"recorded": 1}


def text_body(to: str, text: str, tracking: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": text, "preview_url": False},
        "context": {"message_id": "wamid.IN1"},
    }
    if tracking:
        body["biz_opaque_callback_data"] = tracking
    return body


def test_local_replies_land_in_the_outbox_with_their_tracking(
    stack: tuple[str, Outbox, Meta, list[OutboxMessage]],
) -> None:
    url, outbox, meta, shown = stack
    tracking = ReplyTracking(language="si", sources=["file://menu.pdf#page 1"]).encode()
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    assert httpx.post(f"{url}/v23.0/{LOCAL}/messages", json=read).json() == {"success": True}
    sent = httpx.post(f"{url}/v23.0/{LOCAL}/messages", json=text_body("9477", "ආයුබෝවන්", tracking))
    assert sent.status_code == 200
    assert sent.json()["messages"][0]["id"].startswith("wamid.local.")
    (message,) = [OutboxMessage.from_dict(m) for m in httpx.get(f"{url}/outbox").json()["messages"]]
    assert (message.text, message.recipient, message.reply_to) == ("ආයුබෝවන්", "9477", "wamid.IN1")
    assert message.tracking == ReplyTracking(language="si", sources=["file://menu.pdf#page 1"])
    assert not message.forwarded
    assert shown == [message]
    assert meta.calls == []
    assert httpx.get(f"{url}/outbox", params={"after": message.seq}).json()["messages"] == []
    assert httpx.get(f"{url}/outbox", params={"to": "9478"}).json()["messages"] == []
    assert httpx.get(f"{url}/outbox/last").json() == {"seq": outbox.last_seq()}
    # The receipt is kept (never shown as a message): which message the router marked read.
    assert httpx.get(f"{url}/outbox/read", params={"message_id": "wamid.IN1"}).json() == {
        "read": True
    }
    assert not outbox.was_read("wamid.IN9")


def test_live_numbers_go_to_meta_unchanged_and_its_errors_come_back(
    stack: tuple[str, Outbox, Meta, list[OutboxMessage]],
) -> None:
    url, outbox, meta, shown = stack
    headers = {"Authorization": "Bearer EAAG-live"}
    body = text_body("9477", "hello")
    response = httpx.post(f"{url}/v23.0/{LIVE}/messages", json=body, headers=headers)
    assert response.json()["messages"] == [{"id": "wamid.M"}]
    assert meta.calls == [(LIVE, "Bearer EAAG-live", body)]
    assert [m.forwarded for m in outbox.since()] == [True]
    assert [m.text for m in shown] == ["hello"]
    meta.throttle = True
    refused = httpx.post(f"{url}/v23.0/{LIVE}/messages", json=body, headers=headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == 130429
    assert len(outbox.since()) == 1  # what Meta refused was not sent


def test_bad_requests_get_graph_errors(
    stack: tuple[str, Outbox, Meta, list[OutboxMessage]],
) -> None:
    url, outbox, _, _ = stack
    garbage = httpx.post(f"{url}/v23.0/{LOCAL}/messages", content=b"{nope")
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == 100
    wrong = httpx.post(f"{url}/v23.0/{LOCAL}/messages", json={"messaging_product": "sms"})
    assert wrong.status_code == 400
    assert outbox.since() == []


def test_a_port_in_use_is_named() -> None:
    taken = bind("127.0.0.1", 0, "first")
    port = taken.getsockname()[1]
    with pytest.raises(PortInUseError, match=f"router: port {port} on 127.0.0.1 is in use"):
        bind("127.0.0.1", port, "router")
    taken.close()


def test_a_long_poll_returns_as_soon_as_a_message_arrives(
    stack: tuple[str, Outbox, Meta, list[OutboxMessage]],
) -> None:
    url, _, _, _ = stack
    timer = threading.Timer(
        0.3,
        lambda: httpx.post(f"{url}/v23.0/{LOCAL}/messages", json=text_body("9477", "later")),
    )
    timer.start()
    # The poll may wait 60 s; the client gives up after 30: only the message can end it.
    response = httpx.get(f"{url}/outbox", params={"to": "9477", "wait": 60}, timeout=30)
    timer.join()
    assert [m["text"] for m in response.json()["messages"]] == ["later"]
    empty = httpx.get(f"{url}/outbox", params={"to": "9999", "wait": 0.2}, timeout=30)
    assert empty.json()["messages"] == []


def tea_shop(graph_url: str) -> tuple[UpState, TenantInfo]:
    """A `katha up` state whose only working part is the local Graph API, and its tenant."""
    state = UpState(
        pid=0, directory=".", router_url="http://127.0.0.1:9", graph_url=graph_url,
        agents_url="http://127.0.0.1:9", tenants=[],
    )  # fmt: skip
    tenant = TenantInfo(
        key="demo/tea", display_name="Tea", phone_number_id=LOCAL, app_secret="local-x"
    )
    return state, tenant


def test_a_customer_waiting_longer_than_one_poll_still_gets_the_reply(
    stack: tuple[str, Outbox, Meta, list[OutboxMessage]],
) -> None:
    # `katha ask --timeout 150`: the outbox caps one long-poll at 60 s, so the customer
    # polls again rather than asking for 150 s at once (which the outbox refused with 422).
    url, _, _, _ = stack
    state, tenant = tea_shop(url)
    timer = threading.Timer(
        0.3,
        lambda: httpx.post(f"{url}/v23.0/{LOCAL}/messages", json=text_body("9477", "later")),
    )
    timer.start()
    with Customer(state, tenant, number="9477", timeout=150) as customer:
        answer = customer.wait_for_reply("wamid.IN1", after=0, started=time.perf_counter())
    timer.join()
    assert answer.text == "later"


def test_a_customer_a_person_has_is_told_so_after_a_short_wait_not_the_whole_timeout(
    stack: tuple[str, Outbox, Meta, list[OutboxMessage]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `katha ask` after the agent handed this customer to a person: the agent stays quiet,
    # so the customer hears why after the short wait rather than after 60 s of nothing.
    url, _, _, _ = stack
    monkeypatch.setattr(chat, "WITH_PERSON_WAIT_SECONDS", 1.0)
    state, tenant = tea_shop(url)
    post = partial(httpx.post, f"{url}/v23.0/{LOCAL}/messages")
    with Customer(state, tenant, number="9477", timeout=60) as customer:
        assert customer.handed_over_at() is None  # nothing sent to them yet
        post(json=text_body("9477", "Rs. 2,800", ReplyTracking(language="en").encode()))
        assert customer.handed_over_at() is None  # the agent answered them
        post(json=text_body("9477", "A person will help", ReplyTracking(handoff=True).encode()))
        handed = customer.handed_over_at()
        assert handed is not None
        assert abs(handed - time.time()) < 5
        post(json=text_body("9477", "Owner here, yes we do"))  # the owner's own words
        assert customer.handed_over_at() == handed  # untracked: not the agent's
        assert customer.handed_over_at(now=handed + LOCAL_HANDOFF_SECONDS + 1) is None

        # The router never marked the message read: a person has it.
        started = time.perf_counter()
        with pytest.raises(WithPersonError, match="handed to a person at"):
            customer.wait_for_reply("wamid.IN2", after=0, started=started, handed_over=handed)
        assert 1.0 <= time.perf_counter() - started < 30

        # Given back meanwhile: the router marks the message read as the agent takes it,
        # and a reply slower than the short wait still arrives.
        read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN3"}
        assert post(json=read).json() == {"success": True}
        reply = {**text_body("9477", "Check-in is at 2.00"), "context": {"message_id": "wamid.IN3"}}
        timer = threading.Timer(2.0, lambda: post(json=reply))
        timer.start()
        answer = customer.wait_for_reply(
            "wamid.IN3", after=0, started=time.perf_counter(), handed_over=handed
        )
        timer.join()
        assert answer.text == "Check-in is at 2.00"
    other = TenantInfo(key="demo/rice", display_name="Rice", phone_number_id=LIVE, app_secret="x")
    with Customer(state, other, number="9477", timeout=60) as customer:
        assert customer.handed_over_at() is None  # another business's handoff is not this one

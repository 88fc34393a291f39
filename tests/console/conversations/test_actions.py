"""Take over / reply / release through the console's API, against the real router: the
customer gets a person's words on WhatsApp (the Graph API peer), the store keeps the
handoff and the words as the router wrote them, each act is audited; what the router will
not send, its refusals and its absence are answered plainly."""

import time
from collections.abc import Awaitable, Sequence

from console_under_test import (
    ALPHA,
    BETA,
    CUSTOMER,
    NUMBERS,
    Console,
    eventually,
    message,
    router_inbox,
)
from peers.loopback import ServerThread
from peers.whatsapp_webhooks import account_change
from pydantic import SecretStr

from console.app import create_app
from katha.store.console_tables import ConsoleTables
from router.account import account_state
from router.handoff import CUSTOMER as CUSTOMER_RECORD

CONVERSATIONS = f"/api/v1/tenants/{ALPHA}/conversations"
QUESTION = "வணக்கம், இன்று கேக் இருக்கிறதா?"
DAY = 24 * 3600


async def waiting(console: Console, sender: str = CUSTOMER, tenant: str = ALPHA) -> str:
    """A customer's conversation the agent has answered: the router is done with it."""
    conversation = await console.customer_writes(tenant, QUESTION, sender=sender)
    await console.answered(tenant, QUESTION, sender=sender)
    return conversation


async def kept(console: Console, conversation: str, tenant: str = ALPHA) -> list[tuple[str, ...]]:
    """(author, kind, words or reason) of each event the store holds for it."""
    thread = await console.thread(tenant, conversation)
    return [(e.author, e.kind, e.text or e.handoff_reason or "") for e in thread]


async def test_takeover_reply_release_reach_the_router_and_are_audited(console: Console) -> None:
    conversation = await waiting(console)
    actions = f"{CONVERSATIONS}/{conversation}"
    async with await console.sign_in({ALPHA: "staff"}, display="Nimal") as client:
        taken = await client.post(f"{actions}/takeover")
        sent = await client.post(f"{actions}/reply", json={"text": "ආයුබෝවන්!"})
        released = await client.post(f"{actions}/release")
    assert taken.json() == {"with_person": True}
    assert sent.json() == {"sent": "free_form"}
    assert released.json() == {"released": True}
    [words] = [call for call in console.sent_to(CUSTOMER) if call.text == "ආයුබෝවන්!"]
    assert words.phone_number_id == NUMBERS[ALPHA]  # from the Business's own number
    expected = [
        ("customer", "message", QUESTION),
        ("agent", "message", f"alpha answers: {QUESTION}"),
        ("system", "handoff_started", "taken over in the console"),
        ("person", "message", "ආයුබෝවන්!"),
        ("person", "handoff_released", ""),
    ]
    await eventually(
        lambda: _starts_with(kept(console, conversation), expected), "the thread, kept"
    )
    assert (await console.router_state(conversation)).handoff_until is None  # the agent's again
    audit = await ConsoleTables.of(console.store).audit_log(ALPHA)
    assert sorted((row.action, row.target, row.subject) for row in audit) == [
        ("conversation.release", conversation, "test:Nimal"),
        ("conversation.reply", conversation, "test:Nimal"),
        ("conversation.takeover", conversation, "test:Nimal"),
    ]


async def _starts_with(events: Awaitable[Sequence[object]], expected: Sequence[object]) -> bool:
    found = await events
    return list(found[: len(expected)]) == list(expected)


async def test_the_same_reply_id_reaches_the_customer_once(console: Console) -> None:
    conversation = await waiting(console)
    reply = f"{CONVERSATIONS}/{conversation}/reply"
    body = {"text": "Your cake is ready", "reply_id": "tap-1"}
    async with await console.sign_in({ALPHA: "owner"}) as client:
        first = await client.post(reply, json=body)
        again = await client.post(reply, json=body)
        other = await client.post(reply, json=body | {"reply_id": "tap-2"})
        edited = await client.post(reply, json=body | {"text": "Your cake is ready now"})
    assert first.json() == again.json() == other.json() == {"sent": "free_form"}
    # One message per reply_id reached the customer: a retry (here, or on another replica)
    # is not sent twice. Edited words under an id already sent are refused, never answered
    # "sent" for words that did not go out (a new id sends them).
    assert edited.status_code == 409
    assert "reply_id_reused" in edited.text or "other words" in edited.text
    person = [text for text in console.texts_to(CUSTOMER) if text.startswith("Your cake")]
    assert person == ["Your cake is ready", "Your cake is ready"]
    await eventually(
        lambda: _starts_with(_person_words(console, conversation), person), "the replies, kept"
    )
    assert await _person_words(console, conversation) == person


async def _person_words(console: Console, conversation: str) -> list[str]:
    return [e.text or "" for e in await console.thread(ALPHA, conversation) if e.author == "person"]


async def test_a_reply_id_the_router_would_refuse_is_refused_here(console: Console) -> None:
    conversation = await waiting(console)
    reply = f"{CONVERSATIONS}/{conversation}/reply"
    async with await console.sign_in({ALPHA: "owner"}) as client:
        for reply_id in ("has space", "x" * 101, "", "ünïcode", "a/b"):
            body = {"text": "hello", "reply_id": reply_id}
            answer = await client.post(reply, json=body)
            assert answer.status_code == 422, reply_id
        fine = {"text": "hello", "reply_id": "8f14e45f-ceea-467f-a0e6-1f7c0a2d3b4c:1.x_y"}
        assert (await client.post(reply, json=fine)).status_code == 200
    assert [text for text in console.texts_to(CUSTOMER) if text == "hello"] == ["hello"]


async def test_a_reply_the_router_will_not_send_answers_409_with_the_reason(
    console: Console,
) -> None:
    ordinary = await waiting(console)
    late = "94770002222"  # last wrote more than 24 hours ago
    old = str(int(time.time()) - DAY - 60)
    outside = await console.customer_writes(ALPHA, "are you open?", sender=late, timestamp=old)
    forgotten = await waiting(console, sender="94770003333")
    async with router_inbox(console.inbox_url) as inbox:  # 30 days on: the ids expired
        stored = await inbox.record(CUSTOMER_RECORD + forgotten)
        assert stored is not None
        await inbox.save_record(CUSTOMER_RECORD + forgotten, stored, ttl_seconds=0)
    answers = {}
    async with await console.sign_in({ALPHA: "owner"}) as client:

        async def reply(conversation: str) -> tuple[int, object]:
            answer = await client.post(f"{CONVERSATIONS}/{conversation}/reply", json=WORDS)
            return answer.status_code, answer.json()

        console.graph.failures.append((400, 131026))  # Meta: the message is undeliverable
        answers["failed"] = await reply(ordinary)
        answers["outside_window"] = await reply(outside)
        answers["unknown_customer"] = await reply(forgotten)
        await _restrict(console)
        answers["restricted"] = await reply(ordinary)
    assert answers == {outcome: (409, {"detail": outcome}) for outcome in answers}
    assert all(call.text != WORDS["text"] for call in console.graph.texts())  # none sent
    assert [call.text for call in console.graph.refused] == [WORDS["text"]]


WORDS = {"text": "Sorry for the wait!"}


async def _restrict(console: Console) -> None:
    """Meta restricts alpha's account (an account_update webhook): no replies for now."""
    restriction = {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [
            {
                "restriction_type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING",
                "expiration": "2099-04-19T13:59:20+0000",
            },
        ],
    }
    alpha = console.router.tenants["alpha"]
    assert console.router.post(account_change("account_update", restriction), alpha.app_secret)

    async def restricted() -> bool:
        async with router_inbox(console.inbox_url) as inbox:
            return not (await account_state(inbox, ALPHA)).may_reply()

    await eventually(restricted, "the restriction, kept by the router")


async def test_router_answers_are_mapped(console: Console) -> None:
    await console.record(message(1, conversation="c-2"))  # in the store, never the router's
    conversation = await waiting(console)
    refusing = console.settings.model_copy(
        update={"router_admin_token": SecretStr("not-the-routers-token")}
    )
    misconfigured = ServerThread(create_app(refusing)).start()
    try:
        async with await console.sign_in({ALPHA: "owner"}) as client:
            gone = await client.post(f"{CONVERSATIONS}/c-2/takeover")
            client.base_url = misconfigured.url  # the same session, a console the router refuses
            refused = await client.post(f"{CONVERSATIONS}/{conversation}/takeover")
    finally:
        misconfigured.stop()
    assert gone.status_code == 404
    assert refused.status_code == 502
    assert not await console.with_person(ALPHA, conversation)


async def test_a_router_that_is_down_or_failing_answers_503(console: Console) -> None:
    conversation = await waiting(console)
    actions = f"{CONVERSATIONS}/{conversation}"
    attempts = console.router.settings.graph_max_attempts
    async with await console.sign_in({ALPHA: "owner"}) as client:
        console.graph.failures.extend([(503, 2)] * attempts)  # Meta is not answering
        failing = await client.post(f"{actions}/reply", json={"text": "hello"})
        console.router_server.stop()
        down = await client.post(f"{actions}/release")
    assert failing.status_code == down.status_code == 503
    assert down.json() == {"detail": "the router is not answering; try again"}
    assert len(console.graph.refused) == attempts  # the router tried, and sent nothing
    assert "hello" not in console.texts_to(CUSTOMER)


async def test_a_conversation_unknown_to_the_business_never_reaches_the_router(
    console: Console,
) -> None:
    theirs = await waiting(console, tenant=BETA)
    async with await console.sign_in({BETA: "owner"}) as beta:
        assert (
            await beta.post(f"/api/v1/tenants/{BETA}/conversations/{theirs}/takeover")
        ).is_success
    before = await kept(console, theirs, BETA)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        for action in ("takeover", "reply", "release"):
            response = await client.post(f"{CONVERSATIONS}/{theirs}/{action}", json={"text": "x"})
            assert response.status_code == 404, action
    # The router releases by the id alone: had the release reached it, beta's customer
    # would be back with the agent.
    assert (await console.router_state(theirs)).handoff_until is not None
    assert "x" not in console.texts_to(CUSTOMER)
    assert await kept(console, theirs, BETA) == before


async def test_changes_with_a_session_need_the_csrf_token(console: Console) -> None:
    conversation = await waiting(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        del client.headers["X-CSRF-Token"]
        response = await client.post(f"{CONVERSATIONS}/{conversation}/takeover")
    assert response.status_code == 403
    assert (await console.router_state(conversation)).handoff_until is None
    assert not await console.with_person(ALPHA, conversation)


async def test_an_api_token_reads_and_acts_on_its_business_only(console: Console) -> None:
    await console.record(message(1, conversation="c-1"), message(2, conversation="c-3"))
    conversation = await waiting(console)
    async with await console.api_token(ALPHA) as client:
        listed = await client.get(CONVERSATIONS)
        taken = await client.post(f"{CONVERSATIONS}/{conversation}/takeover")
        other = await client.get(f"/api/v1/tenants/{BETA}/conversations")
    assert [row["conversation_id"] for row in listed.json()["conversations"]] == [
        conversation,
        "c-3",
        "c-1",
    ]
    assert taken.status_code == 200
    assert await console.with_person(ALPHA, conversation)  # written before the router answered
    assert other.status_code == 404

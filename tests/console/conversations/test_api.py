"""The conversations API under /api/v1: lists with filters and keyset pages, threads, and
take over / reply / release reaching the router, audited, with its answers mapped."""

from typing import Any

from console_under_test import ALPHA, BETA, START, Console, message

from katha.store.console_tables import ConsoleTables

CONVERSATIONS = f"/api/v1/tenants/{ALPHA}/conversations"


async def seed_three(console: Console) -> None:
    """c-1 answered by the agent in Sinhala, c-2 waiting in Tamil, c-3 with a person."""
    await console.record(
        message(1, conversation="c-1", language="si", customer_name="Kamal"),
        message(2, conversation="c-1", author="agent", language="si", intent="hours",
                sources=["https://alpha.lk/menu", "faq:opening-hours"]),
        message(3, conversation="c-2", language="ta", customer_handle="94770001111"),
        message(4, conversation="c-3", language="en"),
        message(5, conversation="c-3", kind="handoff_started", text=None, author="system",
                handoff_reason="asked for a person"),
    )  # fmt: skip


def ids(body: dict[str, Any]) -> list[str]:
    return [row["conversation_id"] for row in body["conversations"]]


async def test_tenants_lists_the_principals_businesses_and_roles(console: Console) -> None:
    async with await console.sign_in({ALPHA: "owner", BETA: "staff"}) as client:
        response = await client.get("/api/v1/tenants")
    assert response.status_code == 200
    assert response.json() == {
        "tenants": [
            {"tenant": ALPHA, "namespace": "shops", "name": "alpha", "role": "owner"},
            {"tenant": BETA, "namespace": "shops", "name": "beta", "role": "staff"},
        ]
    }


async def test_list_is_newest_first_and_filters(console: Console) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "staff"}) as client:
        everything = (await client.get(CONVERSATIONS)).json()
        person = (await client.get(CONVERSATIONS, params={"with_person": "true"})).json()
        waiting = (await client.get(CONVERSATIONS, params={"unanswered": "true"})).json()
        tamil = (await client.get(CONVERSATIONS, params={"language": "ta"})).json()
    assert ids(everything) == ["c-3", "c-2", "c-1"]
    assert ids(person) == ["c-3"]
    assert ids(waiting) == ["c-3", "c-2"]
    assert ids(tamil) == ["c-2"]
    first = everything["conversations"][2]
    assert first["customer_name"] == "Kamal"
    assert first["unanswered"] is False
    assert everything["next_before"] is None


async def test_keyset_pages_cover_every_conversation_once(console: Console) -> None:
    # Five share one time: the page boundary falls among equal times.
    await console.record(
        *(message(n, conversation=f"c-{n:02}", at=START) for n in range(5)),
        *(message(n, conversation=f"c-{n:02}") for n in range(5, 12)),
    )
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 4}
    async with await console.sign_in({ALPHA: "owner"}) as client:
        while True:
            body = (await client.get(CONVERSATIONS, params=params)).json()
            seen += ids(body)
            if body["next_before"] is None:
                break
            params = {
                "limit": 4,
                "before": body["next_before"],
                "before_id": body["next_before_id"],
            }
    assert seen == [f"c-{n:02}" for n in range(11, 4, -1)] + [f"c-{n:02}" for n in range(4, -1, -1)]


async def test_thread_has_every_event_with_the_agents_language_intent_and_sources(
    console: Console,
) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "staff"}) as client:
        thread = (await client.get(f"{CONVERSATIONS}/c-1")).json()
        with_person = (await client.get(f"{CONVERSATIONS}/c-3")).json()
        missing = await client.get(f"{CONVERSATIONS}/c-404")
    assert [event["author"] for event in thread["events"]] == ["customer", "agent"]
    reply = thread["events"][1]
    assert (reply["language"], reply["intent"]) == ("si", "hours")
    assert reply["sources"] == ["https://alpha.lk/menu", "faq:opening-hours"]
    assert thread["with_person"] is False
    assert with_person["with_person"] is True
    assert missing.status_code == 404


async def test_takeover_reply_release_reach_the_router_and_are_audited(console: Console) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "staff"}, display="Nimal") as client:
        taken = await client.post(f"{CONVERSATIONS}/c-2/takeover")
        sent = await client.post(f"{CONVERSATIONS}/c-2/reply", json={"text": "ආයුබෝවන්!"})
        released = await client.post(f"{CONVERSATIONS}/c-2/release")
    assert taken.json() == {"with_person": True}
    assert sent.json() == {"sent": "free_form"}
    assert released.json() == {"released": True}
    calls = [(call.action, call.conversation_id, call.body) for call in console.router.calls]
    assert calls == [
        ("takeover", "c-2", {"tenant": ALPHA}),
        ("reply", "c-2", {"tenant": ALPHA, "text": "ආයුබෝවන්!", "author": "Nimal"}),
        ("release", "c-2", {}),
    ]
    assert {call.authorization for call in console.router.calls} == {
        "Bearer console-admin-7c1e94b2d05a"
    }
    audit = await ConsoleTables.of(console.store).audit_log(ALPHA)
    assert sorted((row.action, row.target, row.subject) for row in audit) == [
        ("conversation.release", "c-2", "test:Nimal"),
        ("conversation.reply", "c-2", "test:Nimal"),
        ("conversation.takeover", "c-2", "test:Nimal"),
    ]


async def test_the_same_reply_id_reaches_the_customer_once(console: Console) -> None:
    await seed_three(console)
    body = {"text": "Your cake is ready", "reply_id": "tap-1"}
    async with await console.sign_in({ALPHA: "owner"}) as client:
        first = await client.post(f"{CONVERSATIONS}/c-2/reply", json=body)
        again = await client.post(f"{CONVERSATIONS}/c-2/reply", json=body)
        other = await client.post(f"{CONVERSATIONS}/c-2/reply", json=body | {"reply_id": "tap-2"})
        edited = await client.post(
            f"{CONVERSATIONS}/c-2/reply", json=body | {"text": "Your cake is ready now"}
        )
    assert first.json() == again.json() == other.json() == edited.json() == {"sent": "free_form"}
    # The router hears each reply_id, so a retry on another replica is not sent twice; the
    # same id with edited words is a reply of its own.
    assert [call.body.get("reply_id") for call in console.router.calls] == [
        "tap-1",
        "tap-2",
        "tap-1",
    ]
    assert console.router.calls[2].body["text"] == "Your cake is ready now"


async def test_a_reply_id_the_router_would_refuse_is_refused_here(console: Console) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        for reply_id in ("has space", "x" * 101, "", "ünïcode", "a/b"):
            body = {"text": "hello", "reply_id": reply_id}
            answer = await client.post(f"{CONVERSATIONS}/c-2/reply", json=body)
            assert answer.status_code == 422, reply_id
        fine = {"text": "hello", "reply_id": "8f14e45f-ceea-467f-a0e6-1f7c0a2d3b4c:1.x_y"}
        assert (await client.post(f"{CONVERSATIONS}/c-2/reply", json=fine)).status_code == 200
    assert len(console.router.calls) == 1


async def test_a_reply_the_router_will_not_send_answers_409_with_the_reason(
    console: Console,
) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        answers = {}
        for outcome in ("outside_window", "unknown_customer", "restricted", "failed", "template"):
            console.router.reply_answer = outcome
            answer = await client.post(f"{CONVERSATIONS}/c-2/reply", json={"text": "hello"})
            answers[outcome] = (answer.status_code, answer.json())
        console.router.refuse["reply"] = (409, {"detail": "outside_window"})
        refused = await client.post(f"{CONVERSATIONS}/c-2/reply", json={"text": "hello"})
    # "template" is no answer of the router's any more: whatever is not free_form was not sent.
    assert answers == {outcome: (409, {"detail": outcome}) for outcome in answers}
    assert (refused.status_code, refused.json()) == (409, {"detail": "outside_window"})


async def test_router_answers_are_mapped(console: Console) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        console.router.refuse["takeover"] = (404, {"detail": "no such conversation"})
        gone = await client.post(f"{CONVERSATIONS}/c-2/takeover")
        console.router.refuse["release"] = (503, {"detail": "draining"})
        down = await client.post(f"{CONVERSATIONS}/c-2/release")
        console.router.refuse["takeover"] = (400, {"detail": "bad"})
        refused = await client.post(f"{CONVERSATIONS}/c-2/takeover")
    assert gone.status_code == 404
    assert down.status_code == 503
    assert refused.status_code == 502


async def test_a_router_that_is_down_or_failing_answers_503(console: Console) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        console.router.refuse["takeover"] = (500, {"detail": "boom"})
        failing = await client.post(f"{CONVERSATIONS}/c-2/takeover")
        console.router_server.stop()
        down = await client.post(f"{CONVERSATIONS}/c-2/release")
    assert failing.status_code == down.status_code == 503
    assert down.json() == {"detail": "the router is not answering; try again"}


async def test_a_conversation_unknown_to_the_business_never_reaches_the_router(
    console: Console,
) -> None:
    await seed_three(console)
    await console.record(message(9, tenant=BETA, conversation="c-beta"))
    async with await console.sign_in({ALPHA: "owner"}) as client:
        for action in ("takeover", "reply", "release"):
            response = await client.post(f"{CONVERSATIONS}/c-beta/{action}", json={"text": "x"})
            assert response.status_code == 404, action
    assert console.router.calls == []


async def test_changes_with_a_session_need_the_csrf_token(console: Console) -> None:
    await seed_three(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        del client.headers["X-CSRF-Token"]
        response = await client.post(f"{CONVERSATIONS}/c-2/takeover")
    assert response.status_code == 403
    assert console.router.calls == []


async def test_an_api_token_reads_and_acts_on_its_business_only(console: Console) -> None:
    await seed_three(console)
    async with await console.api_token(ALPHA) as client:
        listed = await client.get(CONVERSATIONS)
        taken = await client.post(f"{CONVERSATIONS}/c-2/takeover")
        other = await client.get(f"/api/v1/tenants/{BETA}/conversations")
    assert ids(listed.json()) == ["c-3", "c-2", "c-1"]
    assert taken.status_code == 200
    assert other.status_code == 404


async def test_bad_query_values_are_refused(console: Console) -> None:
    async with await console.sign_in({ALPHA: "owner"}) as client:
        naive = await client.get(CONVERSATIONS, params={"before": "2026-03-01T09:00:00"})
        too_many = await client.get(CONVERSATIONS, params={"limit": 1000})
        empty = await client.post(f"{CONVERSATIONS}/c-1/reply", json={"text": ""})
    assert naive.status_code == too_many.status_code == empty.status_code == 422

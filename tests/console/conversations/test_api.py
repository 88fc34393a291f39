"""The conversations API under /api/v1: lists with filters and keyset pages, threads, and
the values it refuses (take over / reply / release against the real router: test_actions.py)."""

from typing import Any

from console_under_test import ALPHA, BETA, START, Console, message

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


async def test_bad_query_values_are_refused(console: Console) -> None:
    async with await console.sign_in({ALPHA: "owner"}) as client:
        naive = await client.get(CONVERSATIONS, params={"before": "2026-03-01T09:00:00"})
        too_many = await client.get(CONVERSATIONS, params={"limit": 1000})
        empty = await client.post(f"{CONVERSATIONS}/c-1/reply", json={"text": ""})
    assert naive.status_code == too_many.status_code == empty.status_code == 422

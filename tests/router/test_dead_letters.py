"""An inbox entry that cannot be loaded (corrupt JSON, a schema this release refuses, a
missing body) is moved to the dead letters, counted and listed for an admin, and never
stops the queue: every other message, other tenants' included, is answered."""

import asyncio
import math
import time
from collections.abc import Callable

import httpx
import poison
from harness import RouterHarness, wait_for
from peers.graph_api import GraphApi
from stored import envelope, no_limit

from katha.contracts.messages import Location, MessageType
from router.envelope import Envelope
from router.inbox import open_inbox
from router.inbox.base import Inbox
from router.inbox.dead_letters import DeadLetter
from router.settings import RouterSettings

ADMIN_TOKEN = "admin-token-dead-letters-0123"


async def claim_all(inbox: Inbox, expected: int) -> list[Envelope]:
    """Claim and complete until `expected` messages came out (or a deadline passes)."""
    taken: list[Envelope] = []
    deadline = time.monotonic() + 5
    while len(taken) < expected and time.monotonic() < deadline:
        batch = await inbox.claim(10, no_limit, ())
        for item in batch:
            await inbox.complete(item)
        taken += batch
        if not batch:
            await asyncio.sleep(0.02)
    return taken


async def test_unloadable_entries_are_dead_lettered_and_the_queue_moves_on(
    inbox_url: str,
) -> None:
    settings = RouterSettings(inbox_url=inbox_url, lease_seconds=0.5)
    earlier = open_inbox(settings)  # an earlier release made the store
    await earlier.open()
    await earlier.close()
    poisoned = {
        kind: poison.write(inbox_url, kind, tenant="tenants/alpha", conversation="c-p")
        for kind in poison.KINDS
    }
    inbox = open_inbox(settings)
    await inbox.open()
    seen: list[DeadLetter] = []
    inbox.on_dead_letter(seen.append)
    # Behind the poison: the same conversation, the same tenant, and another tenant.
    await inbox.accept(
        [
            envelope("a1", "c-p", "tenants/alpha"),
            envelope("a2", "c-a", "tenants/alpha"),
            envelope("b1", "c-b", "tenants/beta"),
        ]
    )

    taken = await claim_all(inbox, 3)

    assert sorted(e.message_id for e in taken) == ["a1", "a2", "b1"]
    assert (await inbox.stats()).depth == 0
    letters = await inbox.dead_letters(10)
    assert sorted(letter.id for letter in letters) == sorted(letter.id for letter in seen)
    redis_backend = inbox_url.startswith("redis")
    reasons = {
        "null_latitude": "invalid_message",
        "corrupt_json": "invalid_json",
        # SQLite's body column cannot be absent: an empty body is not JSON.
        "missing_body": "missing_body" if redis_backend else "invalid_json",
    }
    assert sorted(letter.reason for letter in letters) == sorted(reasons.values())
    by_reason = {letter.reason: letter for letter in letters}
    schema = by_reason["invalid_message"]
    assert schema.message_id == poisoned["null_latitude"]
    assert schema.tenant == "tenants/alpha"
    assert "message.location.latitude" in schema.detail
    assert schema.size > 0
    assert [letter.dead_at for letter in letters] == sorted(
        (letter.dead_at for letter in letters), reverse=True
    )
    await inbox.close()


async def test_dead_letters_survive_a_reopen_and_are_not_claimed_again(inbox_url: str) -> None:
    settings = RouterSettings(inbox_url=inbox_url, lease_seconds=0.5)
    first = open_inbox(settings)
    await first.open()
    poison.write(inbox_url, "corrupt_json", tenant="tenants/beta", conversation="c-q")
    await first.accept([envelope("q1", "c-q", "tenants/beta")])
    assert [e.message_id for e in await claim_all(first, 1)] == ["q1"]
    await first.close()

    second = open_inbox(settings)
    await second.open()
    assert await second.claim(10, no_limit, ()) == []
    (letter,) = await second.dead_letters(10)
    assert letter.reason == "invalid_json"
    await second.close()


async def test_a_location_of_1e400_through_the_storage_path_is_dead_lettered(
    inbox: Inbox,
) -> None:
    # Built without validation, as intake before the non-finite check let it through:
    # the inbox stores infinity as null, which cannot be loaded back.
    infinite = Location.model_construct(latitude=math.inf, longitude=79.8)
    good = envelope("loc1", "c-loc", "tenants/alpha")
    bad = good.model_copy(
        update={
            "message": good.message.model_copy(
                update={"type": MessageType.LOCATION, "text": None, "location": infinite}
            )
        }
    )
    await inbox.accept([bad, envelope("after", "c-loc", "tenants/alpha")])

    taken = await claim_all(inbox, 1)

    assert [e.message_id for e in taken] == ["after"]
    (letter,) = await inbox.dead_letters(10)
    assert (letter.message_id, letter.reason) == ("loc1", "invalid_message")
    assert await inbox.accept([envelope("loc1", "c-loc", "tenants/alpha")]) == [False]


def dead_letters(router: RouterHarness, at_least: int) -> list[dict[str, object]]:
    response = httpx.get(
        f"{router.url}/admin/dead-letters", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 200, response.text
    letters: list[dict[str, object]] = response.json()["dead_letters"]
    return letters if len(letters) >= at_least else []


def test_poison_entries_do_not_stop_any_tenant_being_answered(
    inbox_url: str, start_router: Callable[..., RouterHarness], graph: GraphApi
) -> None:
    router = start_router(inbox_url=inbox_url, admin_token=ADMIN_TOKEN)
    poisoned = [
        poison.write(inbox_url, kind, tenant="tenants/alpha", conversation="c-poison")
        for kind in poison.KINDS
    ]
    alpha = router.tenants["alpha"]
    response = router.post(poison.location_1e400(alpha.phone_number_id), alpha.app_secret)
    assert response.status_code < 500, response.text

    sent = [router.say("alpha", "Ada open da?"), router.say("beta", "Menu eka evanna")]
    sent += [router.say("alpha", "Delivery thiyenawada?", sender="94770000001")]

    def answered() -> set[str | None]:
        return {call.reply_to for call in graph.texts()}

    wait_for(lambda: set(sent) <= answered(), what="replies to every good message")
    listing = wait_for(lambda: dead_letters(router, len(poisoned)), what="the dead letters")
    assert all(set(letter) >= {"id", "tenant", "reason", "size", "dead_at"} for letter in listing)
    assert poison.TEXT not in str(listing)  # the stored text is never returned
    metric = 'katha_router_dead_letters_total{reason="invalid_message",tenant="tenants/alpha"}'
    assert metric in router.metrics()
    unauthorised = httpx.get(f"{router.url}/admin/dead-letters")
    assert unauthorised.status_code == 401

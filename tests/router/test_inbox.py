"""Both inbox backends keep the same promises: a message is stored once, conversations are
answered oldest first with one message in flight, a retried message holds its
conversation, and conversation state and sent-markers survive a reopen."""

import asyncio
import time

from stored import envelope, no_limit

from router.envelope import Envelope
from router.inbox import open_inbox
from router.inbox.base import ConversationState, Inbox
from router.settings import RouterSettings


async def test_a_message_is_stored_once(inbox: Inbox) -> None:
    assert await inbox.accept([envelope("m1", "c-1"), envelope("m1", "c-1")]) == [True, False]
    assert await inbox.accept([envelope("m1", "c-1"), envelope("m2", "c-1")]) == [False, True]
    assert (await inbox.stats()).depth == 2


async def test_conversations_are_answered_in_order_one_at_a_time(inbox: Inbox) -> None:
    await inbox.accept([envelope("a1", "c-a"), envelope("a2", "c-a"), envelope("b1", "c-b")])
    first = await inbox.claim(10, no_limit, ())
    assert sorted(e.message_id for e in first) == ["a1", "b1"]
    assert await inbox.claim(10, no_limit, ()) == []  # a2 waits for a1
    a1 = next(e for e in first if e.message_id == "a1")
    await inbox.complete(a1)
    (a2,) = await inbox.claim(10, no_limit, ())
    assert a2.message_id == "a2"


async def test_a_retried_message_holds_its_conversation(inbox: Inbox) -> None:
    await inbox.accept([envelope("x1", "c-x"), envelope("x2", "c-x")])
    (x1,) = await inbox.claim(10, no_limit, ())
    await inbox.retry_later(x1, 0.3)
    assert await inbox.claim(10, no_limit, ()) == []
    await asyncio.sleep(0.35)
    (again,) = await inbox.claim(10, no_limit, ())
    assert again.message_id == "x1"
    assert again.attempts == 1


async def test_claims_respect_each_tenants_room(inbox: Inbox) -> None:
    await inbox.accept([envelope(f"f{n}", f"c-f{n}", "tenants/busy") for n in range(10)])
    await inbox.accept([envelope("q1", "c-q", "tenants/quiet")])
    taken = await inbox.claim(10, lambda tenant: 2 if tenant == "tenants/busy" else 5, ())
    assert sorted(e.message_id for e in taken) == ["f0", "f1", "q1"]
    more = await inbox.claim(10, no_limit, {"tenants/busy"})
    assert more == []


async def test_replies_sent_markers_and_conversation_state_are_kept(inbox_url: str) -> None:
    settings = RouterSettings(inbox_url=inbox_url)
    first = open_inbox(settings)
    await first.open()
    key = await first.secret_key()
    await first.save_reply("m1", '{"message_id": "m1", "text": "hi"}')
    await first.mark_sent("m1", "0")
    until = time.time() + 60
    state = ConversationState(
        handoff_until=until,
        handoff_ref="abcd1234",
        phone_number_id="105954558954427",
        language="si",
        last_inbound_at=123.0,
    )
    await first.save_conversation("c-1", state)
    await first.close()

    second = open_inbox(settings)
    await second.open()
    assert await second.secret_key() == key
    assert await second.saved_reply("m1") == '{"message_id": "m1", "text": "hi"}'
    assert await second.sent_parts("m1") == {"0"}
    assert await second.conversation("c-1") == state
    assert await second.find_handoff("105954558954427", "abcd1234") == "c-1"
    assert await second.find_handoff("206065669065538", "abcd1234") is None
    await second.save_conversation("c-1", ConversationState(language="si"))
    assert await second.find_handoff("105954558954427", "abcd1234") is None
    assert await second.conversation("missing") == ConversationState()
    await second.close()


async def test_a_message_taken_by_a_dead_consumer_is_redelivered(inbox_url: str) -> None:
    settings = RouterSettings(inbox_url=inbox_url, lease_seconds=0.5)
    dead = open_inbox(settings)
    await dead.open()
    await dead.accept([envelope("d1", "c-d")])
    (taken,) = await dead.claim(10, no_limit, ())
    # The process dies here: no complete, no close.
    heir = open_inbox(settings)
    await heir.open()
    deadline = time.monotonic() + 5
    claimed: list[Envelope] = []
    while not claimed and time.monotonic() < deadline:
        claimed = await heir.claim(10, no_limit, ())
        await asyncio.sleep(0.1)
    assert [e.message_id for e in claimed] == [taken.message_id]
    await heir.complete(claimed[0])
    assert (await heir.stats()).depth == 0
    await heir.close()


async def test_an_answered_message_keeps_only_its_id_for_dedupe(inbox: Inbox) -> None:
    await inbox.accept([envelope("k1", "c-k")])
    (taken,) = await inbox.claim(10, no_limit, ())
    await inbox.save_reply("k1", '{"message_id": "k1", "text": "hi"}')
    await inbox.mark_sent("k1", "0")
    await inbox.complete(taken)
    assert await inbox.saved_reply("k1") is None
    assert await inbox.sent_parts("k1") == set()
    assert await inbox.accept([envelope("k1", "c-k")]) == [False]
    assert (await inbox.stats()).depth == 0


async def test_redis_replicas_never_answer_one_conversation_at_once(redis_url: str) -> None:
    settings = RouterSettings(inbox_url=redis_url, lease_seconds=5)
    first, second = open_inbox(settings), open_inbox(settings)
    await first.open()
    await second.open()
    await first.accept([envelope("r1", "c-r")])
    (r1,) = await first.claim(10, no_limit, ())
    await second.accept([envelope("r2", "c-r"), envelope("s1", "c-s")])
    # The second replica reads r2 but the conversation is the first replica's, even
    # while r1 waits out a backoff.
    await first.retry_later(r1, 0.2)
    assert [e.message_id for e in await second.claim(10, no_limit, ())] == ["s1"]
    await asyncio.sleep(0.3)
    (again,) = await first.claim(10, no_limit, ())
    await first.complete(again)
    (r2,) = await second.claim(10, no_limit, ())
    assert r2.message_id == "r2"
    await first.close()
    await second.close()


async def test_records_are_kept_written_once_when_asked_and_expire(inbox: Inbox) -> None:
    assert await inbox.record("alias:c-1") is None
    assert await inbox.save_record("alias:c-1", "c-0", only_new=True)
    assert not await inbox.save_record("alias:c-1", "c-9", only_new=True)
    assert await inbox.record("alias:c-1") == "c-0"
    assert await inbox.save_record("alias:c-1", "c-2")  # an identity change re-points it
    assert await inbox.record("alias:c-1") == "c-2"
    assert await inbox.save_record("customer:c-2", "ids", ttl_seconds=1)
    assert await inbox.record("customer:c-2") == "ids"
    await asyncio.sleep(2.1)
    assert await inbox.record("customer:c-2") is None  # personal data does not linger
    assert await inbox.save_record("customer:c-2", "new ids", only_new=True, ttl_seconds=60)
    assert await inbox.record("customer:c-2") == "new ids"

"""One customer's data in the inbox, on both backends for real: exported, deleted to the
last row or key (and nothing of another conversation with it), and the SQLite inbox's
daily retention (Redis expires by time to live)."""

import asyncio
import sqlite3
import time
from pathlib import Path

import poison
from stored import envelope, no_limit

from router import identity
from router.inbox import SqliteInbox, open_inbox
from router.inbox.base import ConversationState, Inbox
from router.settings import RouterSettings

STATE = ConversationState(handoff_ref="K7", phone_number_id="105954558954427", language="si")


async def _two_customers(inbox: Inbox) -> None:
    await inbox.accept(
        [envelope("m1", "c-gone"), envelope("m2", "c-gone"), envelope("k1", "c-kept")]
    )
    claimed = await inbox.claim(10, no_limit, ())
    first = next(item for item in claimed if item.message_id == "m1")
    await inbox.save_reply("m1", '{"text": "reply to m1"}')
    await inbox.mark_sent("m1", "text")
    await inbox.complete(first)
    await inbox.save_reply("m2", '{"text": "reply to m2"}')
    for conversation in ("c-gone", "c-kept"):
        await inbox.save_conversation(conversation, STATE)
    await inbox.save_record("alias:c-bsuid", "c-gone")
    await inbox.save_record("alias:c-gone", "c-gone")
    await inbox.save_record("alias:c-other", "c-kept")
    await inbox.save_record("customer:c-gone", '{"wa_id": "94771234567"}')


async def test_a_conversation_is_exported_with_its_waiting_messages_and_aliases(
    inbox: Inbox,
) -> None:
    await _two_customers(inbox)
    entries = await inbox.conversation_entries("c-gone")
    waiting = [entry for entry in entries if entry.body]
    assert [entry.message_id for entry in waiting] == ["m2"]
    assert waiting[0].tenant == "tenants/alpha"
    assert "text of m2" in (waiting[0].body or "")
    assert await identity.aliases_of(inbox, "c-gone") == {
        "alias:c-bsuid": "c-gone",
        "alias:c-gone": "c-gone",
    }
    assert await inbox.records_named("customer:c-gone") == {
        "customer:c-gone": '{"wa_id": "94771234567"}'
    }


async def test_forgetting_a_conversation_leaves_nothing_of_it_and_keeps_the_other(
    inbox: Inbox,
) -> None:
    await _two_customers(inbox)
    assert await inbox.forget_conversation("c-gone") >= 1
    assert await identity.forget_aliases(inbox, "c-gone") == 2
    assert await inbox.forget_records("customer:c-gone") == 1
    assert await inbox.conversation_entries("c-gone") == []
    assert await inbox.conversation("c-gone") == ConversationState()
    assert await inbox.saved_reply("m2") is None
    assert await inbox.sent_parts("m1") == set()
    assert await inbox.find_handoff("105954558954427", "K7") in (None, "c-kept")
    assert await identity.aliases_of(inbox, "c-gone") == {}
    assert await inbox.record("customer:c-gone") is None
    # The other customer is untouched, and still answered.
    assert await inbox.conversation("c-kept") == STATE
    assert await inbox.record("alias:c-other") == "c-kept"
    assert [entry.message_id for entry in await inbox.conversation_entries("c-kept")] == ["k1"]
    # Twice: nothing more to delete.
    assert await inbox.forget_conversation("c-gone") == 0
    assert await identity.forget_aliases(inbox, "c-gone") == 0


async def test_a_forgotten_conversation_is_no_longer_waiting(inbox: Inbox) -> None:
    await inbox.accept([envelope("q1", "c-gone"), envelope("q2", "c-kept")])
    await inbox.forget_conversation("c-gone")
    claimed = await inbox.claim(10, no_limit, ())
    assert [item.message_id for item in claimed] == ["q2"]
    assert (await inbox.stats()).depth == 1


def _rows(path: Path, needle: str) -> int:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(
            any(needle in str(value) for value in values)
            for table in tables
            for values in db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - the file's tables
        )


async def test_the_sqlite_file_holds_no_trace_of_a_forgotten_conversation(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    inbox = SqliteInbox(path)
    await inbox.open()
    try:
        await _two_customers(inbox)
        await inbox.forget_conversation("c-gone")
        await identity.forget_aliases(inbox, "c-gone")
        await inbox.forget_records("customer:c-gone")
    finally:
        await inbox.close()
    assert _rows(path, "c-gone") == 0
    assert _rows(path, "94771234567") > 0  # c-kept's waiting message names its number
    assert _rows(path, "c-kept") > 0


async def test_the_sqlite_inbox_forgets_expired_records_and_idle_state_daily(
    tmp_path: Path,
) -> None:
    inbox = SqliteInbox(tmp_path / "inbox.db", dedupe_seconds=60)
    await inbox.open()
    try:
        long_ago = time.time() - 3600
        await inbox.save_conversation("c-idle", ConversationState(last_inbound_at=long_ago))
        await inbox.save_conversation(
            "c-handoff",
            ConversationState(last_inbound_at=long_ago, handoff_until=time.time() + 600),
        )
        await inbox.save_conversation("c-recent", ConversationState(last_inbound_at=time.time()))
        await inbox.accept([envelope("w1", "c-waiting")])
        await inbox.save_conversation("c-waiting", ConversationState(last_inbound_at=long_ago))
        await inbox.save_record("customer:c-idle", "x", ttl_seconds=0.01)
        await inbox.save_record("account:tenants/alpha", "kept")
        await asyncio.sleep(0.02)
        # The first claim of the day runs the retention pass.
        await inbox.claim(10, no_limit, ())
        assert await inbox.conversation("c-idle") == ConversationState()
        for kept in ("c-handoff", "c-recent", "c-waiting"):
            assert await inbox.conversation(kept) != ConversationState(), kept
        assert await inbox.records_named("customer:") == {}
        assert await inbox.record("account:tenants/alpha") == "kept"
        assert await inbox.forget_expired() == 0  # nothing left to forget
    finally:
        await inbox.close()


# Two Businesses' customers whose ids share a beginning: one id is the other's prefix.
SHORT, LONGER = ("c-ab", "tenants/alpha"), ("c-abc", "tenants/beta")


def _names(conversation: str) -> list[str]:
    """Every record the router keeps under a conversation (router/api/admin_customers)."""
    return [
        f"customer:{conversation}",
        f"marketing-stopped:{conversation}",
        f"alias:{conversation}",
        f"console-sent:{conversation}:r1",
    ]


async def test_forgetting_a_conversation_leaves_one_whose_id_begins_with_it(
    inbox_url: str,
) -> None:
    settings = RouterSettings(inbox_url=inbox_url, lease_seconds=0.5)
    earlier = open_inbox(settings)  # makes the store the poison is written into
    await earlier.open()
    await earlier.close()
    for conversation, tenant in (SHORT, LONGER):
        poison.write(inbox_url, "null_latitude", tenant=tenant, conversation=conversation)
    inbox = open_inbox(settings)
    await inbox.open()
    try:
        assert await inbox.claim(10, no_limit, ()) == []  # both poisoned: dead letters now
        for conversation, _ in (SHORT, LONGER):
            for name in _names(conversation):
                await inbox.save_record(name, conversation)
        short = SHORT[0]
        # What the admin export reads and the deletion forgets (exact names, one family).
        exported = {}
        for name in (f"customer:{short}", f"marketing-stopped:{short}", f"console-sent:{short}:"):
            exported |= await inbox.records_named(name)
        assert exported == {name: short for name in _names(short) if "alias:" not in name}
        assert await identity.aliases_of(inbox, short) == {f"alias:{short}": short}
        for name in (f"customer:{short}", f"marketing-stopped:{short}", f"console-sent:{short}:"):
            assert await inbox.forget_records(name) == 1, name
        assert await identity.forget_aliases(inbox, short) == 1
        await inbox.forget_conversation(short)

        for name in _names(LONGER[0]):
            assert await inbox.record(name) == LONGER[0], name
        for name in _names(short):
            assert await inbox.record(name) is None, name
        letters = await inbox.dead_letters(10)
        assert [letter.tenant for letter in letters] == [LONGER[1]]
    finally:
        await inbox.close()

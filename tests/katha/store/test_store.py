"""The store's behaviour, the same on SQLite and PostgreSQL (see conftest.py)."""

import asyncio
import sqlite3
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from katha.store import ConversationStore
from katha.store.engines import SQLITE_BUSY_TIMEOUT_MS

from .conftest import START, TENANT, EventFactory

OTHER = "shops/lanka-books"


async def test_a_batch_recorded_twice_is_kept_once(
    store: ConversationStore, event: EventFactory
) -> None:
    batch = [event(1), event(2, author="agent", language="si", sources=["pdf://menu#p1"])]
    assert await store.record(batch) == 2
    assert await store.record(batch) == 0
    thread = await store.thread(TENANT, "c-1")
    assert [stored.event_id for stored in thread] == ["wamid.1", "wamid.2"]
    [summary] = await store.conversations(TENANT)
    assert summary.messages == 2
    assert summary.last_text == "message 2"


async def test_a_redelivered_event_among_new_ones_changes_nothing_but_the_new(
    store: ConversationStore, event: EventFactory
) -> None:
    await store.record([event(1), event(2, author="agent")])
    # The customer's first message again (a webhook retry), beside a genuinely new one.
    assert await store.record([event(1), event(3), event(3)]) == 1
    [summary] = await store.conversations(TENANT)
    assert summary.messages == 3
    assert summary.unanswered
    assert [stored.event_id for stored in await store.thread(TENANT, "c-1")] == [
        "wamid.1",
        "wamid.2",
        "wamid.3",
    ]


async def test_an_empty_batch_records_nothing(store: ConversationStore) -> None:
    assert await store.record([]) == 0
    assert await store.conversations(TENANT) == []


async def test_the_summary_follows_the_conversation(
    store: ConversationStore, event: EventFactory
) -> None:
    await store.record(
        [event(1, customer_name="Nimal", customer_handle="94771234567", language="si")]
    )
    [waiting] = await store.conversations(TENANT)
    assert (waiting.customer_name, waiting.customer_handle) == ("Nimal", "94771234567")
    assert waiting.unanswered
    assert not waiting.with_person
    assert waiting.created_at == waiting.last_at == START + timedelta(minutes=1)
    await store.record([event(2, author="agent", text="ආයුබෝවන්! " + "x" * 300, language="si")])
    [answered] = await store.conversations(TENANT)
    assert not answered.unanswered
    assert answered.language == "si"
    assert answered.last_text == ("ආයුබෝවන්! " + "x" * 300)[:200]
    assert answered.last_at == START + timedelta(minutes=2)


async def test_a_handoff_puts_a_person_in_charge_until_it_is_released(
    store: ConversationStore, event: EventFactory
) -> None:
    started = event(2, author="system", kind="handoff_started", text=None, handoff_reason="asks")
    await store.record([event(1), started])
    [summary] = await store.conversations(TENANT)
    assert summary.with_person
    assert summary.unanswered
    await store.record([event(3, author="person", text="I am here")])
    [summary] = await store.conversations(TENANT)
    assert summary.with_person
    assert not summary.unanswered
    await store.record([event(4, author="person", kind="handoff_released", text=None)])
    [summary] = await store.conversations(TENANT)
    assert not summary.with_person
    assert summary.messages == 2  # handoffs are not messages


async def test_a_late_event_does_not_undo_a_newer_one(
    store: ConversationStore, event: EventFactory
) -> None:
    await store.record([event(5, text="newest question"), event(6, author="owner_app")])
    # An agent reply and a handoff from before, delivered late by another replica.
    await store.record(
        [
            event(3, author="agent", text="old answer"),
            event(4, author="system", kind="handoff_started", text=None),
            event(2, author="system", kind="handoff_released", text=None),
        ]
    )
    [summary] = await store.conversations(TENANT)
    assert summary.last_at == START + timedelta(minutes=6)
    assert summary.last_text == "message 6"
    assert not summary.unanswered
    assert summary.with_person  # started at 4, the release at 2 came before it
    assert summary.created_at == START + timedelta(minutes=2)
    assert [stored.text for stored in await store.thread(TENANT, "c-1")] == [
        None,
        "old answer",
        None,
        "newest question",
        "message 6",
    ]


async def test_the_thread_is_oldest_first_with_every_field(
    store: ConversationStore, event: EventFactory
) -> None:
    colombo = timezone(timedelta(hours=5, minutes=30))
    reply = event(
        2,
        at=(START + timedelta(minutes=2)).astimezone(colombo),
        author="agent",
        language="ta",
        intent="opening_hours",
        sources=["https://example.lk/menu", "faq://1"],
        text="காலை 8 மணி",
    )
    await store.record([reply, event(1, message_type="image", text=None)])
    first, second = await store.thread(TENANT, "c-1")
    assert (first.message_type, first.text) == ("image", None)
    assert second.model_dump(exclude={"id"}) == reply.model_dump()
    assert second.at.utcoffset() == timedelta(0)
    assert first.id != second.id


async def test_the_thread_keeps_its_newest_events_within_the_limit(
    store: ConversationStore, event: EventFactory
) -> None:
    await store.record([event(number) for number in range(1, 8)])
    limited = await store.thread(TENANT, "c-1", limit=3)
    assert [stored.event_id for stored in limited] == ["wamid.5", "wamid.6", "wamid.7"]


async def test_the_list_filters_by_person_unanswered_and_language(
    store: ConversationStore, event: EventFactory
) -> None:
    await store.record(
        [
            event(1, conversation_id="waiting", language="si"),
            event(2, conversation_id="answered", language="en"),
            event(3, conversation_id="answered", author="agent", language="en"),
            event(4, conversation_id="handed", language="ta"),
            event(5, conversation_id="handed", author="system", kind="handoff_started"),
        ]
    )

    async def ids(**filters: object) -> list[str]:
        listed = await store.conversations(TENANT, **filters)  # type: ignore[arg-type]
        return [summary.conversation_id for summary in listed]

    assert await ids() == ["handed", "answered", "waiting"]
    assert await ids(with_person=True) == ["handed"]
    assert await ids(with_person=False) == ["answered", "waiting"]
    assert await ids(unanswered=True) == ["handed", "waiting"]
    assert await ids(unanswered=False) == ["answered"]
    assert await ids(language="si") == ["waiting"]
    assert await ids(unanswered=True, with_person=False, language="ta") == []


async def test_the_list_pages_newest_first_without_losing_ties(
    store: ConversationStore, event: EventFactory
) -> None:
    same_time = START + timedelta(hours=1)
    await store.record(
        [event(n, conversation_id=f"c-{n}") for n in range(1, 4)]
        + [event(10 + n, conversation_id=f"tie-{n}", at=same_time) for n in range(3)]
    )
    seen: list[str] = []
    page = await store.conversations(TENANT, limit=2)
    while page:
        seen += [summary.conversation_id for summary in page]
        last = page[-1]
        page = await store.conversations(
            TENANT, limit=2, before=last.last_at, before_id=last.conversation_id
        )
    assert seen == ["tie-2", "tie-1", "tie-0", "c-3", "c-2", "c-1"]
    older = await store.conversations(TENANT, before=same_time)
    assert [summary.conversation_id for summary in older] == ["c-3", "c-2", "c-1"]


async def test_a_limit_below_one_is_refused(store: ConversationStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.conversations(TENANT, limit=0)
    with pytest.raises(ValueError, match="limit"):
        await store.thread(TENANT, "c-1", limit=0)


async def test_one_tenant_never_sees_another_tenants_conversation(
    store: ConversationStore, event: EventFactory
) -> None:
    # The same conversation id and event id in two tenants: two conversations.
    await store.record([event(1, text="ours"), event(1, tenant=OTHER, text="theirs")])
    await store.record([event(2, tenant=OTHER, author="system", kind="handoff_started")])
    [ours] = await store.conversations(TENANT)
    [theirs] = await store.conversations(OTHER)
    assert (ours.last_text, ours.with_person) == ("ours", False)
    assert (theirs.last_text, theirs.with_person) == ("message 2", True)
    assert [stored.text for stored in await store.thread(TENANT, "c-1")] == ["ours"]
    assert [stored.tenant for stored in await store.thread(OTHER, "c-1")] == [OTHER] * 2
    assert await store.thread("shops/nobody", "c-1") == []
    assert await store.forget_before(OTHER, START + timedelta(days=1)) == 2
    assert [stored.text for stored in await store.thread(TENANT, "c-1")] == ["ours"]
    assert len(await store.conversations(TENANT)) == 1


async def test_retention_forgets_old_events_and_empty_conversations(
    store: ConversationStore, event: EventFactory
) -> None:
    await store.record(
        [
            event(1, conversation_id="old"),
            event(2, conversation_id="old", author="agent"),
            event(3, conversation_id="both"),
            event(30, conversation_id="both", author="agent"),
            event(31, conversation_id="new"),
        ]
    )
    assert await store.forget_before(TENANT, START + timedelta(minutes=10)) == 3
    listed = {summary.conversation_id: summary for summary in await store.conversations(TENANT)}
    assert set(listed) == {"both", "new"}
    assert listed["both"].messages == 1
    assert listed["new"].messages == 1
    assert [stored.event_id for stored in await store.thread(TENANT, "both")] == ["wamid.30"]
    assert await store.thread(TENANT, "old") == []
    assert await store.forget_before(TENANT, START) == 0


async def test_ping_tells_whether_the_database_answers(
    store: ConversationStore, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert await store.ping()
    missing = tmp_path_factory.mktemp("gone") / "no-such-folder" / "store.db"
    async with ConversationStore.from_url(f"sqlite:///{missing}") as unreachable:
        assert not await unreachable.ping()


async def test_replicas_writing_at_once_keep_each_event_once(
    store_url: str, event: EventFactory
) -> None:
    """Four router replicas, each with its own pool, deliver overlapping batches at once."""
    batches = [
        [event(n, conversation_id=f"c-{n % 3}") for n in range(start, start + 20)]
        for start in (1, 11, 21, 1)
    ]
    replicas = [ConversationStore.from_url(store_url) for _ in batches]
    try:
        new = await asyncio.gather(
            *(replica.record(batch) for replica, batch in zip(replicas, batches, strict=True))
        )
    finally:
        await asyncio.gather(*(replica.close() for replica in replicas))
    assert sum(new) == 40
    async with ConversationStore.from_url(store_url) as reader:
        listed = await reader.conversations(TENANT)
        assert sum(summary.messages for summary in listed) == 40
        for summary in listed:
            thread = await reader.thread(TENANT, summary.conversation_id)
            assert summary.messages == len(thread)
            assert summary.last_at == thread[-1].at


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with ConversationStore.from_url(f"sqlite:///{path}") as store:
        assert await store.ping()
        async with store._engine.connect() as connection:
            timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            assert timeout == SQLITE_BUSY_TIMEOUT_MS
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)

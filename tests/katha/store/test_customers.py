"""Exporting and deleting one customer, on SQLite and PostgreSQL (see conftest.py)."""

from katha.store import ConversationStore

from .conftest import TENANT, EventFactory

OTHER_TENANT = "shops/lanka-books"


async def _three_customers(store: ConversationStore, event: EventFactory) -> None:
    await store.record(
        [
            event(1, customer_name="Nimal", customer_handle="94771234567", language="si"),
            event(2, author="agent", text="ඔව්, අද විවෘතයි", sources=["pdf://menu#p1"]),
            event(3, conversation_id="c-2", customer_name="Kamala", text="kottu price?"),
            # Another Business's customer under the same conversation id.
            event(4, tenant=OTHER_TENANT, customer_name="Ravi", text="open today?"),
        ]
    )


async def test_an_export_holds_the_conversation_and_every_event_with_its_text(
    store: ConversationStore, event: EventFactory
) -> None:
    await _three_customers(store, event)
    exported = await store.export_customer(TENANT, "c-1")
    assert exported.conversation is not None
    assert exported.conversation.customer_name == "Nimal"
    assert exported.conversation.customer_handle == "94771234567"
    assert [(item.author, item.text) for item in exported.events] == [
        ("customer", "message 1"),
        ("agent", "ඔව්, අද විවෘතයි"),
    ]
    assert exported.events[1].sources == ["pdf://menu#p1"]
    assert "Ravi" not in exported.model_dump_json()
    assert "Kamala" not in exported.model_dump_json()


async def test_an_unknown_customer_exports_as_nothing(store: ConversationStore) -> None:
    exported = await store.export_customer(TENANT, "c-unknown")
    assert exported.conversation is None
    assert exported.events == []


async def test_forgetting_a_customer_deletes_only_them_and_twice_finds_nothing(
    store: ConversationStore, event: EventFactory
) -> None:
    await _three_customers(store, event)
    gone = await store.forget_customer(TENANT, "c-1")
    assert (gone.events, gone.conversations) == (2, 1)
    assert await store.thread(TENANT, "c-1") == []
    assert [row.conversation_id for row in await store.conversations(TENANT)] == ["c-2"]
    assert [item.text for item in await store.thread(TENANT, "c-2")] == ["kottu price?"]
    assert [item.text for item in await store.thread(OTHER_TENANT, "c-1")] == ["open today?"]
    again = await store.forget_customer(TENANT, "c-1")
    assert (again.events, again.conversations) == (0, 0)


async def test_a_customer_who_writes_again_after_deletion_starts_afresh(
    store: ConversationStore, event: EventFactory
) -> None:
    await _three_customers(store, event)
    await store.forget_customer(TENANT, "c-1")
    await store.record([event(9, text="hello again")])
    [summary] = [row for row in await store.conversations(TENANT) if row.conversation_id == "c-1"]
    assert summary.messages == 1
    assert summary.customer_name is None

"""The store's schema comes from its migrations, and they upgrade a store that holds data."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import DBAPIError

from katha.store import ConversationStore, StoreEvent, current_revision, upgrade
from katha.store.console_tables import console_api_tokens
from katha.store.engines import sync_engine
from katha.store.models import conversations, events, metadata

from .conftest import START, TENANT, EventFactory

OTHER = "shops/lanka-books"


def write_as_revision_0001(url: str, rows: list[StoreEvent]) -> None:
    """Events and conversation rows as the store wrote them at 0001 (no flags yet)."""
    engine = sync_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(events), [row.model_dump() for row in rows])
        for key in sorted({(row.tenant, row.conversation_id) for row in rows}):
            mine = [row for row in rows if (row.tenant, row.conversation_id) == key]
            values: dict[str, Any] = {
                "last_at": max(row.at for row in mine),
                "created_at": min(row.at for row in mine),
                "messages": len(mine),
                "last_text": max(mine, key=lambda row: row.at).text,
                "language": "si",
            }
            connection.execute(
                insert(conversations).values(tenant=key[0], conversation_id=key[1], **values)
            )
    engine.dispose()


async def test_an_old_store_with_data_is_upgraded_and_its_flags_filled_in(
    empty_url: str, event: EventFactory
) -> None:
    upgrade(empty_url, "0001")
    assert current_revision(empty_url) == "0001"
    write_as_revision_0001(
        empty_url,
        [
            event(1, conversation_id="waiting"),
            event(2, conversation_id="answered"),
            event(3, conversation_id="answered", author="agent"),
            event(4, conversation_id="handed"),
            event(5, conversation_id="handed", author="system", kind="handoff_started"),
            event(6, conversation_id="released", author="system", kind="handoff_started"),
            event(7, conversation_id="released", author="person", kind="handoff_released"),
            event(8, conversation_id="released", author="person"),
            event(9, conversation_id="handed", tenant=OTHER, author="agent"),
        ],
    )
    upgrade(empty_url)
    assert current_revision(empty_url) == "0005"
    async with ConversationStore.from_url(empty_url) as store:
        listed = {row.conversation_id: row for row in await store.conversations(TENANT)}
        assert {key: (row.with_person, row.unanswered) for key, row in listed.items()} == {
            "waiting": (False, True),
            "answered": (False, False),
            "handed": (True, True),
            "released": (False, False),
        }
        [other] = await store.conversations(OTHER)
        assert (other.with_person, other.unanswered) == (False, False)
        assert len(await store.thread(TENANT, "released")) == 3
        # The backfilled times keep later writes right: a late reply answers "handed"...
        await store.record([event(20, conversation_id="handed", author="person", at=START)])
        [handed] = await store.conversations(TENANT, with_person=True)
        assert handed.unanswered
        # ...and only a reply newer than the customer's message does.
        late = START + timedelta(minutes=4, seconds=30)
        await store.record([event(21, conversation_id="handed", author="person", at=late)])
        assert not (await store.conversations(TENANT, with_person=True))[0].unanswered


def test_tokens_made_before_expiry_existed_are_given_an_end(empty_url: str) -> None:
    upgrade(empty_url, "0004")
    made = datetime(2026, 6, 1, tzinfo=UTC)
    engine = sync_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(
            insert(console_api_tokens).values(
                id="a1",
                tenant=TENANT,
                name="crm",
                token_hash="h",
                created_at=made,
                created_by="owner",
            )
        )
    engine.dispose()
    upgrade(empty_url)
    engine = sync_engine(empty_url)
    with engine.connect() as connection:
        [ends] = connection.execute(select(console_api_tokens.c.expires_at)).scalars()
    engine.dispose()
    # 90 days from the upgrade: the systems using it keep working while new ones are made.
    assert ends - datetime.now(UTC) == pytest.approx(timedelta(days=90), abs=timedelta(minutes=5))


def test_upgrading_again_changes_nothing(store_url: str) -> None:
    upgrade(store_url)
    assert current_revision(store_url) == "0005"


def test_the_migrations_build_exactly_the_tables_the_store_queries(store_url: str) -> None:
    engine = sync_engine(store_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


async def test_opening_a_store_creates_no_tables(empty_url: str, event: EventFactory) -> None:
    async with ConversationStore.from_url(empty_url) as store:
        assert await store.ping()
        with pytest.raises(DBAPIError):
            await store.record([event(1)])
    engine = sync_engine(empty_url)
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    engine.dispose()
    assert current_revision(empty_url) is None

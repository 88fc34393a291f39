"""The conversation store: the router records what happens, the owner console reads it.

Every query names its tenant: a conversation id is only unique within a tenant, and one
Business must never see another's customers.
"""

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from katha.observability import get_logger
from katha.store.customers import (
    CustomerExport,
    CustomerForgotten,
    export_customer,
    forget_customer,
)
from katha.store.engines import WRITES, async_engine
from katha.store.events import ConversationSummary, StoredEvent, StoreEvent
from katha.store.media import (
    MediaSummary,
    StoredMedia,
    conversation_media,
    forget_media_before,
    keep_media,
    read_media,
)
from katha.store.models import conversations, events
from katha.store.summary import MESSAGE_KINDS
from katha.store.writes import first_of_each, insert_new, move_conversations

log = get_logger("store")

SUMMARY_COLUMNS = tuple(ConversationSummary.model_fields)
EVENT_COLUMNS = tuple(StoredEvent.model_fields)


class ConversationStore:
    """Conversations and their events in SQLite or PostgreSQL.

    The schema comes from the migrations (`katha.store.upgrade`), never from here: a
    replica starting up must not race the Job that migrates.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def from_url(cls, url: str) -> Self:
        """`sqlite:///path`, `postgresql://...` or their async spellings. Connects lazily;
        raises StoreUrlError for a URL the store cannot use."""
        return cls(async_engine(url))

    async def record(self, batch: Sequence[StoreEvent]) -> int:
        """Keep the events not stored yet, in one transaction; how many were new.

        A batch delivered again changes nothing: its events are skipped and the
        conversations are moved on by new events only.
        """
        unique = first_of_each(batch)
        if not unique:
            return 0
        async with self._engine.connect() as connection:
            await connection.execution_options(**{WRITES: True})
            async with connection.begin():
                new = await insert_new(connection, unique)
                await move_conversations(connection, new)
        return len(new)

    async def conversations(
        self,
        tenant: str,
        *,
        with_person: bool | None = None,
        unanswered: bool | None = None,
        language: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
        before_id: str | None = None,
    ) -> list[ConversationSummary]:
        """A tenant's conversations, newest first.

        The next page starts after the last one returned: pass its `last_at` as `before`
        and its `conversation_id` as `before_id` (without `before_id`, conversations last
        active exactly at `before` are left out).
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        table = conversations.c
        query = select(*(table[name] for name in SUMMARY_COLUMNS)).where(table.tenant == tenant)
        if with_person is not None:
            query = query.where(table.with_person == with_person)
        if unanswered is not None:
            query = query.where(table.unanswered == unanswered)
        if language is not None:
            query = query.where(table.language == language)
        if before is not None and before_id is None:
            query = query.where(table.last_at < before)
        elif before is not None:
            same_time = and_(table.last_at == before, table.conversation_id < before_id)
            query = query.where(or_(table.last_at < before, same_time))
        query = query.order_by(table.last_at.desc(), table.conversation_id.desc()).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [ConversationSummary.model_validate(dict(row)) for row in rows]

    async def thread(
        self, tenant: str, conversation_id: str, *, limit: int = 500
    ) -> list[StoredEvent]:
        """A conversation's newest `limit` events, oldest first (as a chat reads)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        table = events.c
        query = (
            select(*(table[name] for name in EVENT_COLUMNS))
            .where(table.tenant == tenant, table.conversation_id == conversation_id)
            .order_by(table.at.desc(), table.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [StoredEvent.model_validate(dict(row)) for row in reversed(rows)]

    async def forget_before(self, tenant: str, cutoff: datetime) -> int:
        """Delete a tenant's events and media older than `cutoff`, and its conversations
        with none left (the Business's retention period); how many events were deleted."""
        of_conversation = and_(
            events.c.tenant == conversations.c.tenant,
            events.c.conversation_id == conversations.c.conversation_id,
        )
        messages = (
            select(func.count())
            .where(of_conversation, events.c.kind.in_(sorted(MESSAGE_KINDS)))
            .scalar_subquery()
        )
        async with self._engine.connect() as connection:
            await connection.execution_options(**{WRITES: True})
            async with connection.begin():
                deleted = await connection.execute(
                    delete(events).where(events.c.tenant == tenant, events.c.at < cutoff)
                )
                await forget_media_before(connection, tenant, cutoff)
                await connection.execute(
                    delete(conversations).where(
                        conversations.c.tenant == tenant, ~exists().where(of_conversation)
                    )
                )
                # Only a conversation that began before the cutoff can have lost events.
                await connection.execute(
                    update(conversations)
                    .where(conversations.c.tenant == tenant, conversations.c.created_at < cutoff)
                    .values(messages=messages)
                )
        return int(deleted.rowcount)

    async def keep_media(self, item: StoredMedia) -> bool:
        """Keep a customer's media file beside their conversation; False when the tenant
        had that media id already (the first copy stays)."""
        return await keep_media(self._engine, item)

    async def media(self, tenant: str, media_id: str) -> StoredMedia | None:
        """One of `tenant`'s media files, None when it has none by that id."""
        return await read_media(self._engine, tenant, media_id)

    async def conversation_media(self, tenant: str, conversation_id: str) -> list[MediaSummary]:
        """One customer's media files, oldest first, without their bytes (the console
        matches each to its message by `message_id`)."""
        async with self._engine.connect() as connection:
            return await conversation_media(connection, tenant, conversation_id)

    async def export_customer(self, tenant: str, conversation_id: str) -> CustomerExport:
        """Everything kept about one customer of `tenant` (the owner's export)."""
        return await export_customer(self._engine, tenant, conversation_id)

    async def forget_customer(self, tenant: str, conversation_id: str) -> CustomerForgotten:
        """Delete one customer of `tenant`, in one transaction; the rows deleted."""
        return await forget_customer(self._engine, tenant, conversation_id)

    async def ping(self) -> bool:
        """Whether the database answers."""
        try:
            async with self._engine.connect() as connection:
                await connection.execute(select(1))
        except (SQLAlchemyError, OSError) as error:
            log.warning("store.unreachable", error=type(error).__name__)
            return False
        return True

    async def close(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

"""One customer's data in the conversation store: everything kept about them (the owner's
"export"), and deleting it (the owner's "delete this customer").

A customer is one conversation of one tenant: the conversation id is a pseudonym the
router makes per business number and customer, so it names exactly one person of one
Business. Every query names the tenant as well, so that another Business's conversation
that happened to share the id could never be read or deleted.
"""

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from katha.store.engines import WRITES
from katha.store.events import ConversationSummary, StoredEvent
from katha.store.media import MediaSummary, conversation_media, forget_conversation_media
from katha.store.models import conversations, events

SUMMARY_COLUMNS = tuple(ConversationSummary.model_fields)
EVENT_COLUMNS = tuple(StoredEvent.model_fields)


class CustomerExport(BaseModel):
    """Everything the store keeps about one customer: the conversation's row (name,
    number, language, flags), every event with its text, oldest first, and what is kept
    of their media (each file's bytes are served one by one, not exported inline)."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    conversation_id: str
    conversation: ConversationSummary | None
    events: list[StoredEvent]
    media: list[MediaSummary] = []  # their voice notes, photos, documents (the bytes apart)


class CustomerForgotten(BaseModel):
    """How many rows deleting one customer removed (zero and zero: nothing was kept,
    or it was deleted already)."""

    model_config = ConfigDict(frozen=True)

    events: int
    conversations: int
    media: int = 0  # the customer's voice notes, photos and documents


async def export_customer(engine: AsyncEngine, tenant: str, conversation_id: str) -> CustomerExport:
    """The conversation's row and all its events, read in one transaction so that the two
    agree."""
    row_query = select(*(conversations.c[name] for name in SUMMARY_COLUMNS)).where(
        conversations.c.tenant == tenant, conversations.c.conversation_id == conversation_id
    )
    events_query = (
        select(*(events.c[name] for name in EVENT_COLUMNS))
        .where(events.c.tenant == tenant, events.c.conversation_id == conversation_id)
        .order_by(events.c.at, events.c.id)
    )
    async with engine.connect() as connection, connection.begin():
        row = (await connection.execute(row_query)).mappings().first()
        rows = (await connection.execute(events_query)).mappings().all()
        files = await conversation_media(connection, tenant, conversation_id)
    return CustomerExport(
        tenant=tenant,
        conversation_id=conversation_id,
        conversation=ConversationSummary.model_validate(dict(row)) if row else None,
        events=[StoredEvent.model_validate(dict(item)) for item in rows],
        media=files,
    )


async def forget_customer(
    engine: AsyncEngine, tenant: str, conversation_id: str
) -> CustomerForgotten:
    """Delete the conversation's events, media and row in one transaction: a failure leaves
    everything as it was, and deleting again finds nothing (idempotent).

    An event the router writes after this (a message still on its way) makes a new
    conversation: the customer wrote again, which deletion cannot prevent.
    """
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITES: True})
        async with connection.begin():
            gone_events = await connection.execute(
                delete(events).where(
                    events.c.tenant == tenant, events.c.conversation_id == conversation_id
                )
            )
            gone_rows = await connection.execute(
                delete(conversations).where(
                    conversations.c.tenant == tenant,
                    conversations.c.conversation_id == conversation_id,
                )
            )
            gone_media = await forget_conversation_media(connection, tenant, conversation_id)
    return CustomerForgotten(
        events=int(gone_events.rowcount),
        conversations=int(gone_rows.rowcount),
        media=gone_media,
    )

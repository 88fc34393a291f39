"""What customers sent as media (voice notes, photos, documents), kept beside their
conversation so that the owner console can play or show it (revision 0004).

The router fetches the bytes from the Graph API once and keeps them here with what it
checked (type, size, SHA-256). A row belongs to one tenant's conversation and goes with
it: the retention sweep deletes media older than the Business's retention period, and
deleting a customer deletes theirs. Every query names the tenant, so one Business can
never read another's customers' media even when a media id were guessed.
"""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import (
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from katha.contracts.routing import TENANT_PATTERN
from katha.store.engines import WRITES
from katha.store.events import (
    CONVERSATION_ID_MAX,
    EVENT_ID_MAX,
    NAME_MAX,
    TENANT_MAX,
)
from katha.store.models import UtcDateTime, metadata

MEDIA_ID_MAX = 256  # Meta's media ids are digits; room for whatever it sends later
MIME_MAX = 128
SHA256_MAX = 64  # hex

media = Table(
    "media",
    metadata,
    Column("tenant", String(TENANT_MAX), primary_key=True),
    Column("media_id", String(MEDIA_ID_MAX), primary_key=True),
    Column("conversation_id", String(CONVERSATION_ID_MAX), nullable=False),
    Column("message_id", String(EVENT_ID_MAX), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("mime_type", String(MIME_MAX), nullable=False),
    Column("filename", String(NAME_MAX)),
    Column("size", Integer, nullable=False),
    Column("sha256", String(SHA256_MAX), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Index("ix_media_conversation", "tenant", "conversation_id"),
    Index("ix_media_tenant_at", "tenant", "at"),
)


class MediaSummary(BaseModel):
    """What the console lists of a customer's media file, without its bytes. `message_id`
    is the WhatsApp message it came in (its event is `in:<message_id>`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    media_id: str = Field(min_length=1, max_length=MEDIA_ID_MAX)
    message_id: str = Field(min_length=1, max_length=EVENT_ID_MAX)
    at: AwareDatetime
    kind: str = Field(min_length=1, max_length=16)  # image, audio, video, document, sticker
    mime_type: str = Field(min_length=1, max_length=MIME_MAX)
    filename: str | None = Field(default=None, max_length=NAME_MAX)
    size: int = Field(ge=0)
    sha256: str = Field(min_length=SHA256_MAX, max_length=SHA256_MAX)


class StoredMedia(MediaSummary):
    """One customer's media file as the store keeps it."""

    tenant: str = Field(pattern=TENANT_PATTERN, max_length=TENANT_MAX)
    conversation_id: str = Field(min_length=1, max_length=CONVERSATION_ID_MAX)
    content: bytes = Field(repr=False)


async def keep_media(engine: AsyncEngine, item: StoredMedia) -> bool:
    """Keep `item` unless the tenant already has that media id (a retried message keeps
    the first copy); whether it was new."""
    values = item.model_dump()
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITES: True})
        async with connection.begin():
            statement = (
                _insert(connection)
                .values(values)
                .on_conflict_do_nothing(index_elements=["tenant", "media_id"])
                .returning(media.c.media_id)
            )
            # RETURNING, not rowcount: what a driver reports for a skipped row differs.
            inserted = (await connection.execute(statement)).first()
    return inserted is not None


async def read_media(engine: AsyncEngine, tenant: str, media_id: str) -> StoredMedia | None:
    query = select(media).where(media.c.tenant == tenant, media.c.media_id == media_id)
    async with engine.connect() as connection:
        row = (await connection.execute(query)).mappings().first()
    return StoredMedia.model_validate(dict(row)) if row is not None else None


async def conversation_media(
    connection: AsyncConnection, tenant: str, conversation_id: str
) -> list[MediaSummary]:
    """One customer's media files, oldest first, without their bytes."""
    columns = [media.c[name] for name in MediaSummary.model_fields]
    query = (
        select(*columns)
        .where(media.c.tenant == tenant, media.c.conversation_id == conversation_id)
        .order_by(media.c.at, media.c.media_id)
    )
    rows = (await connection.execute(query)).mappings().all()
    return [MediaSummary.model_validate(dict(row)) for row in rows]


async def forget_media_before(connection: AsyncConnection, tenant: str, cutoff: datetime) -> int:
    """Delete a tenant's media received before `cutoff` (inside the caller's transaction)."""
    gone = await connection.execute(
        delete(media).where(media.c.tenant == tenant, media.c.at < cutoff)
    )
    return int(gone.rowcount)


async def forget_conversation_media(
    connection: AsyncConnection, tenant: str, conversation_id: str
) -> int:
    """Delete one customer's media (inside the caller's transaction)."""
    gone = await connection.execute(
        delete(media).where(media.c.tenant == tenant, media.c.conversation_id == conversation_id)
    )
    return int(gone.rowcount)


def _insert(connection: AsyncConnection) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(media)
    return sqlite.insert(media)

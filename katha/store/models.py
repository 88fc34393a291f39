"""The store's tables at the newest migration; the migrations build exactly this (a test
compares them), and the store's queries are written against it."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator

from katha.store.events import (
    CONVERSATION_ID_MAX,
    EVENT_ID_MAX,
    HANDLE_MAX,
    NAME_MAX,
    PREVIEW_MAX,
    REASON_MAX,
    SHORT_MAX,
    TENANT_MAX,
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out, on both databases.

    SQLite has no time zones: it keeps the text of the time, so every time is turned into
    UTC first (and then sorts correctly as text); PostgreSQL's timestamptz keeps the instant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store keeps aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


metadata = MetaData()

# One row per tenant and conversation: what the owner's list shows without reading events.
conversations = Table(
    "conversations",
    metadata,
    Column("tenant", String(TENANT_MAX), primary_key=True),
    Column("conversation_id", String(CONVERSATION_ID_MAX), primary_key=True),
    Column("customer_name", String(NAME_MAX)),
    Column("customer_handle", String(HANDLE_MAX)),
    Column("language", String(SHORT_MAX)),
    Column("last_at", UtcDateTime(), nullable=False),
    Column("last_text", String(PREVIEW_MAX)),
    Column("messages", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime(), nullable=False),
    # Since revision 0002: the flags the owner filters by, and the times that keep them
    # right when events arrive out of order.
    Column("with_person", Boolean, nullable=False, server_default=false()),
    Column("unanswered", Boolean, nullable=False, server_default=false()),
    Column("handoff_at", UtcDateTime()),
    Column("last_customer_at", UtcDateTime()),
    Column("last_reply_at", UtcDateTime()),
    Index("ix_conversations_tenant_last_at", "tenant", "last_at", "conversation_id"),
    Index("ix_conversations_with_person", "tenant", "with_person", "last_at"),
    Index("ix_conversations_unanswered", "tenant", "unanswered", "last_at"),
)

# Every event of every conversation, each kept once per tenant and event_id.
events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("tenant", String(TENANT_MAX), nullable=False),
    Column("conversation_id", String(CONVERSATION_ID_MAX), nullable=False),
    Column("event_id", String(EVENT_ID_MAX), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("author", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text),
    Column("message_type", String(SHORT_MAX)),
    Column("language", String(SHORT_MAX)),
    Column("intent", String(SHORT_MAX)),
    Column("sources", JSON, nullable=False),
    Column("handoff_reason", String(REASON_MAX)),
    Column("customer_name", String(NAME_MAX)),
    Column("customer_handle", String(HANDLE_MAX)),
    UniqueConstraint("tenant", "event_id", name="uq_events_tenant_event_id"),
    Index("ix_events_thread", "tenant", "conversation_id", "at", "id"),
    Index("ix_events_tenant_at", "tenant", "at"),
)

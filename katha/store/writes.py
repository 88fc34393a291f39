"""Recording events: each kept once, and the conversation rows moved on by the new ones only.

Several router replicas write at once. Events are inserted with ON CONFLICT DO NOTHING, so
a redelivered event is skipped by the database itself, and each conversation row is locked
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: the writer's BEGIN IMMEDIATE) before it is
folded forward, in a fixed order so that two writers never wait on each other in a circle.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from katha.store.events import StoreEvent
from katha.store.models import conversations, events
from katha.store.summary import ConversationState, empty_state, fold

# The row's columns besides its key, one for each field of ConversationState.
STATE_COLUMNS = tuple(field.name for field in fields(ConversationState))

Key = tuple[str, str]  # tenant, conversation_id


def first_of_each(batch: Iterable[StoreEvent]) -> list[StoreEvent]:
    """The batch without repeats of a (tenant, event_id): the first copy wins, as the
    database would keep it."""
    seen: dict[Key, StoreEvent] = {}
    for event in batch:
        seen.setdefault((event.tenant, event.event_id), event)
    return list(seen.values())


async def insert_new(connection: AsyncConnection, batch: Sequence[StoreEvent]) -> list[StoreEvent]:
    """Insert the events not stored yet; the ones that were new, in the batch's order."""
    statement = (
        _insert(connection, events)
        .on_conflict_do_nothing(index_elements=["tenant", "event_id"])
        .returning(events.c.tenant, events.c.event_id)
    )
    ordered = sorted(batch, key=lambda event: (event.tenant, event.event_id))
    result = await connection.execute(statement, [event.model_dump() for event in ordered])
    inserted = {(row.tenant, row.event_id) for row in result}
    return [event for event in batch if (event.tenant, event.event_id) in inserted]


async def move_conversations(connection: AsyncConnection, new: Sequence[StoreEvent]) -> None:
    """Create or fold forward the conversation row of each new event."""
    by_key: dict[Key, list[StoreEvent]] = defaultdict(list)
    for event in new:
        by_key[(event.tenant, event.conversation_id)].append(event)
    if not by_key:
        return
    keys = sorted(by_key)
    # Rows that do not exist yet start empty, so that creating and updating are one path.
    blanks = [_row(key, empty_state(by_key[key])) for key in keys]
    await connection.execute(
        _insert(connection, conversations).on_conflict_do_nothing(
            index_elements=["tenant", "conversation_id"]
        ),
        blanks,
    )
    states = await _locked_states(connection, keys)
    moved = [_row(key, fold(states[key], by_key[key]), bound=True) for key in keys]
    statement = (
        update(conversations)
        .where(
            conversations.c.tenant == bindparam("key_tenant"),
            conversations.c.conversation_id == bindparam("key_conversation_id"),
        )
        .values({column: bindparam(column) for column in STATE_COLUMNS})
    )
    await connection.execute(statement, moved)


async def _locked_states(
    connection: AsyncConnection, keys: Sequence[Key]
) -> dict[Key, ConversationState]:
    by_tenant: dict[str, list[str]] = defaultdict(list)
    for tenant, conversation_id in keys:
        by_tenant[tenant].append(conversation_id)
    states: dict[Key, ConversationState] = {}
    for tenant in sorted(by_tenant):
        query = (
            select(conversations)
            .where(
                conversations.c.tenant == tenant,
                conversations.c.conversation_id.in_(by_tenant[tenant]),
            )
            .order_by(conversations.c.conversation_id)
            .with_for_update()
        )
        for row in (await connection.execute(query)).mappings():
            state = ConversationState(**{column: row[column] for column in STATE_COLUMNS})
            states[(tenant, row["conversation_id"])] = state
    return states


def _row(key: Key, state: ConversationState, *, bound: bool = False) -> dict[str, Any]:
    # An UPDATE's WHERE needs bind names that differ from the columns it sets.
    prefix = "key_" if bound else ""
    row = {column: getattr(state, column) for column in STATE_COLUMNS}
    return {f"{prefix}tenant": key[0], f"{prefix}conversation_id": key[1], **row}


def _insert(connection: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)

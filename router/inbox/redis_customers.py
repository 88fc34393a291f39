"""One conversation's keys and stream entries in the Redis inbox, read for an export and
deleted for a customer who asked to be forgotten.

The stream is read whole (in pages): an admin's deletion is rare and the stream holds only
messages not answered yet. Records are found with SCAN, never KEYS, so Redis keeps
answering other replicas meanwhile.
"""

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from router.inbox.base import RECORD_FAMILY as FAMILY
from router.inbox.base import InboxEntry
from router.inbox.dead_letters import identify
from router.inbox.held import entry_order

PAGE = 500
_FIELD = re.compile(r'"conversation_id"\s*:\s*"([^"\\]*)"')
_GLOB = str.maketrans({char: "\\" + char for char in "*?[]\\"})


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _conversation_of(body: Any) -> str | None:
    """The conversation id a dead letter's envelope names, compared whole (matching its
    bytes would pick another customer's letter whose id merely starts with this one).
    A letter is dead because it did not load, so a body that is not JSON is searched for
    the field itself; None when it names none."""
    try:
        document: Any = json.loads(body)
    except (ValueError, TypeError):
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        match = _FIELD.search(text)
        return match.group(1) if match else None
    message = document.get("message") if isinstance(document, dict) else None
    found = message.get("conversation_id") if isinstance(message, dict) else None
    return found if isinstance(found, str) else None


async def stream_entries(client: aioredis.Redis, stream: str) -> AsyncIterator[tuple[str, Any]]:
    """Every (entry id, fields) of a stream, oldest first, a page at a time."""
    start = "-"
    while True:
        page: Any = await client.xrange(stream, min=start, max="+", count=PAGE)
        for ident, fields in page:
            yield _text(ident), fields
        if len(page) < PAGE:
            return
        start = "(" + _text(page[-1][0])


async def entries(client: aioredis.Redis, stream: str, conversation_id: str) -> list[InboxEntry]:
    found: list[InboxEntry] = []
    async for ident, fields in stream_entries(client, stream):
        if _text(fields.get(b"conversation", b"")) != conversation_id:
            continue
        body = fields.get(b"body", b"")
        message_id, tenant = identify(body)
        received = entry_order(ident)[0] / 1000
        found.append(InboxEntry(message_id or "", tenant or "", received, "pending", _text(body)))
    return found


async def forget(
    client: aioredis.Redis, prefix: str, streams: tuple[str, str], group: str, conversation_id: str
) -> tuple[list[str], int]:
    """Delete the conversation's stream entries (acknowledged first, so no replica takes
    them again), their saved replies, sent-markers and dedupe keys, its dead letters, its
    state and handoff reference. Returns (the entry ids deleted, keys and letters deleted)."""
    stream, dead = streams
    ids: list[str] = []
    keys: list[str] = []
    async for ident, fields in stream_entries(client, stream):
        if _text(fields.get(b"conversation", b"")) == conversation_id:
            ids.append(ident)
            message_id, _ = identify(fields.get(b"body", b""))
            if message_id:
                keys += [f"{prefix}{kind}:{message_id}" for kind in ("reply", "sent", "seen")]
    letters = [
        ident
        async for ident, fields in stream_entries(client, dead)
        if _conversation_of(fields.get(b"body", b"")) == conversation_id
    ]
    state: Any = await client.hmget(
        f"{prefix}conversation:{conversation_id}", ["phone_number_id", "handoff_ref"]
    )
    keys += [f"{prefix}conversation:{conversation_id}", f"{prefix}lock:{conversation_id}"]
    if state[1]:
        keys.append(f"{prefix}handoff:{_text(state[0] or b'')}:{_text(state[1])}")
    async with client.pipeline(transaction=True) as pipe:
        if ids:
            pipe.xack(stream, group, *ids)
            pipe.xdel(stream, *ids)
        if letters:
            pipe.xdel(dead, *letters)
        pipe.delete(*keys)
        results = await pipe.execute()
    return ids, int(results[-1]) + len(letters)


async def records_named(
    client: aioredis.Redis, prefix: str, name_prefix: str, value: str | None
) -> dict[str, str]:
    """The record called `name_prefix`, or, when it ends with FAMILY, every record whose
    name starts with it (SCAN, then one MGET per page of names); with `value`, only
    those holding it."""
    head = f"{prefix}record:"
    found: dict[str, str] = {}
    if not name_prefix.endswith(FAMILY):
        stored: Any = await client.get(head + name_prefix)
        if stored is not None and (value is None or _text(stored) == value):
            found[name_prefix] = _text(stored)
        return found
    pattern = head + name_prefix.translate(_GLOB) + "*"
    cursor: Any = 0
    while True:
        cursor, names = await client.scan(cursor, match=pattern, count=PAGE)
        if names:
            values: Any = await client.mget(names)
            for key, stored in zip(names, values, strict=True):
                if stored is not None and (value is None or _text(stored) == value):
                    found[_text(key).removeprefix(head)] = _text(stored)
        if int(cursor) == 0:
            return found


async def forget_records(
    client: aioredis.Redis, prefix: str, name_prefix: str, value: str | None
) -> int:
    names = await records_named(client, prefix, name_prefix, value)
    if not names:
        return 0
    return int(await client.delete(*(f"{prefix}record:{name}" for name in names)))

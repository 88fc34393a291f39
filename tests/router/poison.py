"""Poison inbox entries written straight into the store, as a bad release, an old version
or a hand edit could leave them: the router's own accept path is not used."""

import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis
from peers.whatsapp_webhooks import message, notification

from katha.contracts.messages import InboundMessage, MessageType
from router.envelope import Envelope, Recipient

STREAM = "katha:inbox"  # RedisInbox's default prefix
TEXT = "the customer's own words 7f3a"  # must never come back from an admin call


def good_body(message_id: str, tenant: str, conversation: str) -> dict[str, object]:
    envelope = Envelope(
        message=InboundMessage(
            message_id=message_id,
            tenant=tenant,
            conversation_id=conversation,
            type=MessageType.TEXT,
            timestamp=datetime.now(UTC),
            text=TEXT,
        ),
        phone_number_id="105954558954427",
        recipient=Recipient(wa_id="94770000000"),
        received_at=time.time(),
    )
    document: dict[str, object] = json.loads(envelope.stored())
    return document


def null_latitude(message_id: str, tenant: str, conversation: str) -> str:
    """What a location with "latitude": 1e400 became once stored: null, which no release
    can load back."""
    document = good_body(message_id, tenant, conversation)
    message = document["message"]
    assert isinstance(message, dict)
    message.update(type="location", text=None, location={"latitude": None, "longitude": 79.8})
    return json.dumps(document)


KINDS = ("null_latitude", "corrupt_json", "missing_body")


def body_of(kind: str, message_id: str, tenant: str, conversation: str) -> str | None:
    if kind == "null_latitude":
        return null_latitude(message_id, tenant, conversation)
    if kind == "corrupt_json":  # a write cut short
        return json.dumps(good_body(message_id, tenant, conversation))[:40]
    if kind == "missing_body":
        return None
    raise ValueError(f"unknown poison kind {kind!r}")


def write(inbox_url: str, kind: str, *, tenant: str, conversation: str) -> str:
    """Put a poison entry of `kind` into the inbox beside the real ones; its message id."""
    message_id = f"wamid.POISON{uuid.uuid4().hex[:12]}"
    body = body_of(kind, message_id, tenant, conversation)
    if inbox_url.startswith("sqlite:///"):
        db = sqlite3.connect(Path(inbox_url.removeprefix("sqlite://")), timeout=10)
        with db:
            db.execute(
                "INSERT INTO inbox (message_id, tenant, conversation_id, body, received_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (message_id, tenant, conversation, body or "", time.time()),
            )
        db.close()
        return message_id
    client = redis.Redis.from_url(inbox_url)
    fields: dict[str, str] = {"conversation": conversation}
    if body is not None:
        fields["body"] = body
    client.xadd(STREAM, fields)  # type: ignore[arg-type]
    client.close()
    return message_id


def location_1e400(phone_number_id: str) -> bytes:
    """A webhook with a latitude no float can hold (json.dumps cannot write it)."""
    document = notification(
        phone_number_id, [message("location", {"latitude": 0.5, "longitude": 79.8})]
    )
    return httpx.Request("POST", "/", json=document).content.replace(b"0.5", b"1e400", 1)

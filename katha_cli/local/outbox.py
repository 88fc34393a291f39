"""The local Graph API of `katha up`: the router sends replies here instead of to Meta.

It answers `POST /{version}/{phone_number_id}/messages` as the Graph API does. For a
tenant without a real access token the message is kept in the outbox (a SQLite file in
the state folder) that `katha chat` reads through `GET /outbox`; for a live tenant it is
passed on to graph.facebook.com unchanged, and Meta's answer (429s included) goes back to
the router, whose retries and pacing then work as in a cluster. Either way the router's
own code path is the one that runs in production.

For local tenants it also refuses what Meta would (`meta_rules`): a free-form message to
someone who has not written in the last 24 hours, and undeclared templates. Local senders
(`katha chat`) tell it each customer message through `POST /local/inbound`, as Meta knows
every message it delivers.
"""

import asyncio
import contextlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from katha.api.business import Templates
from katha.contracts.messages import ReplyTracking
from katha_cli.local.meta_rules import (
    GraphRules,
    Refusal,
    inbound_senders,
    is_read_receipt,
    recipient_of,
    sender_key,
    template_refusal,
    template_text,
    window_refusal,
)

META_GRAPH_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v23.0"

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    phone_number_id TEXT NOT NULL,
    recipient TEXT,
    reply_to TEXT,
    kind TEXT NOT NULL,
    text TEXT,
    tracking TEXT,
    forwarded INTEGER NOT NULL DEFAULT 0,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox (recipient, seq);
CREATE TABLE IF NOT EXISTS inbound (
    phone_number_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (phone_number_id, sender)
);
"""

# The longest one long-poll may wait; a client wanting longer polls again.
MAX_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class OutboxMessage:
    seq: int
    message_id: str
    phone_number_id: str
    recipient: str | None
    reply_to: str | None
    kind: str
    text: str | None
    tracking: ReplyTracking | None
    forwarded: bool
    at: float

    def as_dict(self) -> dict[str, Any]:
        document = dict(self.__dict__)
        document["tracking"] = self.tracking.model_dump() if self.tracking else None
        return document

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> "OutboxMessage":
        tracking = document.get("tracking")
        return cls(
            **{**document, "tracking": ReplyTracking.model_validate(tracking) if tracking else None}
        )


class Outbox:
    """Every message the router sent, in order, and when each customer last wrote to each
    number; thread-safe, one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # It stands in for Meta: no disk sync per message in the router's reply path.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def add(
        self, phone_number_id: str, body: dict[str, Any], *, forwarded: bool = False
    ) -> OutboxMessage:
        kind = str(body.get("type") or ("read" if body.get("status") == "read" else "unknown"))
        text_part = body.get("text")
        text = text_part.get("body") if isinstance(text_part, dict) else None
        if kind == "template":
            text = template_text(body)
        recipient = recipient_of(body)
        # A reply names the message it answers; a read receipt, the message it marks read.
        reply_to = (body.get("context") or {}).get("message_id")
        if kind == "read":
            reply_to = body.get("message_id")
        tracking = body.get("biz_opaque_callback_data")
        row = (
            "wamid.local." + secrets.token_hex(12),
            phone_number_id,
            recipient,
            reply_to,
            kind,
            text,
            tracking,
            int(forwarded),
            time.time(),
        )
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO outbox (message_id, phone_number_id, recipient, reply_to, kind, text,"
                " tracking, forwarded, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            seq = int(cursor.lastrowid or 0)
        return _message((seq, *row))

    def since(self, after: int = 0, recipient: str | None = None) -> list[OutboxMessage]:
        query = "SELECT * FROM outbox WHERE seq > ? AND kind != 'read'"
        params: list[Any] = [after]
        if recipient is not None:
            query += " AND recipient = ?"
            params.append(recipient)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", params).fetchall()
        return [_message(row) for row in rows]

    def was_read(self, message_id: str) -> bool:
        """Whether the router marked this customer message read (blue ticks): it does as
        it hands the message to the agent, never while a person has the conversation."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM outbox WHERE kind = 'read' AND reply_to = ? LIMIT 1",
                (message_id,),
            ).fetchone()
        return row is not None

    def record_inbound(self, senders: list[tuple[str, str]], at: float) -> None:
        """Customers wrote to these numbers at `at`: their 24-hour windows start again."""
        with self._lock:
            self._db.executemany(
                "INSERT INTO inbound (phone_number_id, sender, at) VALUES (?, ?, ?)"
                " ON CONFLICT (phone_number_id, sender) DO UPDATE SET at = MAX(at, excluded.at)",
                [(number, sender, at) for number, sender in senders],
            )

    def last_inbound(self, phone_number_id: str, sender: str) -> float | None:
        """When `sender` (a phone number or BSUID) last wrote to this number, if ever."""
        with self._lock:
            row = self._db.execute(
                "SELECT at FROM inbound WHERE phone_number_id = ? AND sender = ?",
                (phone_number_id, sender_key(sender)),
            ).fetchone()
        return float(row[0]) if row else None

    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()


def _message(row: tuple[Any, ...]) -> OutboxMessage:
    seq, message_id, number, recipient, reply_to, kind, text, tracking, forwarded, at = row
    return OutboxMessage(
        seq,
        message_id,
        number,
        recipient,
        reply_to,
        kind,
        text,
        ReplyTracking.decode(tracking),
        bool(forwarded),
        at,
    )


def create_graph_app(
    outbox: Outbox,
    live_numbers: frozenset[str],
    *,
    meta_url: str = META_GRAPH_URL,
    on_message: Callable[[OutboxMessage], None] | None = None,
    timeout: float = 10.0,
    rules: GraphRules | None = None,
) -> FastAPI:
    """The Graph API stand-in; `live_numbers` are passed on to `meta_url`, the others are
    held to `rules` (Meta's window and templates) before they land in the outbox."""
    app = FastAPI(title="katha local Graph API", docs_url=None, redoc_url=None)
    client = httpx.AsyncClient(timeout=timeout)
    app.router.on_shutdown.append(client.aclose)
    arrived = Arrivals()
    meta = rules or GraphRules()

    def record(phone_number_id: str, body: dict[str, Any], *, forwarded: bool) -> OutboxMessage:
        message = _record(outbox, phone_number_id, body, on_message, forwarded=forwarded)
        arrived.notify()
        return message

    @app.post("/{version}/{phone_number_id}/messages")
    async def messages(version: str, phone_number_id: str, request: Request) -> Response:
        raw = await request.body()
        body = _whatsapp_body(raw)
        if isinstance(body, Response):
            return body
        if phone_number_id in live_numbers:  # Meta itself enforces its rules there
            url = f"{meta_url}/{version}/{phone_number_id}/messages"
            upstream = await _forward(client, url, raw, request.headers.get("authorization", ""))
            if upstream.is_success:
                record(phone_number_id, body, forwarded=True)
            return _relayed(upstream)
        refusal = _refusal(outbox, meta, phone_number_id, body)
        if refusal is not None:
            return refusal.response()
        return _accepted(record(phone_number_id, body, forwarded=False), body)

    @app.post("/local/inbound")
    async def inbound(request: Request) -> dict[str, int]:
        """A local sender posts here each webhook it is about to deliver to the router,
        as Meta knows every customer message before the business sees it."""
        try:
            webhook = json.loads(await request.body())
        except ValueError:
            webhook = None
        senders = inbound_senders(webhook)
        outbox.record_inbound(senders, meta.clock())
        return {"recorded": len(senders)}

    @app.get("/outbox")
    async def read_outbox(
        after: Annotated[int, Query(ge=0)] = 0,
        to: Annotated[str | None, Query()] = None,
        wait: Annotated[
            float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Long-poll seconds.")
        ] = 0,
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            waiting = arrived.event  # taken before reading: nothing slips in between
            messages = outbox.since(after, to)
            left = deadline - asyncio.get_running_loop().time()
            if messages or left <= 0:
                return {"messages": [message.as_dict() for message in messages]}
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting.wait(), left)

    @app.get("/outbox/last")
    def last() -> dict[str, int]:
        return {"seq": outbox.last_seq()}

    @app.get("/outbox/read")
    def read(message_id: Annotated[str, Query(max_length=200)]) -> dict[str, bool]:
        return {"read": outbox.was_read(message_id)}

    return app


class Arrivals:
    """Wakes long-polling readers: each new message sets the current event and starts a
    fresh one."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def notify(self) -> None:
        event, self.event = self.event, asyncio.Event()
        event.set()


def _record(
    outbox: Outbox,
    phone_number_id: str,
    body: dict[str, Any],
    on_message: Callable[[OutboxMessage], None] | None,
    *,
    forwarded: bool,
) -> OutboxMessage:
    message = outbox.add(phone_number_id, body, forwarded=forwarded)
    if on_message is not None and message.kind != "read":
        on_message(message)
    return message


def _whatsapp_body(raw: bytes) -> dict[str, Any] | JSONResponse:
    """The request's JSON body, or the Graph API's error when it is not a WhatsApp message."""
    try:
        body = json.loads(raw)
    except ValueError:
        return _graph_error(400, 100, "Invalid parameter: the body is not JSON")
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return _graph_error(400, 100, "Invalid parameter: messaging_product")
    return body


async def _forward(
    client: httpx.AsyncClient, url: str, raw: bytes, authorization: str
) -> httpx.Response:
    """Pass a live tenant's message on to Meta unchanged."""
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    return await client.post(url, content=raw, headers=headers)


def _relayed(upstream: httpx.Response) -> Response:
    """Meta's answer, 429s included, as the router's own answer."""
    return Response(
        upstream.content,
        status_code=upstream.status_code,
        media_type=upstream.headers.get("content-type", "application/json"),
    )


def _refusal(
    outbox: Outbox, rules: GraphRules, phone_number_id: str, body: dict[str, Any]
) -> Refusal | None:
    """What Meta would refuse of a local tenant's message: templates any time unless not
    declared (or with the wrong parameters), anything else outside the recipient's window."""
    if is_read_receipt(body):
        return None
    recipient = recipient_of(body)
    if recipient is None:
        return Refusal(400, 100, "Invalid parameter", "The parameter to is required.")
    if body.get("type") == "template":
        return template_refusal(rules.templates.get(phone_number_id, Templates()), body)
    return window_refusal(outbox.last_inbound(phone_number_id, recipient), rules)


def _accepted(message: OutboxMessage, body: dict[str, Any]) -> JSONResponse:
    """What the Graph API answers for a message it took: a phone send names the `wa_id`, a
    BSUID send (`recipient` without `to`) the `user_id`."""
    if message.kind == "read":
        return JSONResponse({"success": True})
    recipient = message.recipient or ""
    contact = {"input": recipient, "wa_id" if body.get("to") else "user_id": recipient}
    sent: dict[str, str] = {"id": message.message_id}
    if message.kind == "template":
        sent["message_status"] = "accepted"
    return JSONResponse(
        {"messaging_product": "whatsapp", "contacts": [contact], "messages": [sent]}
    )


def _graph_error(status: int, code: int, text: str) -> JSONResponse:
    error = {"message": text, "type": "OAuthException", "code": code}
    return JSONResponse({"error": error}, status_code=status)

"""Take over, reply as a person, release: what the API does (for the thread page's buttons
and for integrations) through the router's admin API, each written to the audit log.

The router knows a conversation by its id alone (release takes nothing else), so the
console first makes sure the conversation is this Business's own in the store: a person of
Business A can never act on B's customer by guessing an id.
"""

import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import HTTPException, status

from console.auth.deps import audit
from console.auth.principal import Principal
from console.router_client import RouterRefusedError, RouterUnavailableError
from console.services import ConsoleServices
from katha.observability import get_logger

log = get_logger("console")

SENT = frozenset({"free_form"})  # the router sends a person's words as they are, or not
REMEMBERED_REPLIES = 1000

T = TypeVar("T")


class ReplyRefusedError(Exception):
    """The router did not send a person's reply: `reason` says why (outside_window: the
    customer's 24-hour window is closed; restricted; unknown_customer; failed;
    reply_id_reused: that reply_id was sent before with other words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RecentReplies:
    """The results of the last replies sent with a `reply_id`, so that the same reply sent
    again (a retry after a lost answer, a double tap) is answered without calling the
    router. Per replica; the router itself keeps every reply_id it sent, so a retry that
    lands on another replica is not sent twice either. The key holds a hash of the text:
    the same id with other words goes to the router, which refuses it (reply_id_reused)."""

    results: OrderedDict[tuple[str, str, str, str], str] = field(default_factory=OrderedDict)

    def get(self, key: tuple[str, str, str, str]) -> str | None:
        return self.results.get(key)

    def keep(self, key: tuple[str, str, str, str], sent: str) -> None:
        self.results[key] = sent
        while len(self.results) > REMEMBERED_REPLIES:
            self.results.popitem(last=False)


async def ensure_conversation(services: ConsoleServices, tenant: str, conversation_id: str) -> None:
    """404 unless `conversation_id` is one of `tenant`'s conversations."""
    if not await services.store.thread(tenant, conversation_id, limit=1):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")


async def take_over(
    services: ConsoleServices, principal: Principal, tenant: str, conversation_id: str
) -> bool:
    await ensure_conversation(services, tenant, conversation_id)
    with_person = await _call_router(services.router.takeover(tenant, conversation_id))
    await audit(services, principal, "conversation.takeover", tenant, conversation_id)
    return with_person


async def reply(
    services: ConsoleServices,
    principal: Principal,
    tenant: str,
    conversation_id: str,
    text: str,
    replies: RecentReplies,
    reply_id: str | None = None,
) -> str:
    """How the reply went out: "free_form". Raises ReplyRefusedError."""
    await ensure_conversation(services, tenant, conversation_id)
    key = (tenant, conversation_id, reply_id, text_hash(text)) if reply_id else None
    if key is not None and (earlier := replies.get(key)) is not None:
        return earlier
    call = services.router.reply(
        tenant, conversation_id, text, author=principal.display, reply_id=reply_id
    )
    try:
        sent = await _call_router(call)
    except HTTPException as error:
        if error.status_code == status.HTTP_409_CONFLICT:
            await audit(services, principal, "conversation.reply_refused", tenant, conversation_id)
            raise ReplyRefusedError(str(error.detail)) from None
        raise
    if sent not in SENT:
        await audit(services, principal, "conversation.reply_refused", tenant, conversation_id)
        raise ReplyRefusedError(sent or "unknown")
    if key is not None:
        replies.keep(key, sent)
    await audit(services, principal, "conversation.reply", tenant, conversation_id)
    return sent


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def release(
    services: ConsoleServices, principal: Principal, tenant: str, conversation_id: str
) -> bool:
    await ensure_conversation(services, tenant, conversation_id)
    released = await _call_router(services.router.release(conversation_id))
    await audit(services, principal, "conversation.release", tenant, conversation_id)
    return released


async def _call_router(call: Awaitable[T]) -> T:
    """The router's answer, or the HTTP error the console answers in its place."""
    try:
        return await call
    except RouterUnavailableError as error:
        log.warning("router.unavailable", error=str(error))
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the router is not answering; try again"
        ) from None
    except RouterRefusedError as error:
        log.warning("router.refused", status=error.status)
        if error.status == status.HTTP_404_NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation") from None
        if error.status == status.HTTP_409_CONFLICT:
            raise HTTPException(status.HTTP_409_CONFLICT, refusal_reason(error)) from None
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, "the router refused the call") from None


def refusal_reason(error: RouterRefusedError) -> str:
    """The router's own reason (its JSON `detail`), else its words as they came."""
    _, _, body = str(error).partition(": ")
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return body or "refused"
    return str(detail) if detail else "refused"

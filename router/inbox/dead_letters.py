"""Loading a stored inbox entry, and what becomes of one that cannot be loaded: a dead
letter, kept beside the inbox in the same backend, so one bad entry (corrupt JSON, a
schema this release refuses, a missing field) never stops the queue for every tenant."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from router.envelope import Envelope

# Why an entry was set aside (the metric's `reason` label: a small, fixed set).
INVALID_JSON = "invalid_json"
INVALID_MESSAGE = "invalid_message"  # JSON, but not a message this release accepts
MISSING_BODY = "missing_body"
UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """What an admin sees of a dead letter: ids and sizes, never the message's text."""

    id: str  # the dead-letter store's own id
    entry_id: str  # the inbox entry it was (SQLite seq, Redis stream id)
    message_id: str | None
    tenant: str | None
    reason: str
    detail: str  # which fields failed and how, without their values
    size: int  # bytes of the stored entry
    dead_at: float  # epoch seconds


DeadLetterListener = Callable[[DeadLetter], None]


class UnloadableEntryError(Exception):
    """A stored entry that this release cannot turn back into an Envelope."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def load(data: str | bytes, *, attempts: int, handle: str) -> Envelope:
    """The stored entry as an Envelope; raises UnloadableEntryError, whatever is wrong with it."""
    try:
        return Envelope.restored(data, attempts=attempts, handle=handle)
    except ValidationError as error:
        problems = error.errors(include_input=False, include_url=False, include_context=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise UnloadableEntryError(INVALID_JSON, "not valid JSON") from error
        detail = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['type']}"
            for problem in problems[:5]
        )
        raise UnloadableEntryError(INVALID_MESSAGE, detail) from error
    except (ValueError, TypeError) as error:  # e.g. bytes that are not UTF-8
        raise UnloadableEntryError(UNREADABLE, type(error).__name__) from error


def identify(data: str | bytes) -> tuple[str | None, str | None]:
    """The (message id, tenant) of an unloadable entry, where they can still be read."""
    try:
        document: Any = json.loads(data)
        message = document.get("message") if isinstance(document, dict) else None
    except (ValueError, TypeError):
        return None, None
    if not isinstance(message, dict):
        return None, None

    def field(name: str) -> str | None:
        value = message.get(name)
        return value[:256] if isinstance(value, str) and value else None

    return field("message_id"), field("tenant")


def size_of(data: str | bytes) -> int:
    return len(data.encode() if isinstance(data, str) else data)

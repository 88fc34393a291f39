"""What every inbox backend promises: durable accept with dedupe, leases, per-conversation
order, the reply outbox with sent-markers, and the small state each conversation keeps."""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from router.envelope import Envelope
from router.inbox.dead_letters import DeadLetter, DeadLetterListener

# A record name ending in this names a family of records in records_named and
# forget_records (every name that starts with it); any other name is one record.
RECORD_FAMILY = ":"


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What the router remembers about a conversation (keyed by its pseudonymous id)."""

    handoff_until: float | None = None  # with a human until then (epoch seconds)
    handoff_ref: str | None = None  # the short reference the owner releases it with
    phone_number_id: str | None = None
    language: str | None = None
    last_inbound_at: float | None = None  # opens WhatsApp's 24-hour reply window


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One message of a conversation still in the inbox (a customer's data export)."""

    message_id: str
    tenant: str
    received_at: float  # epoch seconds
    state: str  # open | leased | done (SQLite) or pending (Redis)
    body: str | None  # the stored message while it is not answered yet


@dataclass(frozen=True, slots=True)
class InboxStats:
    depth: int  # accepted, not yet answered
    oldest_age_seconds: float


class InboxUnavailableError(RuntimeError):
    """The inbox store cannot be reached; the webhook must not be acknowledged."""


class Inbox(Protocol):
    """Implemented by `SqliteInbox` (one replica) and `RedisInbox` (several)."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...

    async def secret_key(self) -> bytes:
        """A random key made once per deployment, for conversation pseudonyms."""
        ...

    async def accept(self, envelopes: Sequence[Envelope]) -> list[bool]:
        """Store durably before the webhook is acknowledged; False where a duplicate."""
        ...

    async def claim(
        self, limit: int, room: Callable[[str], int], exclude: Collection[str]
    ) -> list[Envelope]:
        """Take up to `limit` messages: only the oldest open message of a conversation
        that has none in flight, at most `room(tenant)` per tenant, and none of the
        tenants in `exclude` (those with no room left). An entry that cannot be loaded
        is moved to the dead letters (and the listeners told), never returned or raised."""
        ...

    def on_dead_letter(self, listener: DeadLetterListener) -> None:
        """Call `listener` for each entry moved to the dead letters from now on."""
        ...

    async def dead_letters(self, limit: int) -> list[DeadLetter]:
        """The newest `limit` dead letters, newest first (without the message text)."""
        ...

    async def complete(self, envelope: Envelope) -> None: ...

    async def retry_later(self, envelope: Envelope, delay_seconds: float) -> None:
        """Give the message back; its conversation waits for it (order is kept)."""
        ...

    async def stats(self) -> InboxStats: ...

    async def save_reply(self, message_id: str, reply_json: str) -> None: ...

    async def saved_reply(self, message_id: str) -> str | None: ...

    async def mark_sent(self, message_id: str, part: str) -> None: ...

    async def sent_parts(self, message_id: str) -> set[str]: ...

    async def conversation(self, conversation_id: str) -> ConversationState: ...

    async def save_conversation(self, conversation_id: str, state: ConversationState) -> None: ...

    async def find_handoff(self, phone_number_id: str, ref: str) -> str | None:
        """The conversation id an owner's release command names, if it is with a human."""
        ...

    async def record(self, name: str) -> str | None:
        """A small durable record the router keeps (a customer's other ids, a marketing
        opt-out, what Meta said about an account); None when there is none or it expired."""
        ...

    async def save_record(
        self, name: str, value: str, *, only_new: bool = False, ttl_seconds: float | None = None
    ) -> bool:
        """Keep `value` under `name`; with `only_new`, only when there is none yet. True
        when it was written. With `ttl_seconds` it is gone that long after this write."""
        ...

    async def conversation_entries(self, conversation_id: str) -> list[InboxEntry]:
        """The messages of one conversation the inbox still holds, oldest first."""
        ...

    async def forget_conversation(self, conversation_id: str) -> int:
        """Delete everything kept under one conversation id: its messages (queued or
        answered, with their saved replies, sent-markers and dead letters) and its state.
        How many messages went; deleting again finds none."""
        ...

    async def records_named(self, prefix: str, value: str | None = None) -> dict[str, str]:
        """The record called `prefix`, or, when it ends with RECORD_FAMILY, every record
        whose name starts with it ("alias:", "console-sent:<conversation id>:"); only
        those whose value is `value`, when given; by name, expired ones left out. A name
        is never a prefix otherwise: "customer:c-ab" must not find "customer:c-abc"."""
        ...

    async def forget_records(self, prefix: str, value: str | None = None) -> int:
        """Delete the records `records_named` would list (expired ones too); how many."""
        ...

    async def forget_expired(self) -> int:
        """Delete what has outlived its time (expired records, conversation state idle for
        longer than the dedupe period); how many rows. Run daily by the inbox itself."""
        ...

"""How a conversation's summary row follows from its events: pure, so it is tested alone.

The router writes from several replicas and retries, so events arrive late and slightly out
of order. The list's order, preview, count and flags therefore do not depend on arrival
order: newest `at` wins, and the times kept beside the flags (the newest customer message,
the newest reply, the newest handoff event) let a late event land where it belongs. The
customer's name and language are the newest known, except that a late event only fills in
what is not known yet (their times are not kept).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from katha.store.events import PREVIEW_MAX, StoreEvent

# Who answers a customer: a reply from any of them means the customer is not waiting.
REPLIERS = frozenset({"agent", "person", "owner_app"})
# What the thread shows as a message (a template is a message the business sent).
MESSAGE_KINDS = frozenset({"message", "template"})
HANDOFF_KINDS = frozenset({"handoff_started", "handoff_released"})
# What the conversation knows of its customer, from the newest event that says.
PROFILE = ("customer_name", "customer_handle", "language")


@dataclass(frozen=True)
class ConversationState:
    """The `conversations` row, less its key."""

    created_at: datetime
    last_at: datetime
    last_text: str | None = None
    messages: int = 0
    customer_name: str | None = None
    customer_handle: str | None = None
    language: str | None = None
    with_person: bool = False
    handoff_at: datetime | None = None
    last_customer_at: datetime | None = None
    last_reply_at: datetime | None = None
    unanswered: bool = False


def empty_state(events: Iterable[StoreEvent]) -> ConversationState:
    """The state of a conversation that has no events yet, ready for `fold` to fill in:
    folding into it gives the same result as building from nothing."""
    first = min(event.at for event in events)
    return ConversationState(created_at=first, last_at=first)


def fold(state: ConversationState, events: Iterable[StoreEvent]) -> ConversationState:
    """The state after `events` (new ones only: an event folded twice counts twice)."""
    ordered = sorted(events, key=lambda event: event.at)
    known_until = state.last_at
    for event in ordered:
        state = _apply(state, event)
    return _profile(state, ordered, known_until)


def _profile(
    state: ConversationState, ordered: Sequence[StoreEvent], known_until: datetime
) -> ConversationState:
    """The customer's name, handle and language: the newest of `ordered` that says, if it is
    newer than what was known, or if nothing was known (a late event fills a gap but never
    overwrites a newer value; `ordered` is oldest first)."""

    def told(field: str) -> str | None:
        current: str | None = getattr(state, field)
        said = [event for event in ordered if getattr(event, field) is not None]
        if said and (said[-1].at >= known_until or current is None):
            newest: str = getattr(said[-1], field)
            return newest
        return current

    return replace(
        state,
        customer_name=told("customer_name"),
        customer_handle=told("customer_handle"),
        language=told("language"),
    )


def _apply(state: ConversationState, event: StoreEvent) -> ConversationState:
    newest = event.at >= state.last_at
    handoff = event.kind in HANDOFF_KINDS and (
        state.handoff_at is None or event.at >= state.handoff_at
    )
    last_customer_at, last_reply_at = state.last_customer_at, state.last_reply_at
    if event.kind == "message" and event.author == "customer":
        last_customer_at = _later(last_customer_at, event.at)
    elif event.kind in MESSAGE_KINDS and event.author in REPLIERS:
        last_reply_at = _later(last_reply_at, event.at)
    return replace(
        state,
        created_at=min(state.created_at, event.at),
        last_at=event.at if newest else state.last_at,
        last_text=(
            event.text[:PREVIEW_MAX] if newest and event.text is not None else state.last_text
        ),
        messages=state.messages + (1 if event.kind in MESSAGE_KINDS else 0),
        handoff_at=event.at if handoff else state.handoff_at,
        with_person=event.kind == "handoff_started" if handoff else state.with_person,
        last_customer_at=last_customer_at,
        last_reply_at=last_reply_at,
        unanswered=is_unanswered(last_customer_at, last_reply_at),
    )


def is_unanswered(last_customer_at: datetime | None, last_reply_at: datetime | None) -> bool:
    """The newest customer message has no later agent, person or owner-app message."""
    if last_customer_at is None:
        return False
    return last_reply_at is None or last_customer_at > last_reply_at


def _later(current: datetime | None, at: datetime) -> datetime:
    return at if current is None else max(current, at)

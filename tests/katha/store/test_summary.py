"""The conversation summary as a pure fold of events, whatever order they arrive in."""

import itertools
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from katha.store.events import StoreEvent
from katha.store.models import conversations
from katha.store.summary import PROFILE, ConversationState, empty_state, fold, is_unanswered

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(minute: int, **fields: Any) -> StoreEvent:
    values: dict[str, Any] = {
        "event_id": f"e{minute}",
        "tenant": "shops/ceylon-spice",
        "conversation_id": "c-1",
        "at": START + timedelta(minutes=minute),
        "author": "customer",
        "text": f"text {minute}",
    }
    return StoreEvent(**(values | fields))


def built(events: list[StoreEvent]) -> ConversationState:
    return fold(empty_state(events), events)


CONVERSATION = [
    at(1, customer_name="Nimal", language="si"),
    at(2, author="agent", language="si", sources=["faq://1"]),
    at(3, author="system", kind="handoff_started", text=None),
    at(4, language="en", customer_name="Nimal P."),
    at(5, author="person"),
    at(6, author="person", kind="handoff_released", text=None),
    at(7, author="system", kind="template", text=None),
    at(8),
]


def test_every_arrival_order_gives_the_same_list_row() -> None:
    expected = built(CONVERSATION)
    assert expected.unanswered
    assert not expected.with_person
    assert (expected.language, expected.customer_name) == ("en", "Nimal P.")
    assert (expected.last_text, expected.messages) == ("text 8", 6)
    head, tail = CONVERSATION[:4], CONVERSATION[4:]
    for first in itertools.permutations(head):
        assert fold(built(list(first)), tail) == expected
    for split in range(1, len(CONVERSATION)):
        late, early = CONVERSATION[:split], CONVERSATION[split:]
        arrived_late = fold(built(early), late)
        assert replace(arrived_late, **dict.fromkeys(PROFILE)) == replace(
            expected, **dict.fromkeys(PROFILE)
        )


def test_a_late_event_fills_in_the_customer_but_never_overwrites_newer_news() -> None:
    state = built([at(5, language="en"), at(6, author="agent")])
    late = [at(1, customer_name="Nimal", language="si"), at(2, customer_name="Nimal P.")]
    state = fold(state, late)
    assert (state.customer_name, state.language) == ("Nimal P.", "en")
    state = fold(state, [at(7, language="ta", customer_handle="@nimal")])
    assert (state.language, state.customer_handle) == ("ta", "@nimal")


def test_a_reply_at_the_same_moment_answers_the_customer() -> None:
    assert not built([at(1), at(1, event_id="reply", author="agent")]).unanswered
    assert not is_unanswered(None, START)
    assert is_unanswered(START, None)


def test_a_system_message_neither_asks_nor_answers() -> None:
    state = built([at(1), at(2, author="system")])
    assert state.unanswered
    assert state.last_text == "text 2"
    assert not built([at(1, author="system")]).unanswered


def test_an_event_without_text_keeps_the_last_preview() -> None:
    state = built([at(1), at(2, message_type="image", text=None)])
    assert (state.last_text, state.last_at) == ("text 1", START + timedelta(minutes=2))


def test_the_state_has_a_column_for_every_field() -> None:
    columns = {column.name for column in conversations.columns} - {"tenant", "conversation_id"}
    assert columns == {field.name for field in fields(ConversationState)}

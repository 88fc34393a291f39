"""The contract the router writes: strict, so a bad event fails where it is made."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from katha.store import StoreEvent

VALID: dict[str, Any] = {
    "event_id": "in:wamid.1",
    "tenant": "shops/ceylon-spice",
    "conversation_id": "c-1",
    "at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    "author": "customer",
}


def test_an_event_needs_little_and_defaults_to_a_message() -> None:
    event = StoreEvent(**VALID)
    assert (event.kind, event.text, event.sources) == ("message", None, [])


@pytest.mark.parametrize(
    "change",
    [
        {"at": datetime(2026, 3, 1, 9, 0)},  # naive: no time zone
        {"author": "bot"},
        {"kind": "note"},
        {"tenant": "ceylon-spice"},
        {"event_id": ""},
        {"event_id": "x" * 301},
        {"conversation_id": "c" * 129},
        {"text": "x" * 65537},
        {"sources": [f"faq://{n}" for n in range(21)]},
        {"unknown_field": 1},
    ],
)
def test_an_event_outside_the_contract_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        StoreEvent(**(VALID | change))


def test_an_event_cannot_be_changed_once_made() -> None:
    event = StoreEvent(**VALID)
    with pytest.raises(ValidationError):
        event.text = "changed"  # type: ignore[misc]

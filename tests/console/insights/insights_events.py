"""Events as the router stores them, at Colombo wall-clock times, for the insights tests
(imported by name: conftest.py puts this folder on the path)."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from console_under_test import ALPHA

from katha.store import StoreEvent

COLOMBO = ZoneInfo("Asia/Colombo")


def at(hour: int, minute: int, second: int = 0, day: int = 1) -> datetime:
    """A Colombo wall-clock time on March `day` 2026, as UTC."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=COLOMBO).astimezone(UTC)


def ev(number: int, when: datetime, conversation: str, author: str = "customer",
       tenant: str = ALPHA, **fields: Any) -> StoreEvent:  # fmt: skip
    values: dict[str, Any] = {
        "event_id": f"wamid.{tenant}.{number}", "tenant": tenant,
        "conversation_id": conversation, "at": when, "author": author,
        "text": f"message {number}",
    }  # fmt: skip
    return StoreEvent(**(values | fields))

"""The business's local time, for "are you open now?": its timezone, not the server's."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]

# "now", "today", "tonight" in English, Singlish, Sinhala and Tamil.
_NOW = re.compile(
    r"(?<![a-z])(now|today|tonight|right now|dan|daan|ada|adha|ada rae|me welawe)(?![a-z])"
    r"|දැන්|අද|இப்போது|இன்று",
    re.IGNORECASE,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def asks_about_now(text: str) -> bool:
    return _NOW.search(text) is not None


def local_time(clock: Clock, timezone: str) -> str:
    """ "Tuesday 19:15": the weekday and time where the business is."""
    return clock().astimezone(ZoneInfo(timezone)).strftime("%A %H:%M")

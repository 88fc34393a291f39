"""A business's opening hours: weekly intervals and whole closed days, in spec.timezone.

The owner sets them in the console and the agent reads them to say "we are closed now,
we open at 09:00 tomorrow". Times are wall-clock HH:MM in the Business's own time zone;
the helpers here take a local datetime, so the caller converts once
(`now.astimezone(ZoneInfo(spec.timezone))`) and everything else is plain arithmetic.
"""

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from katha.api.base import ApiModel, cel_rules

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# In datetime.weekday() order (Monday is 0).
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
OPEN_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# A day's last interval may run to midnight, written "24:00".
CLOSE_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
MAX_INTERVALS_PER_DAY = 6
MAX_CLOSED_DAYS = 366
# Closed days are at most a year of dates, so a week past them always finds the next opening.
_SEARCH_DAYS = MAX_CLOSED_DAYS + 8


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Interval(ApiModel):
    """One opening on one day, e.g. 09:00 to 13:00. Past midnight is two intervals: the
    evening until "24:00" and the next day from "00:00"."""

    # HH:MM strings compare in time order, so the API server can check this too.
    model_config = cel_rules(("self.open < self.close", "open must be before close"))

    open: str = Field(pattern=OPEN_PATTERN, description="Opening time, HH:MM (24-hour clock).")
    close: str = Field(
        pattern=CLOSE_PATTERN, description='Closing time, HH:MM; "24:00" is midnight.'
    )

    @model_validator(mode="after")
    def _open_before_close(self) -> Self:
        if self.open >= self.close:
            raise PydanticCustomError(
                "opening_interval",
                "open ({open}) must be before close ({close}); for hours past midnight use "
                "two intervals, e.g. 18:00-24:00 and the next day 00:00-02:00",
                {"open": self.open, "close": self.close},
            )
        return self

    @property
    def open_minute(self) -> int:
        return _minutes(self.open)

    @property
    def close_minute(self) -> int:
        return _minutes(self.close)


def _weekly_schema() -> dict[str, Any]:
    """The CRD names the seven days as properties (a map's key names cannot be limited in a
    structural schema), so a misspelt day is refused rather than silently never open."""
    interval = Interval.model_json_schema(by_alias=True)
    for repeated in ("title", "description"):  # said once here, not seven times
        interval.pop(repeated, None)
    day = {"type": "array", "items": interval, "maxItems": MAX_INTERVALS_PER_DAY}
    return {
        "type": "object",
        "description": "Opening intervals per day, monday to sunday; a day not listed is closed.",
        # Nullable, so the API server does not write seven empty days into every Business.
        "properties": {name: {"anyOf": [day, {"type": "null"}]} for name in WEEKDAYS},
        "additionalProperties": False,
    }


Weekly = Annotated[
    dict[Weekday, Annotated[list[Interval], Field(max_length=MAX_INTERVALS_PER_DAY)]],
    WithJsonSchema(_weekly_schema()),
]


class OpeningHours(ApiModel):
    """When the business is open, in spec.timezone."""

    weekly: Weekly = Field(default_factory=dict)
    closed_days: list[date] = Field(
        default_factory=list,
        max_length=MAX_CLOSED_DAYS,
        description="Whole days closed (holidays), as dates: 2026-12-25.",
    )
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Said with the hours, in any language, e.g. Closed on Poya days.",
    )

    @field_validator("weekly")
    @classmethod
    def _no_overlaps(cls, weekly: dict[Weekday, list[Interval]]) -> dict[Weekday, list[Interval]]:
        """Intervals in time order, days in week order; overlapping intervals are a typo."""
        ordered: dict[Weekday, list[Interval]] = {}
        for day in WEEKDAYS:
            if day not in weekly:
                continue
            intervals = sorted(weekly[day], key=lambda interval: interval.open_minute)
            for before, after in pairwise(intervals):
                if after.open_minute < before.close_minute:
                    raise PydanticCustomError(
                        "opening_overlap",
                        "{day}: {a_open}-{a_close} overlaps {b_open}-{b_close}",
                        {
                            "day": day,
                            "a_open": before.open,
                            "a_close": before.close,
                            "b_open": after.open,
                            "b_close": after.close,
                        },
                    )
            ordered[day] = intervals
        return ordered

    def intervals_on(self, day: date) -> list[Interval]:
        """The day's openings: none on a closed day, else its weekday's."""
        if day in self.closed_days:
            return []
        return self.weekly.get(WEEKDAYS[day.weekday()], [])


def _at(day: date, minute: int, like: datetime) -> datetime:
    """Minute `minute` of `day` (1440 is the next midnight) with `like`'s time zone."""
    return datetime.combine(day, time(), tzinfo=like.tzinfo) + timedelta(minutes=minute)


def _minute(at: datetime) -> int:
    return at.hour * 60 + at.minute


def is_open(hours: OpeningHours, at: datetime) -> bool:
    """Whether the business is open at `at`, a datetime in the Business's time zone."""
    minute = _minute(at)
    return any(
        interval.open_minute <= minute < interval.close_minute
        for interval in hours.intervals_on(at.date())
    )


def next_opening(hours: OpeningHours, at: datetime) -> datetime | None:
    """When the business next opens strictly after `at` (local time), or None when it never
    does (no weekly hours at all). While open this is the next opening, not the current one;
    an interval that merely continues the current one (24:00 then 00:00) does not count."""
    minute = _minute(at)
    for offset in range(_SEARCH_DAYS):
        day = at.date() + timedelta(days=offset)
        for interval in hours.intervals_on(day):
            if offset == 0 and interval.open_minute <= minute:
                continue
            start = _at(day, interval.open_minute, at)
            if not _continues(hours, start):
                return start
    return None


def closes_at(hours: OpeningHours, at: datetime) -> datetime | None:
    """When the current opening ends, following intervals that touch it (12:00 then 12:00,
    or 24:00 into the next day's 00:00); None when closed at `at`, or open for good."""
    day, minute = at.date(), at.hour * 60 + at.minute
    for _ in range(_SEARCH_DAYS * (MAX_INTERVALS_PER_DAY + 1)):
        current = next(
            (i for i in hours.intervals_on(day) if i.open_minute <= minute < i.close_minute),
            None,
        )
        if current is None:
            return _at(day, minute, at) if (day, minute) != (at.date(), _minute(at)) else None
        minute = current.close_minute
        if minute == 24 * 60:
            day, minute = day + timedelta(days=1), 0
    return None  # open round the clock, every day


def _continues(hours: OpeningHours, start: datetime) -> bool:
    """Whether an opening at `start` only continues one running up to it (a 24:00 close,
    or an interval closing at the very minute this one opens)."""
    just_before = start - timedelta(minutes=1)
    return is_open(hours, just_before)

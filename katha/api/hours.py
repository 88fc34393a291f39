"""A business's opening hours: weekly intervals, holiday rules (Poya days, Sri Lankan public
holidays) and whole closed days, in spec.timezone.

The owner sets them in the console and the agent reads them to say "we are closed now,
we open at 6.30 am tomorrow". Times are wall-clock HH:MM in the Business's own time zone;
the helpers here take a local datetime, so the caller converts once
(`now.astimezone(ZoneInfo(spec.timezone))`) and everything else is plain arithmetic.
A day's hours are, first that wins: a closed day (closed), the narrowest holiday rule that
covers it (its hours, closed, or the usual ones), its weekday's hours.
"""

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationInfo, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from katha.api.base import ApiModel, cel_rules
from katha.calendar import HOLIDAY_RULES, Holiday, HolidayRule, lanka

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


def _ordered(label: str, intervals: list[Interval]) -> list[Interval]:
    """Intervals in time order; overlapping ones are a typo, named with `label` (the day)."""
    ordered = sorted(intervals, key=lambda interval: interval.open_minute)
    for before, after in pairwise(ordered):
        if after.open_minute < before.close_minute:
            raise PydanticCustomError(
                "opening_overlap",
                "{day}: {a_open}-{a_close} overlaps {b_open}-{b_close}",
                {
                    "day": label,
                    "a_open": before.open,
                    "a_close": before.close,
                    "b_open": after.open,
                    "b_close": after.close,
                },
            )
    return ordered


class HolidayHours(ApiModel):
    """What the business does on the days a holiday rule covers: closed (no hours), open
    these hours, or its usual weekly hours (to make an exception to a wider rule)."""

    model_config = cel_rules(
        (
            "!(has(self.usual) && self.usual && has(self.hours) && size(self.hours) > 0)",
            "usual hours, or hours of its own: not both",
        )
    )

    rule: HolidayRule = Field(
        description="poya (every full moon Poya day), public-holidays (every Sri Lankan public "
        "holiday), sinhala-tamil-new-year, or one holiday's name: vesak, christmas, ..."
    )
    hours: Annotated[list[Interval], Field(max_length=MAX_INTERVALS_PER_DAY)] = Field(
        default_factory=list, description="Open these hours on the day; none: closed all day."
    )
    usual: bool = Field(
        default=False, description="true: the weekly hours, as on any other day of the week."
    )

    @field_validator("rule", mode="before")
    @classmethod
    def _known_rule(cls, rule: Any) -> Any:
        if isinstance(rule, str) and rule not in HOLIDAY_RULES:
            raise PydanticCustomError(
                "holiday_rule",
                "{rule} is not a holiday Katha knows: use poya, public-holidays, "
                "sinhala-tamil-new-year or a holiday's name such as vesak or christmas",
                {"rule": rule},
            )
        return rule

    @model_validator(mode="after")
    def _hours_or_usual(self) -> Self:
        if self.usual and self.hours:
            raise PydanticCustomError(
                "holiday_hours",
                "{rule}: usual hours, or hours of its own: not both",
                {"rule": self.rule},
            )
        return self

    @field_validator("hours")
    @classmethod
    def _no_overlaps(cls, hours: list[Interval], info: ValidationInfo) -> list[Interval]:
        return _ordered(str(info.data.get("rule", "holiday")), hours)


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
    holidays: list[HolidayHours] = Field(
        default_factory=list,
        max_length=len(HOLIDAY_RULES),
        description="Hours on Poya days and Sri Lankan public holidays, by rule; the narrowest "
        "rule covering a day wins, and closedDays win over every rule.",
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(a, self.exists_one(b, b.rule == a.rule))",
                    "message": "each holiday rule at most once",
                }
            ]
        },
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
        return {day: _ordered(day, weekly[day]) for day in WEEKDAYS if day in weekly}

    @field_validator("holidays")
    @classmethod
    def _each_rule_once(cls, holidays: list[HolidayHours]) -> list[HolidayHours]:
        """Two answers for the same days would contradict each other."""
        seen: set[str] = set()
        for holiday in holidays:
            if holiday.rule in seen:
                raise PydanticCustomError(
                    "holiday_twice",
                    "{rule} is listed twice: say once what you do on those days",
                    {"rule": holiday.rule},
                )
            seen.add(holiday.rule)
        return holidays

    def holiday_on(self, day: date) -> tuple[HolidayHours, Holiday] | None:
        """The rule that sets `day`'s hours and the holiday it matched, or None: no rule
        covers the day (or the calendar does not know its year). The narrowest rule wins;
        between equally narrow ones, the first listed."""
        best: tuple[int, int, HolidayHours, Holiday] | None = None
        for holiday in lanka().on(day) if self.holidays else ():
            for order, rule in enumerate(self.holidays):
                narrowness = holiday.narrowness(rule.rule)
                if narrowness is not None and (best is None or (narrowness, order) < best[:2]):
                    best = (narrowness, order, rule, holiday)
        return None if best is None else (best[2], best[3])

    def intervals_on(self, day: date) -> list[Interval]:
        """The day's openings: none on a closed day, a holiday rule's on a day it covers,
        else its weekday's."""
        if day in self.closed_days:
            return []
        if (found := self.holiday_on(day)) is not None and not found[0].usual:
            return found[0].hours
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

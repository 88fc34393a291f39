"""The report the API, the CSV and the page share: the last 7 or 28 days of a Business,
ending today in its time zone (or on a chosen day), day by day and week by week.

The time zone is the Business's own (`spec.timezone`) when the console can read the
Business; a `tz` query wins over it; Colombo when there is no Business to read (no
`businesses` set up) or it cannot be read (then the page says so)."""

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import HTTPException, Query, status
from pydantic import BaseModel

from console.businesses import Businesses
from console.services import ConsoleServices
from katha.observability import get_logger
from katha.store import ConversationStore
from katha.store.insights import (
    DEFAULT_TIMEZONE,
    LANGUAGES,
    DayInsight,
    QuestionCount,
    WeekInsight,
    breakdown,
    top_questions,
)

log = get_logger("console")

PERIODS = (7, 28)  # a week, four weeks
Days = Annotated[int, Query(description="7 (a week) or 28 days")]
Timezone = Annotated[
    str | None,
    Query(max_length=64, description="An IANA time zone name; the Business's own by default"),
]
End = Annotated[date | None, Query(description="The last day shown; today by default")]


class InsightsReport(BaseModel):
    tenant: str
    timezone: str
    start: date
    end: date
    # True when the Business's time zone could not be read and Colombo's was used instead
    timezone_fallback: bool = False
    days: list[DayInsight]  # oldest first
    weeks: list[WeekInsight]  # Monday-start, oldest first; the first and last may be partial
    total: DayInsight  # the days summed; its `day` is `start`
    top_questions: list[QuestionCount]


async def timezone_of(
    businesses: Businesses | None, tenant: str, asked: str | None
) -> tuple[str, bool]:
    """The time zone the report counts days in, and whether it is Colombo's only because
    the Business could not be read."""
    if asked is not None:
        return asked, False
    if businesses is None:
        return DEFAULT_TIMEZONE, False
    try:
        business = await businesses.get(tenant)
        spec = business.get("spec") or {}
        zone = spec.get("timezone") or DEFAULT_TIMEZONE
    except Exception as error:  # not found, the API down, a file gone: still a report
        log.warning("insights.timezone_unread", reason=type(error).__name__)
        return DEFAULT_TIMEZONE, True
    return str(zone), False


def first_day(now: datetime, tz: str, days: int, end: date | None) -> date:
    """The first of `days` days ending on `end` (today in `tz` when not given)."""
    if days not in PERIODS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "days: 7 or 28")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown time zone") from None
    last = end if end is not None else now.astimezone(zone).date()
    return last - timedelta(days=days - 1)


async def build(
    store: ConversationStore,
    tenant: str,
    now: datetime,
    days: int,
    tz: str = DEFAULT_TIMEZONE,
    end: date | None = None,
    timezone_fallback: bool = False,
) -> InsightsReport:
    start = first_day(now, tz, days, end)
    daily, total, weeks = await breakdown(store, tenant, start, days, tz)
    questions = await top_questions(store, tenant, start, days, tz)
    return InsightsReport(
        tenant=tenant,
        timezone=tz,
        timezone_fallback=timezone_fallback,
        start=start,
        end=start + timedelta(days=days - 1),
        days=daily,
        weeks=weeks,
        total=total,
        top_questions=questions,
    )


CSV_HEADER = [
    "period", "start", "end", "partial", "customers", "messages",
    *(f"language_{code}" for code in LANGUAGES),
    "answered_by_agent", "handed_to_person", "median_reply_seconds", "unanswered",
    "unanswered_rate",
]  # fmt: skip


def as_csv(report: InsightsReport) -> str:
    """One table under one header row: a row per day ("day"), then a row per week
    ("week", "partial" when the period cuts it), so a spreadsheet filters on `period`.
    No customer text is in it (only counts), so a spreadsheet has no formula to run."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for day in report.days:
        writer.writerow(["day", day.day.isoformat(), day.day.isoformat(), "no", *_counts(day)])
    for week in report.weeks:
        partial = "yes" if week.partial else "no"
        writer.writerow(
            ["week", week.day.isoformat(), week.last_day.isoformat(), partial, *_counts(week)]
        )
    return out.getvalue()


def _counts(row: DayInsight) -> list[object]:
    median = "" if row.median_reply_seconds is None else f"{row.median_reply_seconds:g}"
    return [
        row.customers, row.messages, *(row.languages[code] for code in LANGUAGES),
        row.answered_by_agent, row.handed_to_person, median, row.unanswered,
        f"{row.unanswered_rate:.4f}",
    ]  # fmt: skip


async def report_for(
    services: ConsoleServices, tenant: str, days: int, tz: str | None, end: date | None
) -> InsightsReport:
    """The report in the time zone asked for, else the Business's own."""
    zone, fallback = await timezone_of(services.businesses, tenant, tz)
    return await build(services.store, tenant, services.clock(), days, zone, end, fallback)

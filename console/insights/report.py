"""The report the API, the CSV and the page share: the last 7 or 28 days of a Business,
ending today in its time zone (or on a chosen day)."""

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import HTTPException, Query, status
from pydantic import BaseModel

from katha.store import ConversationStore
from katha.store.insights import (
    DEFAULT_TIMEZONE,
    LANGUAGES,
    DayInsight,
    QuestionCount,
    period,
    top_questions,
)

PERIODS = (7, 28)  # a week, four weeks
Days = Annotated[int, Query(description="7 (a week) or 28 days")]
Timezone = Annotated[str, Query(max_length=64, description="An IANA time zone name")]
End = Annotated[date | None, Query(description="The last day shown; today by default")]


class InsightsReport(BaseModel):
    tenant: str
    timezone: str
    start: date
    end: date
    days: list[DayInsight]  # oldest first
    total: DayInsight  # the days summed; its `day` is `start`
    top_questions: list[QuestionCount]


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
) -> InsightsReport:
    start = first_day(now, tz, days, end)
    daily, total = await period(store, tenant, start, days, tz)
    questions = await top_questions(store, tenant, start, days, tz)
    return InsightsReport(
        tenant=tenant,
        timezone=tz,
        start=start,
        end=start + timedelta(days=days - 1),
        days=daily,
        total=total,
        top_questions=questions,
    )


CSV_HEADER = [
    "day", "customers", "messages", *(f"language_{code}" for code in LANGUAGES),
    "answered_by_agent", "handed_to_person", "median_reply_seconds", "unanswered",
    "unanswered_rate",
]  # fmt: skip


def as_csv(report: InsightsReport) -> str:
    """One row per day under a header row. No customer text is in it (only counts), so a
    spreadsheet has no formula to run."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for day in report.days:
        median = "" if day.median_reply_seconds is None else f"{day.median_reply_seconds:g}"
        writer.writerow([
            day.day.isoformat(), day.customers, day.messages,
            *(day.languages[code] for code in LANGUAGES),
            day.answered_by_agent, day.handed_to_person, median, day.unanswered,
            f"{day.unanswered_rate:.4f}",
        ])  # fmt: skip
    return out.getvalue()

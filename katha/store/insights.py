"""What the agent is worth to a Business, day by day: read-only queries over the events.

Days are the Business's own (an IANA time zone, Colombo unless told): a customer writing at
23:30 in Colombo wrote on that day, although it is already the next day's evening in UTC.
Weeks start on Monday, in the same time zone; each week is counted from the events again
(a customer writing on three days of a week is one customer of that week, and the week's
median is the median of the week's replies, not a median of daily medians).
The SQL only picks the rows; counting happens in Python, the same on SQLite and PostgreSQL
(their date functions and Unicode lower-casing differ, Python's do not).
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from katha.store.models import events
from katha.store.store import ConversationStore

DEFAULT_TIMEZONE = "Asia/Colombo"
LANGUAGES = ("si", "en", "singlish", "ta", "other")  # what the owner's breakdown shows
REPLY_AUTHORS = frozenset({"agent", "person", "owner_app"})


class DayInsight(BaseModel):
    """One day (or, summed, one period) of a Business's traffic."""

    model_config = ConfigDict(frozen=True)

    day: date  # the first day, for a period
    customers: int  # conversations with a customer message that day
    messages: int  # customer messages
    languages: dict[str, int]  # customers by language: si, en, singlish, ta, other
    answered_by_agent: int  # customer messages the agent answered before any person did
    handed_to_person: int  # handoffs started
    median_reply_seconds: float | None  # customer message -> first reply; None: no reply
    unanswered: int  # customer messages with no reply at all (yet)
    unanswered_rate: float  # unanswered / messages; 0 on a day without messages


class WeekInsight(DayInsight):
    """One Monday-start week, counted from its events; `day` is its first day in the
    period and `last_day` its last: a week the period cuts (the period does not start on
    a Monday or end on a Sunday) is `partial` and counts only the period's days."""

    week_start: date  # the week's Monday
    last_day: date
    partial: bool


class QuestionCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str  # lower-cased, spaces collapsed
    count: int


@dataclass
class _Day:
    """A day's counts while the events are walked."""

    conversations: set[str] = field(default_factory=set)
    messages: int = 0
    answered_by_agent: int = 0
    handoffs: int = 0
    unanswered: int = 0
    reply_seconds: list[float] = field(default_factory=list)
    languages: Counter[str] = field(default_factory=Counter)

    def insight(self, day: date) -> DayInsight:
        median = statistics.median(self.reply_seconds) if self.reply_seconds else None
        return DayInsight(
            day=day,
            customers=len(self.conversations),
            messages=self.messages,
            languages={code: self.languages[code] for code in LANGUAGES},
            answered_by_agent=self.answered_by_agent,
            handed_to_person=self.handoffs,
            median_reply_seconds=median,
            unanswered=self.unanswered,
            unanswered_rate=self.unanswered / self.messages if self.messages else 0.0,
        )


@dataclass(frozen=True)
class _Row:
    conversation_id: str
    at: datetime
    author: str
    kind: str
    language: str | None
    text: str | None


def _engine(store_or_engine: ConversationStore | AsyncEngine) -> AsyncEngine:
    if isinstance(store_or_engine, AsyncEngine):
        return store_or_engine
    return store_or_engine._engine  # the store's own pool, as ConsoleTables.of uses it


def window(start: date, days: int, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants where the local days [start, start + days) begin and end."""
    if days < 1:
        raise ValueError("days must be at least 1")
    zone = ZoneInfo(tz)
    begin = datetime.combine(start, time(), zone).astimezone(UTC)
    end = datetime.combine(start + timedelta(days=days), time(), zone).astimezone(UTC)
    return begin, end


async def _rows(engine: AsyncEngine, tenant: str, begin: datetime, end: datetime) -> list[_Row]:
    """The window's customer messages and handoffs, and every later message of their
    conversations (a reply may come after the window ends), oldest first per conversation."""
    table = events.c
    customers = (
        select(table.conversation_id)
        .where(
            table.tenant == tenant,
            table.at >= begin,
            table.at < end,
            table.author == "customer",
            table.kind == "message",
        )
        .distinct()
    )
    query = (
        select(table.conversation_id, table.at, table.author, table.kind, table.language,
               table.text)
        .where(table.tenant == tenant, table.at >= begin)
        .where(
            ((table.kind == "message") & table.conversation_id.in_(customers))
            | ((table.kind == "handoff_started") & (table.at < end))
        )
        .order_by(table.conversation_id, table.at, table.id)
    )  # fmt: skip
    async with engine.connect() as connection:
        result = await connection.execute(query)
        return [_Row(*row) for row in result.all()]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _walk(
    rows: Sequence[_Row], end: datetime, zone: ZoneInfo, bucket: Callable[[date], date]
) -> dict[date, _Day]:
    """Each customer message against the first reply after it, counted in the bucket
    (`bucket` maps a local day to its bucket's key: the day itself, or its week's Monday);
    each conversation's language in a bucket from the agent's reply, else from the
    customer's own message."""
    by_day: dict[date, _Day] = defaultdict(_Day)
    chosen: dict[tuple[date, str], tuple[str | None, str | None]] = {}  # (agent, customer)
    waiting: list[_Row] = []
    current: str | None = None
    for row in [*rows, None]:
        answers = row is not None and row.kind == "message" and row.author in REPLY_AUTHORS
        if row is None or row.conversation_id != current or answers:
            reply = row if answers and row is not None and row.conversation_id == current else None
            for asked in waiting:
                _answer(by_day[bucket(asked.at.astimezone(zone).date())], asked, reply)
            waiting = []
        if row is None:
            break
        current = row.conversation_id
        if row.at >= end:
            continue  # only a reply to a message inside the window
        day = bucket(row.at.astimezone(zone).date())
        if row.kind == "handoff_started":
            by_day[day].handoffs += 1
        elif row.author == "customer":
            by_day[day].messages += 1
            by_day[day].conversations.add(row.conversation_id)
            waiting.append(row)
            agent, customer = chosen.get((day, current), (None, None))
            chosen[(day, current)] = (agent, row.language or customer)
        elif row.kind == "message" and row.author == "agent" and row.language:
            agent, customer = chosen.get((day, current), (None, None))
            chosen[(day, current)] = (row.language, customer)
    for (day, _), (agent, customer) in chosen.items():
        language = agent or customer
        by_day[day].languages[language if language in LANGUAGES else "other"] += 1
    return by_day


def _answer(day: _Day, asked: _Row, reply: _Row | None) -> None:
    if reply is None:
        day.unanswered += 1
        return
    day.reply_seconds.append((reply.at - asked.at).total_seconds())
    if reply.author == "agent":
        day.answered_by_agent += 1


async def _days(
    store_or_engine: ConversationStore | AsyncEngine, tenant: str, start: date, days: int, tz: str
) -> tuple[list[date], dict[date, _Day]]:
    calendar, rows, end = await _window_rows(store_or_engine, tenant, start, days, tz)
    return calendar, _walk(rows, end, ZoneInfo(tz), _same_day)


def _same_day(day: date) -> date:
    return day


async def _window_rows(
    store_or_engine: ConversationStore | AsyncEngine, tenant: str, start: date, days: int, tz: str
) -> tuple[list[date], list[_Row], datetime]:
    begin, end = window(start, days, tz)
    rows = await _rows(_engine(store_or_engine), tenant, begin, end)
    # A conversation with a handoff but no customer message in the window comes only with
    # its handoffs: those are kept, and its messages (none here) change nothing.
    calendar = [start + timedelta(days=n) for n in range(days)]
    return calendar, rows, end


async def daily(
    store_or_engine: ConversationStore | AsyncEngine,
    tenant: str,
    start: date,
    days: int,
    tz: str = DEFAULT_TIMEZONE,
) -> list[DayInsight]:
    """Every local day from `start`, `days` of them, each with its counts (zero when
    quiet)."""
    calendar, by_day = await _days(store_or_engine, tenant, start, days, tz)
    return [by_day.get(day, _Day()).insight(day) for day in calendar]


async def period(
    store_or_engine: ConversationStore | AsyncEngine,
    tenant: str,
    start: date,
    days: int,
    tz: str = DEFAULT_TIMEZONE,
) -> tuple[list[DayInsight], DayInsight]:
    """The days, and their total: counted over the whole period (a customer writing on two
    days is one customer of it), the median over all the period's replies."""
    daily_rows, total, _ = await breakdown(store_or_engine, tenant, start, days, tz)
    return daily_rows, total


async def breakdown(
    store_or_engine: ConversationStore | AsyncEngine,
    tenant: str,
    start: date,
    days: int,
    tz: str = DEFAULT_TIMEZONE,
) -> tuple[list[DayInsight], DayInsight, list[WeekInsight]]:
    """The days, their total (as `period` has it) and the Monday-start weeks they touch,
    oldest first, from one read of the events."""
    calendar, rows, end = await _window_rows(store_or_engine, tenant, start, days, tz)
    zone = ZoneInfo(tz)
    by_day = _walk(rows, end, zone, _same_day)
    by_week = _walk(rows, end, zone, monday)
    last = calendar[-1]
    weeks = []
    for week in sorted({monday(day) for day in calendar}):
        first, final = max(week, start), min(week + timedelta(days=6), last)
        counted = by_week.get(week, _Day()).insight(first)
        partial = (final - first).days < 6
        weeks.append(WeekInsight(**dict(counted), week_start=week, last_day=final, partial=partial))
    # The whole period as one bucket: a customer writing on two days is one customer of it.
    whole = _walk(rows, end, zone, lambda _day: start).get(start, _Day()).insight(start)
    return [by_day.get(day, _Day()).insight(day) for day in calendar], whole, weeks


def normalised(text: str) -> str:
    """A question as it is counted: lower case, single spaces, no spaces around it."""
    return " ".join(text.lower().split())


async def top_questions(
    store_or_engine: ConversationStore | AsyncEngine,
    tenant: str,
    start: date,
    days: int,
    tz: str = DEFAULT_TIMEZONE,
    limit: int = 10,
) -> list[QuestionCount]:
    """The customers' most frequent messages in the days, most frequent first (ties in
    text order)."""
    begin, end = window(start, days, tz)
    table = events.c
    query = select(table.text).where(
        table.tenant == tenant,
        table.at >= begin,
        table.at < end,
        table.author == "customer",
        table.kind == "message",
        table.text.is_not(None),
    )
    async with _engine(store_or_engine).connect() as connection:
        texts = (await connection.execute(query)).scalars().all()
    counts = Counter(normalised(text) for text in texts if text.strip())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [QuestionCount(text=text, count=count) for text, count in ranked]

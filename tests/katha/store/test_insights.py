"""Insights over a scripted day of traffic, on SQLite and PostgreSQL: exact counts, days
cut in the Business's time zone, one Business never counting another's customers."""

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from katha.store import ConversationStore, StoreEvent
from katha.store.insights import daily, period, top_questions, window

TENANT = "shops/ceylon-spice"
OTHER = "shops/other"
DAY = date(2026, 3, 1)
COLOMBO = ZoneInfo("Asia/Colombo")


def at(hour: int, minute: int, second: int = 0, day: int = 1) -> datetime:
    """A Colombo wall-clock time on March `day`, as UTC."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=COLOMBO).astimezone(UTC)


def ev(number: int, when: datetime, conversation: str, author: str = "customer",
       tenant: str = TENANT, **fields: Any) -> StoreEvent:  # fmt: skip
    values: dict[str, Any] = {
        "event_id": f"wamid.{tenant}.{number}",
        "tenant": tenant,
        "conversation_id": conversation,
        "at": when,
        "author": author,
        "text": f"message {number}",
    }
    return StoreEvent(**(values | fields))


def scripted_day() -> list[StoreEvent]:
    """March 1st in Colombo: four customers, five messages, a handoff, a late question."""
    return [
        ev(1, at(8, 0), "c-1", language="si", text="What are your hours?"),
        ev(2, at(8, 0, 30), "c-1", "agent", language="si"),
        ev(3, at(8, 5), "c-1", language="si", text="  what are   your HOURS? "),
        ev(4, at(8, 6), "c-1", "agent", language="si"),
        ev(5, at(10, 0), "c-2", language="en", text="Price of rice?"),
        ev(6, at(10, 1), "c-2", "system", kind="handoff_started", text=None),
        ev(7, at(10, 3), "c-2", "person", text="Rs 250"),
        ev(8, at(10, 4), "c-2", "agent", language="en"),
        ev(9, at(12, 0), "c-5", text="vanakkam"),
        ev(10, at(12, 2), "c-5", "agent", language="ta"),
        ev(11, at(23, 30), "c-3", language="singlish", text="what are your hours?"),
        ev(12, at(0, 10, day=2), "c-4", language="tanglish", text="open tomorrow?"),
        ev(13, at(9, 0), "x-1", tenant=OTHER, text="What are your hours?"),
        ev(14, at(9, 1), "x-1", "system", tenant=OTHER, kind="handoff_started", text=None),
    ]


def test_colombo_times_are_right() -> None:
    assert at(23, 30) == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    assert window(DAY, 1, "Asia/Colombo") == (
        datetime(2026, 2, 28, 18, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
    )


async def test_a_scripted_day_counts_exactly(store: ConversationStore) -> None:
    await store.record(scripted_day())
    first, second, third = await daily(store, TENANT, DAY, 3, "Asia/Colombo")
    assert first.model_dump() == {
        "day": DAY,
        "customers": 4,
        "messages": 5,
        "languages": {"si": 1, "en": 1, "singlish": 1, "ta": 1, "other": 0},
        "answered_by_agent": 3,  # c-2 had a person's reply first
        "handed_to_person": 1,
        "median_reply_seconds": 90.0,  # of 30, 60, 180 and 120
        "unanswered": 1,  # the 23:30 question
        "unanswered_rate": 0.2,
    }
    assert (second.day, second.customers, second.messages, second.unanswered) == (
        date(2026, 3, 2), 1, 1, 1,
    )  # fmt: skip
    assert second.languages["other"] == 1
    assert second.unanswered_rate == 1.0
    assert second.median_reply_seconds is None
    assert (third.customers, third.messages, third.unanswered_rate) == (0, 0, 0.0)


async def test_days_are_the_business_own(store: ConversationStore) -> None:
    await store.record(scripted_day())
    # In UTC, 23:30 Colombo (18:00 UTC) and 00:10 the next day (18:40 UTC) share March 1st.
    (utc_day,) = await daily(store, TENANT, DAY, 1, "UTC")
    (colombo_day,) = await daily(store, TENANT, DAY, 1, "Asia/Colombo")
    assert (utc_day.customers, utc_day.messages) == (5, 6)
    assert (colombo_day.customers, colombo_day.messages) == (4, 5)


async def test_the_total_sums_the_days(store: ConversationStore) -> None:
    await store.record(scripted_day())
    days, total = await period(store, TENANT, DAY, 2, "Asia/Colombo")
    assert [day.messages for day in days] == [5, 1]
    assert (total.day, total.customers, total.messages, total.unanswered) == (DAY, 5, 6, 2)
    assert total.median_reply_seconds == 90.0
    assert total.unanswered_rate == 2 / 6
    assert total.languages == {"si": 1, "en": 1, "singlish": 1, "ta": 1, "other": 1}


async def test_top_questions_are_counted_normalised(store: ConversationStore) -> None:
    await store.record(scripted_day())
    questions = await top_questions(store, TENANT, DAY, 2, "Asia/Colombo", limit=3)
    assert [(q.text, q.count) for q in questions] == [
        ("what are your hours?", 3),
        ("open tomorrow?", 1),
        ("price of rice?", 1),
    ]


async def test_one_business_never_sees_another(store: ConversationStore) -> None:
    await store.record(scripted_day())
    (other,) = await daily(store, OTHER, DAY, 1)
    assert (other.customers, other.messages, other.handed_to_person, other.unanswered) == (
        1, 1, 1, 1,
    )  # fmt: skip
    assert [q.count for q in await top_questions(store, OTHER, DAY, 1)] == [1]
    (nobody,) = await daily(store, "shops/nobody", DAY, 1)
    assert (nobody.customers, nobody.messages, nobody.handed_to_person) == (0, 0, 0)

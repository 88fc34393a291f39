"""The insights API, CSV and page over a scripted day of traffic: exactly the expected
counts, in Sinhala, Tamil and English; refused without sign-in and across Businesses."""

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from console_under_test import ALPHA, BETA, Console

from console.insights import pages
from katha.store import StoreEvent

COLOMBO = ZoneInfo("Asia/Colombo")
MARKUP = "<script>alert(1)</script> hours?"
WEEK = {"days": "7", "end": "2026-03-07"}
API = "/api/v1/tenants/shops/alpha/insights"


def at(hour: int, minute: int, second: int = 0, day: int = 1) -> datetime:
    """A Colombo wall-clock time on March `day`, as UTC."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=COLOMBO).astimezone(UTC)


def ev(number: int, when: datetime, conversation: str, author: str = "customer",
       tenant: str = ALPHA, **fields: Any) -> StoreEvent:  # fmt: skip
    values: dict[str, Any] = {
        "event_id": f"wamid.{tenant}.{number}", "tenant": tenant,
        "conversation_id": conversation, "at": when, "author": author,
        "text": f"message {number}",
    }  # fmt: skip
    return StoreEvent(**(values | fields))


async def scripted_day(console: Console) -> None:
    """March 1st in Colombo: 4 customers, 5 messages (3 answered by the agent, one by a
    person after a handoff, one at 23:30 never); one more on March 2nd at 00:10."""
    await console.record(
        ev(1, at(8, 0), "c-1", language="si", text="What are your hours?"),
        ev(2, at(8, 0, 30), "c-1", "agent", language="si"),
        ev(3, at(8, 5), "c-1", language="si", text="what are your  hours?"),
        ev(4, at(8, 6), "c-1", "agent", language="si"),
        ev(5, at(10, 0), "c-2", language="en", text=MARKUP),
        ev(6, at(10, 1), "c-2", "system", kind="handoff_started", text=None),
        ev(7, at(10, 3), "c-2", "person", text="Rs 250"),
        ev(9, at(12, 0), "c-5", text="vanakkam"),
        ev(10, at(12, 2), "c-5", "agent", language="ta"),
        ev(11, at(23, 30), "c-3", language="singlish", text="What are your hours?"),
        ev(12, at(0, 10, day=2), "c-4", language="tanglish", text="open tomorrow?"),
        ev(13, at(9, 0), "x-1", tenant=BETA, text="beta only"),
    )


async def test_the_api_counts_a_scripted_day_exactly(console: Console) -> None:
    await scripted_day(console)
    async with await console.sign_in({ALPHA: "staff"}) as client:
        response = await client.get(API, params=WEEK)
        assert response.status_code == 200, response.text
        report = response.json()
    assert (report["start"], report["end"], report["timezone"]) == (
        "2026-03-01", "2026-03-07", "Asia/Colombo",
    )  # fmt: skip
    first, second = report["days"][:2]
    assert first == {
        "day": "2026-03-01", "customers": 4, "messages": 5,
        "languages": {"si": 1, "en": 1, "singlish": 1, "ta": 1, "other": 0},
        "answered_by_agent": 3, "handed_to_person": 1, "median_reply_seconds": 90.0,
        "unanswered": 1, "unanswered_rate": 0.2,
    }  # fmt: skip
    assert (second["customers"], second["messages"], second["unanswered"]) == (1, 1, 1)
    assert [day["messages"] for day in report["days"]] == [5, 1, 0, 0, 0, 0, 0]
    assert (report["total"]["customers"], report["total"]["messages"]) == (5, 6)
    assert report["top_questions"][0] == {"text": "what are your hours?", "count": 3}
    assert "beta only" not in str(report)


async def test_the_page_shows_the_counts_exactly(console: Console) -> None:
    await scripted_day(console)
    async with await console.sign_in({ALPHA: "owner"}, language="en") as client:
        page = (await client.get("/b/shops/alpha/insights", params=WEEK)).text
        listing = (await client.get("/b/shops/alpha")).text
    cards = dict(re.findall(r'<dd data-card="([a-z_]+)">([^<]*)</dd>', page))
    assert cards == {
        "customers": "5", "messages": "6", "answered_by_agent": "50%",
        "handed_to_person": "1", "median_reply": "1 min", "unanswered_rate": "33%",
    }  # fmt: skip
    march_1 = page.split('data-day="2026-03-01"')[1].split("</tr>")[0]
    assert '<progress max="5" value="5">' in march_1
    assert '<td data-count="customers">4</td>' in march_1
    assert '<span data-count="singlish">1</span>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hours?" in page
    assert "<script>alert(1)" not in page
    assert "style=" not in page
    assert 'href="/api/v1/tenants/shops/alpha/insights.csv?days=7&amp;end=2026-03-07"' in page
    assert 'href="/b/shops/alpha/insights"' in listing


async def test_the_csv_has_a_row_per_day(console: Console) -> None:
    await scripted_day(console)
    async with await console.api_token(ALPHA) as client:
        response = await client.get(f"{API}.csv", params=WEEK)
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="insights-shops-alpha-2026-03-01-2026-03-07.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["day", "customers", "messages"]
    assert rows[1] == [
        "2026-03-01", "4", "5", "1", "1", "1", "1", "0", "3", "1", "90", "1", "0.2000",
    ]  # fmt: skip
    assert rows[2][:3] == ["2026-03-02", "1", "1"]
    assert rows[2][10] == ""  # no reply: no median
    assert len(rows) == 8


async def test_refused_without_sign_in_and_across_businesses(console: Console) -> None:
    await scripted_day(console)
    async with console.anonymous() as client:
        anonymous = [(await client.get(path)).status_code for path in (API, f"{API}.csv")]
    async with await console.sign_in({BETA: "owner"}) as client:
        other = [
            (await client.get(path)).status_code
            for path in (API, f"{API}.csv", "/b/shops/alpha/insights")
        ]
        own = (await client.get("/api/v1/tenants/shops/beta/insights", params=WEEK)).json()
    assert anonymous == [401, 401]
    assert other == [404, 404, 404]
    assert (own["total"]["customers"], own["top_questions"]) == (
        1, [{"text": "beta only", "count": 1}],
    )  # fmt: skip


async def test_only_a_week_or_four_and_a_known_zone(console: Console) -> None:
    async with await console.sign_in({ALPHA: "owner"}) as client:
        month = await client.get(API, params={"days": "28", "end": "2026-03-28"})
        bad_days = await client.get(API, params={"days": "9"})
        bad_zone = await client.get(API, params={"tz": "Mars/Olympus"})
    assert (month.status_code, len(month.json()["days"]), month.json()["start"]) == (
        200, 28, "2026-03-01",
    )  # fmt: skip
    assert (bad_days.status_code, bad_zone.status_code) == (422, 422)


async def test_sinhala_and_tamil_pages(console: Console) -> None:
    await scripted_day(console)
    pages = {}
    for language in ("si", "ta"):
        async with await console.sign_in({ALPHA: "owner"}, language=language) as client:
            pages[language] = (await client.get("/b/shops/alpha/insights", params=WEEK)).text
    assert '<html lang="si">' in pages["si"]
    assert "පාරිභෝගිකයින්" in pages["si"]
    assert "වැඩිපුරම ඇසූ ප්‍රශ්න" in pages["si"]
    assert '<html lang="ta">' in pages["ta"]
    assert "வாடிக்கையாளர்கள்" in pages["ta"]
    assert "அதிகம் கேட்கப்பட்ட கேள்விகள்" in pages["ta"]
    for page in pages.values():
        assert '<dd data-card="customers">5</dd>' in page
        assert "Top questions" not in page
        assert "Customers" not in page


@pytest.mark.parametrize("language", ["si", "ta", "en"])
def test_every_text_is_in_the_catalogue(language: str) -> None:
    console = Path(pages.__file__).resolve().parents[1]
    source = (console / "templates" / "insights.html").read_text()
    texts = set(re.findall(r'_\("([^"]+)"\)', source)) | set(pages.LANGUAGE_LABELS.values())
    with (console / "locales" / language / "LC_MESSAGES" / "insights.po").open("rb") as po:
        catalogue = {str(m.id): str(m.string) for m in read_po(po, locale=language) if m.id}
    assert sorted(text for text in texts if not catalogue.get(text)) == []
    if language != "en":  # translated, not the English left in place
        assert [text for text in texts if catalogue[text] == text] == []
    assert "Insights" in catalogue  # the link on the conversations page

"""The insights API, CSV and page over a scripted day of traffic: exactly the expected
counts, per day and per week, in Sinhala, Tamil and English; refused without sign-in and
across Businesses."""

import csv
import io
import re

from console_under_test import ALPHA, BETA, Console
from insights_events import at, ev

MARKUP = "<script>alert(1)</script> hours?"
WEEK = {"days": "7", "end": "2026-03-07"}
API = "/api/v1/tenants/shops/alpha/insights"


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
    weeks = [(w["week_start"], w["day"], w["last_day"], w["partial"]) for w in report["weeks"]]
    assert weeks == [
        ("2026-02-23", "2026-03-01", "2026-03-01", True),
        ("2026-03-02", "2026-03-02", "2026-03-07", True),
    ]
    assert report["weeks"][0] | {"week_start": None, "last_day": None, "partial": None} == (
        first | {"week_start": None, "last_day": None, "partial": None}
    )
    assert report["timezone_fallback"] is False
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


async def test_the_csv_has_a_row_per_day_then_per_week(console: Console) -> None:
    await scripted_day(console)
    async with await console.api_token(ALPHA) as client:
        response = await client.get(f"{API}.csv", params=WEEK)
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="insights-shops-alpha-2026-03-01-2026-03-07.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:6] == ["period", "start", "end", "partial", "customers", "messages"]
    first_day = ["4", "5", "1", "1", "1", "1", "0", "3", "1", "90", "1", "0.2000"]
    assert rows[1] == ["day", "2026-03-01", "2026-03-01", "no", *first_day]
    assert rows[2][:6] == ["day", "2026-03-02", "2026-03-02", "no", "1", "1"]
    assert rows[2][13] == ""  # no reply: no median
    # March 1st 2026 is a Sunday: the period holds the end of one week and most of the next.
    assert rows[8] == ["week", "2026-03-01", "2026-03-01", "yes", *first_day]
    assert rows[9][:6] == ["week", "2026-03-02", "2026-03-07", "yes", "1", "1"]
    assert len(rows) == 10


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


async def a_busy_week(console: Console) -> None:
    """Monday to Wednesday, March 2nd-4th 2026: c-1 writes every day (Sinhala), c-2 on
    Tuesday only (Tamil). Replies after 10 s, 20 s and 300 s, 30 s: the daily medians are
    10, 160 and 30 (their median 30, their mean 66.7); the week's replies' median is 25."""
    await console.record(
        ev(1, at(9, 0, day=2), "c-1", language="si", text="kothu?"),
        ev(2, at(9, 0, 10, day=2), "c-1", "agent", language="si"),
        ev(3, at(9, 0, day=3), "c-1", language="si", text="kothu?"),
        ev(4, at(9, 0, 20, day=3), "c-1", "agent", language="si"),
        ev(5, at(11, 0, day=3), "c-2", language="ta", text="kothu?"),
        ev(6, at(11, 5, day=3), "c-2", "person"),
        ev(7, at(9, 0, day=4), "c-1", language="si", text="kothu?"),
        ev(8, at(9, 0, 30, day=4), "c-1", "agent", language="si"),
    )


async def test_a_week_counts_each_customer_once_and_its_own_median(console: Console) -> None:
    await a_busy_week(console)
    full_week = {"days": "7", "end": "2026-03-08"}  # Monday 2nd to Sunday 8th
    async with await console.sign_in({ALPHA: "owner"}, language="en") as client:
        report = (await client.get(API, params=full_week)).json()
        page = (await client.get("/b/shops/alpha/insights", params=full_week)).text
    assert [day["customers"] for day in report["days"][:3]] == [1, 2, 1]  # 4, summed
    assert [day["median_reply_seconds"] for day in report["days"][:3]] == [10.0, 160.0, 30.0]
    [week] = report["weeks"]
    assert (week["week_start"], week["day"], week["last_day"], week["partial"]) == (
        "2026-03-02", "2026-03-02", "2026-03-08", False,
    )  # fmt: skip
    assert (week["customers"], week["messages"], week["median_reply_seconds"]) == (2, 4, 25.0)
    assert week["languages"] == {"si": 1, "en": 0, "singlish": 0, "ta": 1, "other": 0}
    assert (week["answered_by_agent"], week["unanswered"]) == (3, 0)
    row = page.split('data-week="2026-03-02"')[1].split("</tr>")[0]
    assert "data-partial" not in row
    cells = dict(re.findall(r'<td data-count="([a-z_]+)">([^<]*)</td>', row))
    assert cells == {
        "customers": "2", "messages": "4", "answered_by_agent": "75%", "median_reply": "25 s",
    }  # fmt: skip


async def test_the_page_marks_partial_weeks(console: Console) -> None:
    await scripted_day(console)
    async with await console.sign_in({ALPHA: "owner"}, language="en") as client:
        page = (await client.get("/b/shops/alpha/insights", params=WEEK)).text
    rows = re.findall(r'<tr data-week="([0-9-]+)"( data-partial="true")?>', page)
    assert rows == [("2026-02-23", ' data-partial="true"'), ("2026-03-02", ' data-partial="true"')]
    sunday = page.split('data-week="2026-02-23"')[1].split("</tr>")[0]
    assert "03-01 – 03-01" in sunday
    assert "(part of a week)" in sunday
    assert '<td data-count="customers">4</td>' in sunday
    assert 'data-timezone="Asia/Colombo"' in page
    assert 'id="timezone-fallback"' not in page  # no Businesses to read: Colombo, as said

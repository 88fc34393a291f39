"""The Sri Lankan holiday calendar Katha ships: the published 2026 dates as gazetted, 2027
marked provisional, Poya days one lunar month apart, no holiday known outside its years;
times and dates written the Sri Lankan way; holidays named the way customers type them."""

import re
from datetime import date, timedelta
from itertools import pairwise
from typing import get_args

import pytest

from katha.calendar import GROUP_RULES, HOLIDAY_RULES, HolidayRule, lanka
from katha.calendar.asked import asked_holiday, asks_when
from katha.calendar.said import said_date, said_span, said_time


def test_published_2026_dates_are_as_gazetted() -> None:
    calendar = lanka()
    year = calendar.years[2026]
    assert year.status == "gazetted"
    assert "Gazette No. 2438/22 of 27 May 2025" in year.source
    assert "Holidays Act No. 29 of 1971" in year.source
    named = {holiday.name: holiday.day for holiday in calendar.days() if holiday.day.year == 2026}
    assert named["vesak"] == date(2026, 5, 1)
    assert named["poson"] == date(2026, 6, 29)
    assert named["adhi-poson"] == date(2026, 5, 30)
    assert named["il"] == date(2026, 11, 24)
    assert named["day-after-vesak"] == date(2026, 5, 2)
    assert [h.name for h in calendar.on(date(2026, 5, 1))] == ["may-day", "vesak"]
    assert len([h for h in calendar.days() if h.day.year == 2026]) == 26
    assert not any(h.provisional for h in calendar.days() if h.day.year == 2026)


def test_2027_is_provisional_and_says_so() -> None:
    calendar = lanka()
    assert calendar.years[2027].status == "provisional"
    assert "not yet gazetted" in calendar.years[2027].source
    (vesak,) = calendar.on(date(2027, 5, 20))
    assert (vesak.name, vesak.provisional, vesak.poya) == ("vesak", True, True)


def test_poya_days_are_one_lunar_month_apart_across_the_file() -> None:
    poyas = [holiday.day for holiday in lanka().days() if holiday.poya]
    assert len(poyas) == 13 + 12  # 2026 has an Adhi Poson
    gaps = {(after - before).days for before, after in pairwise(poyas)}
    assert gaps <= {29, 30}, gaps
    assert len({day.month for day in poyas if day.year == 2027}) == 12


def test_outside_its_years_the_calendar_knows_no_holiday() -> None:
    calendar = lanka()
    assert not calendar.covers(date(2028, 5, 9))
    assert calendar.on(date(2028, 12, 25)) == ()
    assert calendar.next("christmas", date(2027, 12, 26)) is None
    assert calendar.next("poya", date(2027, 12, 14)) is None
    assert calendar.next("vesak", date(2026, 5, 2)) == calendar.on(date(2027, 5, 20))[0]


def test_every_rule_names_a_holiday_or_a_group_and_every_holiday_is_a_rule() -> None:
    names = set(lanka().names)
    assert set(HOLIDAY_RULES) == names | set(GROUP_RULES)
    assert set(get_args(HolidayRule)) == set(HOLIDAY_RULES)
    used = {holiday.name for holiday in lanka().days()}
    assert used == names
    for holiday in lanka().days():
        for language, script in (("si", "[\u0d80-\u0dff]"), ("ta", "[\u0b80-\u0bff]")):
            assert re.search(script, holiday.said(language)), holiday.name


def test_the_narrowest_rule_is_told_apart() -> None:
    (vesak,) = [h for h in lanka().on(date(2026, 5, 1)) if h.name == "vesak"]
    assert vesak.narrowness("vesak") == 0
    assert vesak.narrowness("poya") is not None
    assert vesak.narrowness("public-holidays") > vesak.narrowness("poya")  # type: ignore[operator]
    assert vesak.narrowness("christmas") is None
    (new_year,) = lanka().on(date(2026, 4, 14))
    assert new_year.narrowness("poya") is None
    assert new_year.narrowness("sinhala-tamil-new-year") == 1


@pytest.mark.parametrize(
    ("minute", "language", "said"),
    [
        (6 * 60 + 30, "en", "6.30 am"),
        (20 * 60 + 30, "en", "8.30 pm"),
        (9 * 60, "singlish", "9 am"),
        (12 * 60, "en", "12 noon"),
        (24 * 60, "en", "midnight"),
        (6 * 60 + 30, "si", "උදේ 6.30"),
        (20 * 60 + 30, "si", "ර\u0dcf\u0dad\u0dca\u200d\u0dbb\u0dd3 8.30"),
        (13 * 60, "si", "දහවල් 1"),
        (17 * 60 + 15, "si", "සවස 5.15"),
        (6 * 60 + 30, "ta", "காலை 6.30"),
        (20 * 60 + 30, "ta", "இரவு 8.30"),
        (16 * 60, "ta", "மாலை 4"),
    ],
)
def test_times_are_written_the_sri_lankan_way(minute: int, language: str, said: str) -> None:
    assert said_time(minute, language) == said


def test_dates_and_spans_in_each_language() -> None:
    vesak = date(2026, 5, 1)
    assert said_date(vesak, "en") == "Friday 1 May 2026"
    assert said_date(vesak, "si") == "2026 මැයි 1 සිකුරාදා"
    assert said_date(vesak, "ta") == "2026 மே 1 வெள்ளிக்கிழமை"
    assert said_date(vesak, "singlish", weekday=False) == "2026 May 1"
    assert said_span(390, 720, "en") == "6.30 am to 12 noon"
    assert said_span(390, 720, "ta") == "காலை 6.30 முதல் மதியம் 12 வரை"
    assert said_date(vesak + timedelta(days=1), "fr") == "Saturday 2 May 2026"  # English


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Are you open on Vesak Poya?", "vesak"),
        ("poya dawase arinawada?", "poya"),
        ("වෙසක් පෝයට ඇරලද?", "vesak"),
        ("போயா தினத்தில் திறந்திருக்குமா?", "poya"),
        ("when is the next poya?", "poya"),
        ("open on Il Poya?", "il"),
        ("ilanga poya kawadada?", "poya"),
        ("open on christmas day?", "christmas"),
        ("avurudu dawaswala arinawada?", "sinhala-tamil-new-year"),
        ("are you open on public holidays?", "public-holidays"),
        ("තෛපොංගල් දිනයේ විවෘතද?", "thai-pongal"),
        ("Are you open on Sunday?", None),
        ("kiyatada arinne?", None),
    ],
)
def test_the_holiday_a_message_names(text: str, rule: str | None) -> None:
    assert asked_holiday(text) == rule


def test_when_is_asked_in_every_language() -> None:
    asked = ["when is the next poya?", "ilanga poya kawadada?", "ඊළඟ පෝය කවදාද?",
             "அடுத்த போயா எப்போது?"]  # fmt: skip
    assert all(asks_when(text) for text in asked)
    assert not asks_when("poya dawase arinawada?")

"""Holiday rules in spec.hours: Poya days and Sri Lankan public holidays, each closed, open
with its own hours or open as usual; the narrowest rule wins, closed days win over all,
and the mistakes an owner makes are refused in words they understand, by the model and
by the API server's CEL alike."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from manifests import business as manifest
from manifests import business_schema, problems

from katha.api import Business
from katha.api.hours import OpeningHours, is_open, next_opening

COLOMBO = ZoneInfo("Asia/Colombo")
EVERY_DAY = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOURS: dict[str, Any] = {
    "weekly": {day: [{"open": "06:30", "close": "20:30"}] for day in EVERY_DAY},
    "holidays": [
        {"rule": "public-holidays"},
        {"rule": "poya", "hours": [{"open": "06:30", "close": "12:00"}]},
        {"rule": "vesak"},
        {"rule": "christmas", "usual": True},
    ],
    "closedDays": ["2026-11-24"],
}


def _times(hours: OpeningHours, day: date) -> list[tuple[str, str]]:
    return [(interval.open, interval.close) for interval in hours.intervals_on(day)]


def test_each_day_takes_the_narrowest_rule_and_closed_days_win() -> None:
    hours = OpeningHours.model_validate(HOURS)
    usual, morning = [("06:30", "20:30")], [("06:30", "12:00")]
    assert _times(hours, date(2026, 12, 22)) == usual  # an ordinary Tuesday
    assert _times(hours, date(2026, 12, 23)) == morning  # Unduvap Poya: the poya rule
    assert _times(hours, date(2026, 5, 30)) == morning  # Adhi Poson is a Poya too
    assert _times(hours, date(2026, 5, 1)) == []  # Vesak (and May Day): its own rule, closed
    assert _times(hours, date(2026, 4, 14)) == []  # New Year: a public holiday
    assert _times(hours, date(2026, 12, 25)) == usual  # Christmas: open as usual
    assert _times(hours, date(2026, 11, 24)) == []  # Il Poya, but a closed day of the owner's
    assert _times(hours, date(2027, 1, 22)) == morning  # provisional Duruthu Poya
    assert _times(hours, date(2028, 5, 9)) == usual  # past the calendar: nothing guessed
    assert hours.holiday_on(date(2028, 5, 9)) is None
    found = hours.holiday_on(date(2026, 5, 1))
    assert found is not None
    assert (found[0].rule, found[1].name) == ("vesak", "vesak")


def test_opening_and_next_opening_follow_the_holidays_in_local_time() -> None:
    hours = OpeningHours.model_validate(HOURS)
    evening_before_vesak = datetime(2026, 4, 30, 21, 0, tzinfo=COLOMBO)
    # Vesak is closed by its own rule, the day after it as a public holiday.
    assert next_opening(hours, evening_before_vesak) == datetime(2026, 5, 3, 6, 30, tzinfo=COLOMBO)
    assert not is_open(hours, datetime(2026, 12, 23, 13, 0, tzinfo=COLOMBO))
    assert is_open(hours, datetime(2026, 12, 23, 11, 59, tzinfo=COLOMBO))


def test_holiday_rules_round_trip_in_camel_case() -> None:
    business = Business.model_validate(manifest(hours=HOURS))
    dumped = business.to_yaml_dict()["spec"]["hours"]["holidays"]
    assert dumped[0] == {"rule": "public-holidays", "hours": [], "usual": False}
    assert dumped[3] == {"rule": "christmas", "hours": [], "usual": True}
    assert Business.model_validate(business.to_yaml_dict()) == business


@pytest.mark.parametrize(
    ("holidays", "message"),
    [
        ([{"rule": "poyaa"}], "poyaa is not a holiday Katha knows: use poya, public-holidays"),
        ([{"rule": "poya"}, {"rule": "poya", "usual": True}], "poya is listed twice"),
        (
            [{"rule": "vesak", "usual": True, "hours": [{"open": "08:00", "close": "12:00"}]}],
            "vesak: usual hours, or hours of its own: not both",
        ),
        (
            [
                {
                    "rule": "poya",
                    "hours": [
                        {"open": "06:30", "close": "12:00"},
                        {"open": "11:00", "close": "14:00"},
                    ],
                }
            ],
            "poya: 06:30-12:00 overlaps 11:00-14:00",
        ),
        ([{"rule": "poya", "hours": [{"open": "12:00", "close": "06:30"}]}], "must be before"),
    ],
)
def test_mistaken_holiday_rules_are_refused_with_the_reason(
    holidays: list[dict[str, Any]], message: str
) -> None:
    (problem,) = problems(hours={"holidays": holidays})
    assert problem.startswith("spec.hours.holidays")
    assert message in problem


def test_the_api_server_refuses_the_same_mistakes(
    api_server_check: Callable[..., list[str]],
) -> None:
    assert api_server_check(business_schema(), manifest(hours=HOURS)) == []
    twice = {"holidays": [{"rule": "poya"}, {"rule": "poya", "usual": True}]}
    assert api_server_check(business_schema(), manifest(hours=twice)) == [
        "spec.hours.holidays: each holiday rule at most once"
    ]
    morning = [{"open": "08:00", "close": "09:00"}]
    both = {"holidays": [{"rule": "il", "usual": True, "hours": morning}]}
    assert api_server_check(business_schema(), manifest(hours=both)) == [
        "spec.hours.holidays[0]: usual hours, or hours of its own: not both"
    ]
    unknown = {"holidays": [{"rule": "diwali-eve"}]}
    assert api_server_check(business_schema(), manifest(hours=unknown))

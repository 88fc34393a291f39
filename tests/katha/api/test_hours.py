"""Opening hours, pause and the owner's FAQ on the Business: the models refuse the mistakes
an owner or a platform engineer makes, the CRD refuses them too, and the helpers the agent
uses say when the business is open."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from manifests import business as manifest
from manifests import business_schema, problems

from katha.api import Business
from katha.api.hours import WEEKDAYS, OpeningHours, closes_at, is_open, next_opening

COLOMBO = ZoneInfo("Asia/Colombo")
ApiCheck = Callable[..., list[str]]
# A bakery: two openings on weekdays, a late Friday running past midnight, shut Sundays.
HOURS: dict[str, Any] = {
    "weekly": {
        "monday": [{"open": "14:00", "close": "18:00"}, {"open": "07:00", "close": "12:00"}],
        "friday": [{"open": "07:00", "close": "12:00"}, {"open": "18:00", "close": "24:00"}],
        "saturday": [{"open": "00:00", "close": "02:00"}, {"open": "08:00", "close": "20:00"}],
    },
    "closedDays": ["2026-12-25"],
    "note": "පොහොය දිනවල වසා ඇත",
}


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in December 2026 (the 7th is a Monday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=COLOMBO)


def test_the_new_fields_default_to_what_a_business_had_before() -> None:
    spec = Business.model_validate(manifest()).spec
    assert spec.hours is None  # hours not stated: the agent says nothing about them
    assert spec.paused is False
    assert spec.knowledge.faq == []


def test_hours_pause_and_faq_round_trip_in_camel_case() -> None:
    faq = [{"q": "kottu kiyada?", "a": "Rs 1200", "language": "singlish"}, {"q": "Hi?", "a": "Hi"}]
    business = Business.model_validate(manifest(hours=HOURS, paused=True, knowledge={"faq": faq}))
    spec = business.spec
    assert spec.paused is True
    assert spec.hours is not None
    assert list(spec.hours.weekly) == ["monday", "friday", "saturday"]  # week order
    assert [i.open for i in spec.hours.weekly["monday"]] == ["07:00", "14:00"]  # time order
    assert spec.hours.closed_days == [date(2026, 12, 25)]
    assert [item.language for item in spec.knowledge.faq] == ["singlish", None]
    dumped = business.to_yaml_dict()["spec"]
    assert dumped["hours"]["closedDays"] == ["2026-12-25"]
    assert dumped["knowledge"]["faq"][1] == {"q": "Hi?", "a": "Hi"}
    assert Business.model_validate(business.to_yaml_dict()) == business


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        ({"monday": [{"open": "10:00", "close": "09:00"}]}, "must be before close"),
        ({"monday": [{"open": "10:00", "close": "10:00"}]}, "must be before close"),
        ({"monday": [{"open": "9:00", "close": "17:00"}]}, "does not match the pattern"),
        ({"monday": [{"open": "24:00", "close": "24:00"}]}, "does not match the pattern"),
        ({"monday": [{"open": "09:00", "close": "24:30"}]}, "does not match the pattern"),
        ({"mon": [{"open": "09:00", "close": "17:00"}]}, "'monday', 'tuesday'"),
        (
            {"monday": [{"open": "09:00", "close": "13:00"}, {"open": "12:00", "close": "15:00"}]},
            "monday: 09:00-13:00 overlaps 12:00-15:00",
        ),
    ],
)
def test_mistaken_hours_are_refused_with_the_reason(weekly: dict[str, Any], message: str) -> None:
    (problem,) = problems(hours={"weekly": weekly})
    assert problem.startswith("spec.hours.weekly")
    assert message in problem


def test_touching_intervals_and_midnight_are_fine() -> None:
    weekly = {"sunday": [{"open": "00:00", "close": "12:00"}, {"open": "12:00", "close": "24:00"}]}
    hours = OpeningHours.model_validate({"weekly": weekly})
    assert is_open(hours, _at(13, 23, 59))
    assert closes_at(hours, _at(13, 9)) == _at(14, 0)


def test_at_most_a_year_of_closed_days_and_a_short_note() -> None:
    days = [(date(2027, 1, 1) + timedelta(days=n)).isoformat() for n in range(367)]
    assert Business.model_validate(manifest(hours={"closedDays": days[:366]}))
    (too_many,) = problems(hours={"closedDays": days})
    assert too_many.startswith("spec.hours.closedDays")
    assert "366" in too_many
    (long_note,) = problems(hours={"note": "x" * 201})
    assert "spec.hours.note" in long_note
    (bad_language,) = problems(knowledge={"faq": [{"q": "Hi", "a": "Hi", "language": "fr"}]})
    assert "[0].language: must be one of 'si', 'en', 'singlish' or 'ta'" in bad_language


def test_the_api_server_refuses_reversed_hours_too(api_server_check: ApiCheck) -> None:
    reversed_hours = {"weekly": {"tuesday": [{"open": "18:00", "close": "09:00"}]}}
    assert api_server_check(business_schema(), manifest(hours=HOURS, paused=True)) == []
    problems = api_server_check(business_schema(), manifest(hours=reversed_hours))
    assert problems == ["spec.hours.weekly.tuesday[0]: open must be before close"]
    malformed = {"weekly": {"tuesday": [{"open": "9am", "close": "17:00"}]}}
    assert api_server_check(business_schema(), manifest(hours=malformed))
    faq = {"faq": [{"q": "Hi", "a": "Hi", "language": "fr"}]}
    assert api_server_check(business_schema(), manifest(knowledge=faq))


def test_the_crd_names_the_seven_days_and_writes_no_empty_ones(
    api_server_defaults: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
) -> None:
    """A map's keys cannot be limited in a structural schema, so the days are properties: the
    API server prunes (and kubectl refuses) a misspelt one instead of keeping it unread."""
    weekly = business_schema()["properties"]["spec"]["properties"]["hours"]["properties"]["weekly"]
    assert tuple(weekly["properties"]) == WEEKDAYS
    assert "additionalProperties" not in weekly
    stored = api_server_defaults(business_schema(), manifest(hours=HOURS))["spec"]["hours"]
    assert set(stored["weekly"]) == {"monday", "friday", "saturday"}


@pytest.mark.parametrize(
    ("at", "open_now", "opens", "closes"),
    [
        (_at(7, 6, 59), False, _at(7, 7), None),  # Monday, before opening
        (_at(7, 7), True, _at(7, 14), _at(7, 12)),  # the first minute is open
        (_at(7, 12), False, _at(7, 14), None),  # the closing minute is closed
        (_at(7, 18, 30), False, _at(11, 7), None),  # Monday evening: Friday next
        (_at(11, 23), True, _at(12, 8), _at(12, 2)),  # Friday night runs into Saturday
        (_at(12, 1, 59), True, _at(12, 8), _at(12, 2)),
        (_at(12, 21), False, _at(14, 7), None),  # Saturday night: Monday next
        (_at(21, 9), True, _at(21, 14), _at(21, 12)),
    ],
)
def test_open_now_next_opening_and_closing(
    at: datetime, open_now: bool, opens: datetime, closes: datetime | None
) -> None:
    hours = OpeningHours.model_validate(HOURS)
    assert is_open(hours, at) is open_now
    assert next_opening(hours, at) == opens
    assert closes_at(hours, at) == closes


def test_a_closed_day_is_closed_all_day_and_skipped_for_the_next_opening() -> None:
    christmas_on_monday = {**HOURS, "closedDays": ["2026-12-07", "2026-12-11"]}
    hours = OpeningHours.model_validate(christmas_on_monday)
    assert not is_open(hours, _at(7, 8))
    # Friday is closed as well, so Saturday's 00:00 is an opening, not a continuation.
    assert next_opening(hours, _at(7, 8)) == _at(12, 0)
    assert closes_at(hours, _at(12, 1)) == _at(12, 2)  # Friday's late opening is not held


def test_hours_that_never_open_have_no_next_opening() -> None:
    hours = OpeningHours.model_validate({"note": "By appointment"})
    assert not is_open(hours, _at(7, 12))
    assert next_opening(hours, _at(7, 12)) is None
    round_the_clock = OpeningHours.model_validate(
        {"weekly": {day: [{"open": "00:00", "close": "24:00"}] for day in WEEKDAYS}}
    )
    assert is_open(round_the_clock, _at(7, 3))
    assert next_opening(round_the_clock, _at(7, 3)) is None  # it never closes to open again
    assert closes_at(round_the_clock, _at(7, 3)) is None

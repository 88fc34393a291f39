"""The Sri Lankan holiday calendar: the data file read once, and the questions the hours
ask of it (which holidays fall on a day, when the next Poya is).

A rule an owner writes is a holiday's own name (`vesak`, `christmas`) or a group of them:
`poya` (every full moon Poya day), `sinhala-tamil-new-year` (its two days) and
`public-holidays` (every day in the calendar, Poya days included). When several rules
cover a day, the narrowest wins: a holiday's own name, then the New Year's two days, then
`poya`, then `public-holidays`.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

HolidayRule = Literal[
    "poya",
    "public-holidays",
    "sinhala-tamil-new-year",
    "duruthu",
    "navam",
    "medin",
    "bak",
    "vesak",
    "adhi-poson",
    "poson",
    "esala",
    "nikini",
    "binara",
    "vap",
    "il",
    "unduvap",
    "thai-pongal",
    "national-day",
    "mahasivarathri",
    "id-ul-fitr",
    "good-friday",
    "new-year-eve",
    "new-year-day",
    "may-day",
    "day-after-vesak",
    "id-ul-alha",
    "milad-un-nabi",
    "deepavali",
    "christmas",
]
HOLIDAY_RULES: tuple[HolidayRule, ...] = get_args(HolidayRule)
# The rules that name a group of holidays, with the holidays each takes in (None: all of
# that kind, read from the file), narrowest first.
GROUP_RULES: dict[HolidayRule, frozenset[str] | None] = {
    "sinhala-tamil-new-year": frozenset({"new-year-eve", "new-year-day"}),
    "poya": None,
    "public-holidays": None,
}
DATA_FILE = "lk_holidays.yaml"
Status = Literal["gazetted", "provisional"]
# How far ahead "when is the next Poya?" looks: past the calendar's end it finds nothing.
_LOOKAHEAD = timedelta(days=800)


class Names(BaseModel):
    """A holiday's name in each language the agent answers in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    poya: bool = False
    en: str
    si: str
    ta: str
    singlish: str

    def said(self, language: str) -> str:
        return {"si": self.si, "ta": self.ta, "singlish": self.singlish}.get(language, self.en)


class Year(BaseModel):
    """One year's holidays and where they come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    source: str
    days: dict[date, tuple[str, ...]]


class CalendarFile(BaseModel):
    """The data file, checked: every day's holidays are named, every name is a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    names: dict[str, Names]
    years: dict[int, Year]

    @model_validator(mode="after")
    def _consistent(self) -> "CalendarFile":
        unknown = set(self.names) - set(HOLIDAY_RULES)
        if unknown:
            raise ValueError(f"holidays that are not rules: {sorted(unknown)}")
        for number, year in self.years.items():
            for day, holidays in year.days.items():
                if day.year != number or not holidays:
                    raise ValueError(f"{day}: not a day of {number}, or no holiday named")
                if missing := [name for name in holidays if name not in self.names]:
                    raise ValueError(f"{day}: unnamed holidays {missing}")
        return self


@dataclass(frozen=True)
class Holiday:
    """One holiday on one day. `provisional`: its year is a published estimate."""

    day: date
    name: str
    names: Names
    provisional: bool

    @property
    def poya(self) -> bool:
        return self.names.poya

    def said(self, language: str) -> str:
        return self.names.said(language)

    def narrowness(self, rule: HolidayRule) -> int | None:
        """How closely `rule` names this holiday (0 is its own name), or None: not at all."""
        if rule == self.name:
            return 0
        if rule in GROUP_RULES:
            members = GROUP_RULES[rule]
            if rule == "poya" and not self.poya:
                return None
            if members is not None and self.name not in members:
                return None
            return 1 + tuple(GROUP_RULES).index(rule)
        return None


class Calendar:
    """The holidays of the years the file lists."""

    def __init__(self, data: CalendarFile) -> None:
        self.years = dict(sorted(data.years.items()))
        self.names = data.names
        self._days: dict[date, tuple[Holiday, ...]] = {}
        for year in self.years.values():
            provisional = year.status == "provisional"
            for day, holidays in sorted(year.days.items()):
                self._days[day] = tuple(
                    Holiday(day, name, data.names[name], provisional) for name in holidays
                )

    def covers(self, day: date) -> bool:
        """Whether the calendar knows `day`'s year; outside it, no holiday is known."""
        return day.year in self.years

    def on(self, day: date) -> tuple[Holiday, ...]:
        return self._days.get(day, ())

    def days(self) -> list[Holiday]:
        """Every holiday, in date order."""
        return [holiday for holidays in self._days.values() for holiday in holidays]

    def next(self, rule: HolidayRule, start: date) -> Holiday | None:
        """The first holiday `rule` covers on or after `start`, or None: none in the calendar."""
        for day in sorted(self._days):
            if day < start or day > start + _LOOKAHEAD:
                continue
            for holiday in self._days[day]:
                if holiday.narrowness(rule) is not None:
                    return holiday
        return None

    def between(self, start: date, end: date) -> list[Holiday]:
        """The holidays from `start` to `end`, both included."""
        return [holiday for holiday in self.days() if start <= holiday.day <= end]


@cache
def lanka() -> Calendar:
    """Sri Lanka's calendar, read from the file shipped with this package."""
    raw = files("katha.calendar").joinpath("data").joinpath(DATA_FILE).read_text("utf-8")
    return Calendar(CalendarFile.model_validate(yaml.safe_load(raw)))

"""Sri Lanka's holidays, the full moon Poya days among them, from a data file that names
its source: what `spec.hours.holidays` rules such as `poya` or `vesak` refer to.

The calendar knows only the years its file lists: outside them it knows no holiday at all
(never a guess), and a year that is not yet gazetted is marked provisional, so the agent
says "expected" of its dates.
"""

from katha.calendar.lanka import (
    GROUP_RULES,
    HOLIDAY_RULES,
    Calendar,
    Holiday,
    HolidayRule,
    Year,
    lanka,
)

__all__ = [
    "GROUP_RULES",
    "HOLIDAY_RULES",
    "Calendar",
    "Holiday",
    "HolidayRule",
    "Year",
    "lanka",
]

"""A section's HTML form, read into the Business paths it changes.

The page works without JavaScript on a cheap phone: each section is a plain form, and
adding or removing a closed day is a button of the hours form (the whole section is
saved with that day added or gone). Values pass through as typed, so the Business's model
judges them (an opening time "9" is refused with `katha validate`'s words, not here).
Poya days and public holidays are each usual hours, closed, or open with hours of their
own; holiday rules the page has no control for (set through the API) ride along in
hidden fields, so a save from the page keeps them.
"""

import json
from typing import Any

from starlette.datastructures import FormData

from console.setup.sections import (
    HOLIDAY_CONTROLS,
    PERSONA_LANGUAGES,
    WEEKDAYS,
    Path,
    Section,
)
from katha.api.hours import MAX_INTERVALS_PER_DAY

# A phone's time picker cannot say "24:00": an interval closing at 00:00 closes at midnight.
MIDNIGHT = "24:00"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _on(form: FormData, name: str) -> bool:
    return _text(form, name) in {"on", "true", "1"}


def persona_changes(form: FormData) -> dict[Path, Any]:
    chosen = set(form.getlist("languages"))
    return {
        ("persona", "name"): _text(form, "name"),
        ("persona", "tone"): _text(form, "tone"),
        ("persona", "greeting"): _text(form, "greeting") or None,
        ("persona", "languages"): [code for code in PERSONA_LANGUAGES if code in chosen],
        ("persona", "singlishReplies"): _text(form, "singlish_replies"),
    }


def _intervals(form: FormData, prefix: str) -> list[dict[str, str]]:
    """The intervals typed in the rows named `prefix`.open1, `prefix`.close1, ..."""
    intervals = []
    for number in range(1, MAX_INTERVALS_PER_DAY + 1):
        opens = _text(form, f"{prefix}.open{number}")
        closes = _text(form, f"{prefix}.close{number}")
        if opens or closes:
            intervals.append({"open": opens, "close": MIDNIGHT if closes == "00:00" else closes})
    return intervals


def _day(form: FormData, day: str) -> list[dict[str, str]]:
    """A weekday's intervals; none when it is marked closed or left empty."""
    if _on(form, f"{day}.closed"):
        return []
    return _intervals(form, day)


def _holidays(form: FormData) -> list[dict[str, Any]]:
    """The page's holiday controls, then the rules it carries unchanged. "Open these hours"
    with no times goes on as an empty time, so the model refuses it instead of the page
    quietly saving it as closed."""
    rules: list[dict[str, Any]] = []
    for rule in HOLIDAY_CONTROLS:
        choice = _text(form, f"holiday.{rule}")
        if choice == "closed":
            rules.append({"rule": rule})
        elif choice == "hours":
            rules.append({"rule": rule, "hours": _intervals(form, f"holiday.{rule}")
                          or [{"open": "", "close": ""}]})  # fmt: skip
    for carried in form.getlist("holiday_kept"):
        try:
            kept = json.loads(carried) if isinstance(carried, str) else None
        except ValueError:
            kept = None
        if isinstance(kept, dict) and kept.get("rule") not in HOLIDAY_CONTROLS:
            rules.append(kept)
    return rules


def hours_changes(form: FormData) -> dict[Path, Any]:
    """The whole of `spec.hours`, or None (hours not stated) when the owner turned it off."""
    if not _on(form, "hours_stated"):
        return {("hours",): None}
    weekly = {day: intervals for day in WEEKDAYS if (intervals := _day(form, day))}
    removed = _text(form, "remove_day")
    days = [day.strip() for day in form.getlist("closed_days") if isinstance(day, str)]
    if added := _text(form, "add_day"):
        days.append(added)
    closed = sorted({day for day in days if day and day != removed})
    hours: dict[str, Any] = {"weekly": weekly, "closedDays": closed}
    if holidays := _holidays(form):
        hours["holidays"] = holidays
    if note := _text(form, "note"):
        hours["note"] = note
    return {("hours",): hours}


def handoff_changes(form: FormData) -> dict[Path, Any]:
    # "+94 77 123-4567" as people write it is the same number; the model wants it bare.
    number = "".join(_text(form, "owner_number").split()).replace("-", "")
    return {
        ("handoff", "enabled"): _on(form, "enabled"),
        ("handoff", "ownerNumber"): number or None,
    }


def pause_changes(form: FormData) -> dict[Path, Any]:
    return {("paused",): _on(form, "paused")}


READERS = {
    "persona": persona_changes,
    "hours": hours_changes,
    "handoff": handoff_changes,
    "pause": pause_changes,
}


def changes_of(section: Section, form: FormData) -> dict[Path, Any]:
    return READERS[section](form)

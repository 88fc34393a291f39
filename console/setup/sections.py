"""The settings an owner changes, in four sections, as the Business holds them.

Each section owns some of `CONSOLE_FIELDS`: saving a section applies exactly its paths and
nothing else, so a save of the persona never touches the hours another save set. Values
go to `Businesses.apply` as the owner gave them, unchecked here: the Business's own model
judges them, so a mistake reads as `katha validate` prints it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Section = Literal["persona", "hours", "handoff", "pause"]
Path = tuple[str, ...]

SECTION_PATHS: dict[Section, tuple[Path, ...]] = {
    "persona": (
        ("persona", "name"),
        ("persona", "tone"),
        ("persona", "greeting"),
        ("persona", "languages"),
        ("persona", "singlishReplies"),
    ),
    "hours": (("hours",),),
    "handoff": (("handoff", "enabled"), ("handoff", "ownerNumber")),
    "pause": (("paused",),),
}
SECTIONS: tuple[Section, ...] = tuple(SECTION_PATHS)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TONES = ("warm", "friendly", "professional", "concise")
PERSONA_LANGUAGES = ("si", "en", "singlish", "ta")
SINGLISH_REPLIES = ("singlish", "sinhala")
# A day has at most this many opening intervals in the page (lunch closed: two).
INTERVALS = 2
# The holiday rules the page has a control for; others are kept as the API set them.
HOLIDAY_CONTROLS = ("poya", "public-holidays")
# Persona defaults, as katha.api.business.Persona has them, for a Business that sets none.
PERSONA_DEFAULTS: dict[str, Any] = {
    "name": "Katha",
    "tone": "warm",
    "greeting": None,
    "languages": [],
    "singlishReplies": "singlish",
}


def _dig(spec: Mapping[str, Any], path: Path) -> Any:
    value: Any = spec
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


@dataclass(frozen=True)
class Settings:
    """What the settings page and API show: the Business's values, or the defaults."""

    persona: dict[str, Any]
    hours: dict[str, Any] | None  # weekly, holidays, closedDays, note; None: not stated
    handoff: dict[str, Any]  # enabled, ownerNumber
    paused: bool


def settings_of(spec: Mapping[str, Any]) -> Settings:
    persona = {
        key: default if (value := _dig(spec, ("persona", key))) is None else value
        for key, default in PERSONA_DEFAULTS.items()
    }
    hours = _dig(spec, ("hours",))
    return Settings(
        persona=persona,
        hours=dict(hours) if isinstance(hours, Mapping) else None,
        handoff={
            "enabled": bool(_dig(spec, ("handoff", "enabled"))),
            "ownerNumber": _dig(spec, ("handoff", "ownerNumber")),
        },
        paused=bool(_dig(spec, ("paused",))),
    )


def overlay(spec: Mapping[str, Any], changes: Mapping[Path, Any]) -> dict[str, Any]:
    """`spec` with `changes` set (None removes): what a refused save would have made, so the
    page shows the owner's own values next to what was wrong with them."""
    result = _copy(spec)
    for path, value in changes.items():
        parent = result
        for key in path[:-1]:
            child = parent.get(key)
            parent[key] = child = _copy(child) if isinstance(child, Mapping) else {}
            parent = child
        if value is None:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    return result


def _copy(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _copy(v) if isinstance(v, Mapping) else v for key, v in mapping.items()}


def problem_field(problem: str) -> str | None:
    """The page field a validator problem names ("spec.hours.weekly.monday[0].close: ..."
    → "hours.weekly.monday"), else None: it is shown at the top of its section."""
    path, separator, _ = problem.partition(": ")
    if not separator or not path.startswith("spec."):
        return None
    parts = path.removeprefix("spec.").replace("[", ".[").split(".")
    if parts[0] == "persona" and len(parts) > 1:
        return ".".join(parts[:2])
    if parts[0] == "hours":
        if len(parts) > 2 and parts[1] == "weekly":
            return ".".join(parts[:3])
        return ".".join(parts[:2]) if len(parts) > 1 else None
    if parts[0] == "handoff":
        return "handoff.ownerNumber"  # "handoff is enabled, so ownerNumber ..." too
    return None


def section_of(problem: str) -> Section | None:
    """The section whose fields a validator problem is about."""
    path = problem.partition(": ")[0].removeprefix("spec.")
    head = path.split(".", 1)[0].split("[", 1)[0]
    return _SECTION_OF_FIELD.get(head)


_SECTION_OF_FIELD: dict[str, Section] = {
    "persona": "persona",
    "hours": "hours",
    "handoff": "handoff",
    "paused": "pause",
}

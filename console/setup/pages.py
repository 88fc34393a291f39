"""The settings page: four plain forms (persona, opening hours, handoff, pause) that post
without JavaScript and come back to the page.

A refused save shows the page again with the owner's own values and, next to each field,
what was wrong, in the reader's language around the validator's own words (those stay as
`katha validate` prints them, so a platform engineer reading the same text finds the same
field). Staff see the same page with nothing to change.
"""

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.auth.deps import CsrfDep, PrincipalDep, csrf_token
from console.auth.principal import Principal
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.conversations.pages import not_found
from console.setup.forms import MIDNIGHT, changes_of
from console.setup.saving import Refusal, read_spec, save
from console.setup.sections import (
    HOLIDAY_CONTROLS,
    INTERVALS,
    PERSONA_LANGUAGES,
    SINGLISH_REPLIES,
    WEEKDAYS,
    Section,
    overlay,
    problem_field,
    section_of,
    settings_of,
)
from console.web import render
from katha.calendar import lanka

router = APIRouter(include_in_schema=False)

# Labels the page translates (the catalogue test reads these tables too).
DAY_LABELS = {
    "monday": "Monday", "tuesday": "Tuesday", "wednesday": "Wednesday",
    "thursday": "Thursday", "friday": "Friday", "saturday": "Saturday", "sunday": "Sunday",
}  # fmt: skip
TONE_LABELS = {
    "warm": "Warm", "friendly": "Friendly", "professional": "Professional",
    "concise": "Concise",
}  # fmt: skip
LANGUAGE_LABELS = {"si": "Sinhala", "en": "English", "singlish": "Singlish", "ta": "Tamil"}
SINGLISH_LABELS = {
    "singlish": "In Singlish, as the customer wrote",
    "sinhala": "In Sinhala script",
}
SectionParam = Annotated[Section, PathParam()]


@dataclass
class Outcome:
    """What the page says about the last save: which section landed, or why it did not."""

    saved: Section | None = None
    section: Section | None = None  # the refused one
    refusal: Refusal | None = None
    by_field: dict[str, list[str]] = field(default_factory=dict)
    by_section: dict[str, list[str]] = field(default_factory=dict)


# The fields settings.html shows problems next to; any other problem (a field the page
# does not have, the Business as a whole) is shown at the top of its section.
SHOWN_FIELDS = frozenset(
    [f"persona.{key}" for key in ("name", "tone", "greeting", "languages", "singlishReplies")]
    + [f"hours.weekly.{day}" for day in WEEKDAYS]
    + ["hours.weekly", "hours.holidays", "hours.closedDays", "hours.note"]
    + ["handoff.ownerNumber"]
)


def outcome_of(section: Section, refusal: Refusal) -> Outcome:
    """Each problem next to the field it names, else at the top of its section."""
    outcome = Outcome(section=section, refusal=refusal)
    for problem in refusal.problems:
        if (name := problem_field(problem)) in SHOWN_FIELDS:
            outcome.by_field.setdefault(str(name), []).append(problem)
        else:
            outcome.by_section.setdefault(section_of(problem) or section, []).append(problem)
    return outcome


def day_views(hours: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each weekday with its intervals as the time pickers show them (24:00 is 00:00), and
    at least INTERVALS rows to fill in."""
    weekly = (hours or {}).get("weekly") or {}
    days = []
    for day in WEEKDAYS:
        intervals = [
            (str(i.get("open", "")), _picker(str(i.get("close", ""))))
            for i in weekly.get(day) or []
            if isinstance(i, dict)
        ]
        rows = intervals + [("", "")] * max(0, INTERVALS - len(intervals))
        days.append({"day": day, "label": DAY_LABELS[day], "closed": not intervals, "rows": rows})
    return days


def holiday_views(hours: dict[str, Any] | None) -> dict[str, Any]:
    """The Poya and public-holiday controls (usual, closed or hours, with their time rows),
    and the other rules as they stand, to show and to carry through a save."""
    rules = [rule for rule in (hours or {}).get("holidays") or [] if isinstance(rule, dict)]
    controls = []
    for name in HOLIDAY_CONTROLS:
        rule = next((rule for rule in rules if rule.get("rule") == name), None)
        times = [
            (str(i.get("open", "")), _picker(str(i.get("close", ""))))
            for i in (rule or {}).get("hours") or []
            if isinstance(i, dict)
        ]
        choice = "usual" if rule is None or rule.get("usual") else "hours" if times else "closed"
        rows = times + [("", "")] * max(0, INTERVALS - len(times))
        controls.append({"rule": name, "choice": choice, "rows": rows})
    kept = [
        {"rule": str(rule.get("rule")), "json": json.dumps(rule, ensure_ascii=False)}
        for rule in rules
        if rule.get("rule") not in HOLIDAY_CONTROLS
    ]
    return {"controls": controls, "kept": kept, "years": ", ".join(map(str, lanka().years))}


def _picker(close: str) -> str:
    return "00:00" if close == MIDNIGHT else close


def page(
    request: Request,
    principal: Principal,
    tenant: str,
    spec: dict[str, Any],
    outcome: Outcome,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    current = settings_of(spec)
    namespace, name = tenant.split("/", 1)
    return render(
        request,
        "settings.html",
        status_code=status_code,
        principal=principal,
        tenant=tenant,
        base=f"/b/{namespace}/{name}",
        may_manage=principal.may(tenant, "manage"),
        persona=current.persona,
        hours=current.hours or {},
        hours_stated=current.hours is not None,
        days=day_views(current.hours),
        holidays=holiday_views(current.hours),
        handoff=current.handoff,
        paused=current.paused,
        outcome=outcome,
        tones=TONE_LABELS,
        persona_languages={code: LANGUAGE_LABELS[code] for code in PERSONA_LANGUAGES},
        singlish_labels={code: SINGLISH_LABELS[code] for code in SINGLISH_REPLIES},
        csrf=csrf_token(request),
    )


@router.get("/b/{namespace}/{name}/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request,
    namespace: Namespace,
    name: Name,
    principal: PrincipalDep,
    services: ServicesDep,
    saved: Annotated[Section | None, Query()] = None,
) -> Response:
    try:
        tenant = tenant_for(principal, namespace, name)
        spec = await read_spec(services, tenant)
    except HTTPException as error:
        return unavailable(request, principal, error)
    return page(request, principal, tenant, spec, Outcome(saved=saved))


@router.post("/b/{namespace}/{name}/settings/{section}", response_class=HTMLResponse)
async def save_section(
    request: Request,
    namespace: Namespace,
    name: Name,
    section: SectionParam,
    principal: CsrfDep,
    services: ServicesDep,
) -> Response:
    """Save one section and go back to the page (303), or show why it was not saved."""
    try:
        tenant = tenant_for(principal, namespace, name, "manage")
        spec = await read_spec(services, tenant)
    except HTTPException as error:
        return unavailable(request, principal, error)
    changes = changes_of(section, await request.form())
    refusal = await save(services, principal, tenant, [section], changes)
    if refusal is None:
        location = f"/b/{namespace}/{name}/settings?saved={section}#{section}"
        return RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)
    shown = spec if refusal.unavailable else overlay(spec, changes)
    return page(request, principal, tenant, shown, outcome_of(section, refusal), refusal.status)


def unavailable(request: Request, principal: Principal, error: HTTPException) -> Response:
    """404's own page; for Businesses out of reach (503), a page that says to try again."""
    if error.status_code != status.HTTP_503_SERVICE_UNAVAILABLE:
        return not_found(request, error)
    return render(
        request,
        "settings_unavailable.html",
        status_code=error.status_code,
        principal=principal,
        csrf=csrf_token(request),
    )

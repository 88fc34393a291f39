"""The settings API under /api/v1: the persona, opening hours, handoff and pause of one
Business, read by anyone who may see it and changed by its owners.

PUT takes any of the four sections; each one given replaces that section (a field left out
of it goes back to the Business's default), the others are left alone, and all of them land
in one change or none does. 422 carries the problems as `katha validate` prints them; 409
names the fields a platform engineer manages and who (their `kubectl apply`, a GitOps
controller).
"""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from console.auth.deps import CsrfDep, PrincipalDep
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.conversations.api import CHANGE, NOT_FOUND
from console.conversations.schemas import Problem
from console.setup.saving import Refusal, read_spec, save
from console.setup.sections import Path, Section, settings_of

router = APIRouter(prefix="/api/v1", tags=["settings"])

SETTINGS = "/tenants/{namespace}/{name}/settings"


class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PersonaSettings(Camel):
    name: str = "Katha"
    tone: str = Field(default="warm", description="warm, friendly, professional or concise")
    greeting: str | None = Field(default=None, description="null: the agent's own greeting")
    languages: list[str] = Field(
        default_factory=list, description="si, en, singlish, ta; empty: the customer's own"
    )
    singlish_replies: str = Field(default="singlish", description="singlish or sinhala")


class Interval(BaseModel):
    open: str = Field(description='HH:MM, e.g. "09:00"')
    close: str = Field(description='HH:MM after open; "24:00" for midnight')


class HolidayHours(Camel):
    rule: str = Field(description="poya, public-holidays, sinhala-tamil-new-year, vesak, ...")
    hours: list[Interval] = Field(default_factory=list, description="none: closed all day")
    usual: bool = Field(default=False, description="true: the weekly hours")


class Hours(Camel):
    weekly: dict[str, list[Interval]] = Field(
        default_factory=dict, description="monday..sunday; a day not listed is closed"
    )
    holidays: list[HolidayHours] = Field(
        default_factory=list, description="Poya days and public holidays, by rule"
    )
    closed_days: list[str] = Field(default_factory=list, description="YYYY-MM-DD, closed")
    note: str | None = Field(default=None, description="Said with the hours; any language")

    def spec(self) -> dict[str, Any]:
        """As `spec.hours` holds it: no empty holiday list, and each rule without the
        defaults it does not need, so the Business's YAML stays as short as the owner's."""
        hours = self.model_dump(by_alias=True, exclude_none=True)
        hours["holidays"] = [
            holiday.model_dump(by_alias=True, exclude_defaults=True) | {"rule": holiday.rule}
            for holiday in self.holidays
        ]
        if not hours["holidays"]:
            del hours["holidays"]
        return hours


class HandoffSettings(Camel):
    enabled: bool = False
    owner_number: str | None = Field(default=None, description="+94771234567")


class SettingsView(Camel):
    tenant: str
    persona: PersonaSettings
    hours: Hours | None = Field(description="null: opening hours not stated")
    handoff: HandoffSettings
    paused: bool = Field(description="true: nobody answers customers automatically")


class SettingsUpdate(Camel):
    """The sections to change; a section not given stays as it is. `hours: null` stops
    stating opening hours."""

    persona: PersonaSettings | None = None
    hours: Hours | None = None
    handoff: HandoffSettings | None = None
    paused: bool | None = None


class SettingsProblem(Problem):
    problems: list[str] = Field(default_factory=list, description="As katha validate says")
    fields: list[str] = Field(default_factory=list, description="Managed by someone else")
    managers: list[str] = Field(default_factory=list)


REFUSED: dict[int | str, dict[str, Any]] = CHANGE | {
    409: {"model": SettingsProblem, "description": "A platform engineer manages a field"},
    422: {"model": SettingsProblem, "description": "The Business would not be valid"},
}


def view(tenant: str, spec: dict[str, Any]) -> SettingsView:
    current = settings_of(spec)
    return SettingsView(
        tenant=tenant,
        persona=PersonaSettings.model_validate(current.persona),
        hours=None if current.hours is None else Hours.model_validate(current.hours),
        handoff=HandoffSettings.model_validate(current.handoff),
        paused=current.paused,
    )


def changes_of(update: SettingsUpdate) -> tuple[list[Section], dict[Path, Any]]:
    sections: list[Section] = []
    changes: dict[Path, Any] = {}
    given = update.model_fields_set
    if update.persona is not None:
        sections.append("persona")
        persona = update.persona.model_dump(by_alias=True)
        changes |= {("persona", key): value for key, value in persona.items()}
    if "hours" in given:
        sections.append("hours")
        changes[("hours",)] = update.hours.spec() if update.hours else None
    if update.handoff is not None:
        sections.append("handoff")
        handoff = update.handoff.model_dump(by_alias=True)
        changes |= {("handoff", key): value for key, value in handoff.items()}
    if update.paused is not None:
        sections.append("pause")
        changes[("paused",)] = update.paused
    return sections, changes


def refused(refusal: Refusal) -> JSONResponse:
    details = {
        409: "your platform team manages these fields; ask them to change them",
        422: "the Business would not be valid",
        503: "Businesses cannot be changed now; nothing was saved, try again",
    }
    body = SettingsProblem(
        detail=details.get(refusal.status, "refused"),
        problems=refusal.problems,
        fields=refusal.conflict_fields,
        managers=refusal.managers,
    )
    return JSONResponse(body.model_dump(), status_code=refusal.status)


@router.get(SETTINGS, response_model=SettingsView, responses=NOT_FOUND)
async def read_settings(
    namespace: Namespace, name: Name, principal: PrincipalDep, services: ServicesDep
) -> SettingsView:
    """The persona, opening hours, handoff and pause, as the Business has them."""
    tenant = tenant_for(principal, namespace, name)
    return view(tenant, await read_spec(services, tenant))


@router.put(SETTINGS, response_model=SettingsView, responses=REFUSED)
async def change_settings(
    update: SettingsUpdate,
    namespace: Namespace,
    name: Name,
    principal: CsrfDep,
    services: ServicesDep,
) -> SettingsView | Response:
    """Change the sections given, all at once or not at all (owners only)."""
    tenant = tenant_for(principal, namespace, name, "manage")
    sections, changes = changes_of(update)
    if changes and (refusal := await save(services, principal, tenant, sections, changes)):
        return refused(refusal)
    return view(tenant, await read_spec(services, tenant))

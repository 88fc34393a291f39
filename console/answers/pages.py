"""The Answers page: the owner's FAQ (add, edit, delete), the questions the agent could
not answer grouped by meaning (answer a group: one FAQ item, the group leaves the list,
and the index is refreshed so the next customer gets it), and a box to try a question.

Plain HTML forms (no script needed on a cheap phone); every change is CSRF-checked,
owner-only ("manage") and audited without its text. Staff may read and try. Whatever
fails, the owner is told what happened to their change, and what they typed is kept."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.answers import client
from console.answers.faq import (
    LANGUAGES,
    Compute,
    FaqItem,
    ItemChangedError,
    adding,
    deleting,
    editing,
    owner_items,
    platform_items,
)
from console.answers.groups import matching_group, member_keys, shown_groups
from console.auth.deps import CsrfDep, PrincipalDep, audit, csrf_token
from console.auth.principal import Principal
from console.businesses import (
    BusinessConflictError,
    BusinessesUnavailableError,
    BusinessInvalidError,
    BusinessNotFoundError,
)
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.router_client import RouterRefusedError, RouterUnavailableError
from console.services import ConsoleServices
from console.web import render

router = APIRouter(include_in_schema=False)

# A question as WhatsApp carries it; an answer as long as an FAQ item's may be.
Text = Annotated[str, Form(min_length=1, max_length=4096)]
AnswerText = Annotated[str, Form(min_length=1, max_length=8000)]
Language = Annotated[str, Form(pattern=r"^(si|en|singlish|ta)?$")]
Fingerprint = Annotated[str, Form(pattern=r"^[0-9a-f]{16}$")]
# The member keys (id, time, text hash) of the group the form showed, as JSON.
Members = Annotated[str, Form(max_length=200_000)]
RouterErrors = (RouterUnavailableError, RouterRefusedError)


async def _page(
    request: Request,
    services: ConsoleServices,
    principal: Principal,
    tenant: str,
    status_code: int = status.HTTP_200_OK,
    **extra: Any,
) -> HTMLResponse:
    faq: list[FaqItem] = []
    platform: list[FaqItem] = []
    if services.businesses is not None:
        try:
            business = await services.businesses.get(tenant)
            faq, platform = owner_items(business), platform_items(business)
        except (BusinessNotFoundError, BusinessesUnavailableError):
            extra.setdefault("business_unavailable", True)
    try:
        groups = shown_groups(await client.groups(services.router.client, tenant))
    except RouterErrors:
        groups, extra["groups_unavailable"] = [], True
    return render(
        request,
        "answers.html",
        status_code=status_code,
        principal=principal,
        tenant=tenant,
        base=f"/b/{tenant}",
        may_manage=principal.may(tenant, "manage"),
        editable=services.businesses is not None,
        faq=faq,
        platform=platform,
        groups=groups,
        faq_languages=LANGUAGES,
        csrf=csrf_token(request),
        **extra,
    )


@router.get("/b/{namespace}/{name}/answers", response_class=HTMLResponse)
async def answers_page(
    request: Request, namespace: Namespace, name: Name, principal: PrincipalDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    return await _page(request, services, principal, tenant)


@dataclass
class _Outcome:
    """What became of a change: written or not, and what the page then says."""

    saved: bool
    status_code: int = status.HTTP_303_SEE_OTHER
    extra: dict[str, Any] = field(default_factory=dict)


async def _save(
    services: ConsoleServices, principal: Principal, tenant: str, compute: Compute, action: str
) -> _Outcome:
    """Write the FAQ as `compute` changes the Business read inside the write's guard;
    audited once written, then the re-index asked for (its failure only delays it)."""
    if services.businesses is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Businesses are not set up")
    try:
        await services.businesses.update(tenant, compute)
    except BusinessInvalidError as error:
        return _Outcome(False, 422, {"problems": error.problems})
    except BusinessConflictError as error:
        return _Outcome(False, 409, {"managers": error.managers})
    except ItemChangedError as error:
        return _Outcome(False, 409, {"item_changed": True, "changed_item": error.current})
    except (BusinessNotFoundError, BusinessesUnavailableError):
        return _Outcome(False, 503, {"business_unavailable": True})
    await audit(services, principal, action, tenant, None)
    try:
        await services.businesses.request_refresh(tenant)
    except (BusinessNotFoundError, BusinessesUnavailableError):
        return _Outcome(True, status.HTTP_200_OK, {"refresh_pending": True})
    return _Outcome(True)


async def _respond(
    request: Request, services: ConsoleServices, principal: Principal, tenant: str,
    outcome: _Outcome, **extra: Any,
) -> Response:  # fmt: skip
    if outcome.status_code == status.HTTP_303_SEE_OTHER and not extra:
        return RedirectResponse(f"/b/{tenant}/answers", status_code=status.HTTP_303_SEE_OTHER)
    code = outcome.status_code if outcome.status_code != 303 else status.HTTP_200_OK
    return await _page(request, services, principal, tenant, code, **outcome.extra, **extra)


async def _change(
    request: Request, services: ConsoleServices, principal: Principal, tenant: str,
    compute: Compute, action: str, kept: FaqItem | None = None,
) -> Response:  # fmt: skip
    outcome = await _save(services, principal, tenant, compute, action)
    extra = {"kept": kept} if kept is not None and not outcome.saved else {}
    return await _respond(request, services, principal, tenant, outcome, **extra)


@router.post("/b/{namespace}/{name}/answers/faq")
async def add_faq(
    request: Request, namespace: Namespace, name: Name, principal: CsrfDep,
    services: ServicesDep, q: Text, a: AnswerText, language: Language = "",
) -> Response:  # fmt: skip
    tenant = tenant_for(principal, namespace, name, "manage")
    item = FaqItem(q, a, language or None)
    return await _change(request, services, principal, tenant, adding(item), "faq.add", item)


@router.post("/b/{namespace}/{name}/answers/faq/{index}")
async def edit_faq(
    request: Request, namespace: Namespace, name: Name, index: int, principal: CsrfDep,
    services: ServicesDep, q: Text, a: AnswerText, fingerprint: Fingerprint,
    language: Language = "",
) -> Response:  # fmt: skip
    tenant = tenant_for(principal, namespace, name, "manage")
    item = FaqItem(q, a, language or None)
    compute = editing(index, fingerprint, item)
    return await _change(request, services, principal, tenant, compute, "faq.edit", item)


@router.post("/b/{namespace}/{name}/answers/faq/{index}/delete")
async def delete_faq(
    request: Request, namespace: Namespace, name: Name, index: int, principal: CsrfDep,
    services: ServicesDep, fingerprint: Fingerprint,
) -> Response:  # fmt: skip
    tenant = tenant_for(principal, namespace, name, "manage")
    compute = deleting(index, fingerprint)
    return await _change(request, services, principal, tenant, compute, "faq.delete")


@router.post("/b/{namespace}/{name}/answers/groups/{group_id}")
async def answer_group(
    request: Request, namespace: Namespace, name: Name, group_id: str, principal: CsrfDep,
    services: ServicesDep, q: Text, a: AnswerText, members: Members, language: Language = "",
) -> Response:  # fmt: skip
    """One FAQ item (the question as the owner left it, their answer), then the group's
    questions leave the list. The group is found again by the questions the form showed
    (a question that joined it meanwhile changes its id); the questions resolved are the
    agent's, each named by id, time and text hash, never ids alone."""
    tenant = tenant_for(principal, namespace, name, "manage")
    typed = FaqItem(q, a, language or None)
    try:
        groups = await client.groups(services.router.client, tenant)
    except RouterErrors:
        return await _page(request, services, principal, tenant, 503, kept=typed)
    group = matching_group(groups, member_keys(members), group_id)
    if group is None:  # answered meanwhile, or its questions expired: keep the answer
        return await _page(request, services, principal, tenant, 409, kept=typed, gone=True)
    kept = {"kept": typed, "kept_group": group["id"]}
    outcome = await _save(services, principal, tenant, adding(typed), "faq.add")
    if not outcome.saved:
        return await _respond(request, services, principal, tenant, outcome, **kept)
    try:
        await client.resolve(services.router.client, tenant, group.get("members") or [])
    except RouterErrors:
        await audit(services, principal, "unanswered.resolve_failed", tenant, group["id"])
        extra = {**outcome.extra, "resolve_failed": True}
        return await _page(request, services, principal, tenant, **extra)
    await audit(services, principal, "unanswered.answered", tenant, group["id"])
    return await _respond(request, services, principal, tenant, outcome)


@router.post("/b/{namespace}/{name}/answers/try", response_class=HTMLResponse)
async def try_it(
    request: Request, namespace: Namespace, name: Name, principal: CsrfDep,
    services: ServicesDep, text: Text,
) -> Response:  # fmt: skip
    tenant = tenant_for(principal, namespace, name, "read")
    try:
        trial = await client.try_question(services.router.client, tenant, text)
    except RouterErrors:
        return await _page(request, services, principal, tenant, 503, trial_failed=True)
    return await _page(request, services, principal, tenant, trial=trial, tried=text)

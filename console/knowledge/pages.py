"""The Knowledge page: every source with its state in plain words, and for owners the
upload form, a delete button on each upload and "Re-index now".

Forms post back here and are answered with a redirect to the page (which then says what
happened); a refused upload is answered with the page itself, saying why in the reader's
language, and nothing stored. The texts for every refusal are in the template, so the
catalogues hold them; the code only chooses which.
"""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from console.auth.deps import CsrfDep, PrincipalDep, csrf_token
from console.auth.principal import Principal
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.knowledge import actions
from console.knowledge.client import DocumentRefusedError
from console.knowledge.overview import build
from console.services import ConsoleServices
from console.web import render

router = APIRouter(include_in_schema=False)

PAGE = "/b/{namespace}/{name}/knowledge"
# Reasons a page says in words (knowledge.html); any other refusal reads as "refused".
REFUSALS = {
    "too_large", "wrong_content", "not_allowed_type", "bad_name", "name_too_long", "empty",
    "not_found", "no_file", "unavailable",
}  # fmt: skip
NOTICES = {"uploaded", "replaced", "deleted", "reindex"}


def size_text(count: int | None) -> str:
    """A size as an owner reads it: 820 KB, 3.4 MB."""
    if count is None:
        return ""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{max(1, round(count / 1024))} KB"


async def bounded_form(request: Request) -> None:
    """Before the form is read (CsrfDep reads it): refuse a body past the console's bound."""
    actions.check_declared_length(request, actions.MAX_BODY_BYTES + actions.FORM_OVERHEAD_BYTES)


Bounded = Annotated[None, Depends(bounded_form)]


async def _page(
    request: Request, principal: Principal, services: ConsoleServices, tenant: str, **extra: Any
) -> HTMLResponse:
    namespace, name = tenant.split("/")
    overview = await build(services, tenant)
    notice = request.query_params.get("done")
    return render(
        request,
        "knowledge.html",
        status_code=extra.pop("status_code", 200),
        principal=principal,
        tenant=tenant,
        base=f"/b/{namespace}/{name}",
        overview=overview,
        owner=principal.may(tenant, "manage"),
        notice=notice if notice in NOTICES else None,
        notice_file=request.query_params.get("file", ""),
        size_text=size_text,
        limit_text=size_text(overview.max_upload_bytes),
        csrf=csrf_token(request),
        **extra,
    )


def _back(tenant: str, done: str, filename: str = "") -> RedirectResponse:
    query = urlencode({"done": done, **({"file": filename} if filename else {})})
    return RedirectResponse(f"/b/{tenant}/knowledge?{query}", status.HTTP_303_SEE_OTHER)


@router.get(PAGE, response_class=HTMLResponse)
async def knowledge_page(
    request: Request, namespace: Namespace, name: Name, principal: PrincipalDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    return await _page(request, principal, services, tenant)


@router.post(f"{PAGE}/upload", response_class=HTMLResponse)
async def upload_form(
    request: Request,
    namespace: Namespace,
    name: Name,
    signed_in: PrincipalDep,  # first: who asks, before the body is looked at
    bounded: Bounded,  # then: the body's declared size, before CsrfDep reads the form
    principal: CsrfDep,
    services: ServicesDep,
) -> Response:
    """The multipart form's `document`. Read here, not as a Form() parameter: FastAPI
    reads those before any dependency, which would read an unbounded body first."""
    tenant = tenant_for(principal, namespace, name, "manage")  # 404: the not-found page
    document = (await request.form()).get("document")
    filename = _file_name(document.filename) if isinstance(document, UploadFile) else ""
    if not isinstance(document, UploadFile) or not filename:
        return await _refusal(request, principal, services, tenant, "no_file", 422, {}, "")
    try:
        data = await document.read()
        _, created = await actions.upload(services, principal, tenant, filename, data)
    except DocumentRefusedError as error:
        return await _refusal(
            request, principal, services, tenant, error.code, error.status, error.facts, filename
        )
    except actions.Unavailable:
        return await _refusal(request, principal, services, tenant, "unavailable", 503, {}, "")
    return _back(tenant, "uploaded" if created else "replaced", filename)


def _file_name(sent: str | None) -> str:
    """The file's own name (an old browser may send the path it came from)."""
    return (sent or "").replace("\\", "/").rsplit("/", 1)[-1]


@router.post(f"{PAGE}/delete", response_class=HTMLResponse)
async def delete_form(
    request: Request,
    namespace: Namespace,
    name: Name,
    principal: CsrfDep,
    services: ServicesDep,
    file: Annotated[str, Form(min_length=1, max_length=1024)],
) -> Response:
    tenant = tenant_for(principal, namespace, name, "manage")  # 404: the not-found page
    try:
        await actions.delete(services, principal, tenant, file)
    except DocumentRefusedError as error:
        return await _refusal(
            request, principal, services, tenant, error.code, error.status, {}, file
        )
    except actions.Unavailable:
        return await _refusal(request, principal, services, tenant, "unavailable", 503, {}, "")
    return _back(tenant, "deleted", file)


@router.post(f"{PAGE}/reindex", response_class=HTMLResponse)
async def reindex_form(
    request: Request, namespace: Namespace, name: Name, principal: CsrfDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    tenant = tenant_for(principal, namespace, name, "manage")  # 404: the not-found page
    try:
        await actions.reindex(services, principal, tenant)
    except actions.Unavailable:
        return await _refusal(request, principal, services, tenant, "unavailable", 503, {}, "")
    return _back(tenant, "reindex")


async def _refusal(
    request: Request, principal: Principal, services: ConsoleServices, tenant: str, code: str,
    status_code: int, facts: dict[str, Any], filename: str,
) -> HTMLResponse:  # fmt: skip
    limit = facts.get("limit_bytes")
    return await _page(
        request,
        principal,
        services,
        tenant,
        status_code=status_code,
        refusal=code if code in REFUSALS else "refused",
        refused_file=filename,
        refused_limit=size_text(limit) if isinstance(limit, int) else "",
    )

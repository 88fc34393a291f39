"""The owner's Customer data pages: the Business's customers, one customer's page with
Export (a JSON download) and Delete (owners only), and the confirmation step.

Plain HTML forms (no script): the delete form carries the CSRF token as a hidden field.
Customer text reaches the pages only through autoescaped templates.
"""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.auth.deps import CsrfDep, PrincipalDep, csrf_token
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.conversations.pages import not_found
from console.customers.api import export_response
from console.customers.client import CustomerId
from console.customers.data import StorePartFailedError, delete_customer, others_may_remember
from console.router_client import RouterRefusedError, RouterUnavailableError
from console.web import render

router = APIRouter(include_in_schema=False)

PAGE = "/b/{namespace}/{name}/customers"
LISTED = 50


@router.get(PAGE, response_class=HTMLResponse)
async def customers(
    request: Request,
    namespace: Namespace,
    name: Name,
    principal: PrincipalDep,
    services: ServicesDep,
    deleted: bool = False,
    replicas: bool = False,
) -> Response:
    """The newest customers, each a link to their data."""
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    rows = await services.store.conversations(tenant, limit=LISTED)
    return render(
        request,
        "customers.html",
        principal=principal,
        tenant=tenant,
        base=f"/b/{namespace}/{name}",
        rows=rows,
        deleted=deleted,
        replicas=deleted and replicas,
        csrf=csrf_token(request),
    )


@router.get(PAGE + "/{conversation_id}", response_class=HTMLResponse)
async def customer(
    request: Request,
    namespace: Namespace,
    name: Name,
    conversation_id: CustomerId,
    principal: PrincipalDep,
    services: ServicesDep,
    confirm: bool = False,
    failed: bool = False,
    partial: bool = False,
) -> Response:
    """What is kept about one customer; with `confirm`, the delete's confirmation step."""
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    stored = await services.store.export_customer(tenant, conversation_id)
    if stored.conversation is None:
        return not_found(request, HTTPException(status.HTTP_404_NOT_FOUND))
    may_delete = principal.may(tenant, "manage")
    base = f"/b/{namespace}/{name}"
    return render(
        request,
        "customers_confirm.html" if confirm and may_delete else "customers_one.html",
        principal=principal,
        tenant=tenant,
        base=base,
        page_url=f"{base}/customers/{conversation_id}",
        summary=stored.conversation,
        events=len(stored.events),
        may_delete=may_delete,
        failed=failed and not partial,
        partial=failed and partial,
        csrf=csrf_token(request),
    )


@router.get(PAGE + "/{conversation_id}/export")
async def export(
    request: Request,
    namespace: Namespace,
    name: Name,
    conversation_id: CustomerId,
    principal: PrincipalDep,
    services: ServicesDep,
) -> Response:
    try:
        tenant = tenant_for(principal, namespace, name)
        return await export_response(services, principal, tenant, conversation_id)
    except HTTPException as error:
        if error.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
            return _retry(namespace, name, conversation_id)
        return not_found(request, error)


@router.post(PAGE + "/{conversation_id}/delete")
async def delete(
    request: Request,
    namespace: Namespace,
    name: Name,
    conversation_id: CustomerId,
    principal: CsrfDep,
    services: ServicesDep,
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """Delete once confirmed, then back to the list, where the customer is gone."""
    tenant = tenant_for(principal, namespace, name, "manage")  # 404: the not-found page
    base = f"/b/{namespace}/{name}/customers"
    if confirmed != "yes":
        return RedirectResponse(f"{base}/{conversation_id}?confirm=true", status_code=303)
    try:
        deleted = await delete_customer(services, principal, tenant, conversation_id)
    except RouterRefusedError as error:
        return not_found(request, HTTPException(error.status))
    except RouterUnavailableError:
        return _retry(namespace, name, conversation_id)
    except StorePartFailedError:
        return _retry(namespace, name, conversation_id, partial=True)
    if deleted is None:
        return not_found(request, HTTPException(status.HTTP_404_NOT_FOUND))
    done = f"{base}?deleted=true" + ("&replicas=true" if others_may_remember(deleted) else "")
    return RedirectResponse(done, status_code=status.HTTP_303_SEE_OTHER)


def _retry(namespace: str, name: str, conversation_id: str, *, partial: bool = False) -> Response:
    """Back to the customer's page, saying what happened (nothing, or a part) and to try
    again: the retry finishes what a partial deletion left."""
    location = f"/b/{namespace}/{name}/customers/{conversation_id}?failed=true"
    return RedirectResponse(
        location + ("&partial=true" if partial else ""), status_code=status.HTTP_303_SEE_OTHER
    )

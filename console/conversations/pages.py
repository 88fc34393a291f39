"""The owner's pages: their Businesses, a Business's conversations (live), one thread.

Server-rendered and small for a cheap phone. The list follows the events stream through
/static/live.js; the thread's buttons post to the JSON API with the CSRF token through
/static/thread.js. Customer text reaches the page only through autoescaped templates.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AwareDatetime

from console.auth.deps import PrincipalDep, csrf_token
from console.conversations.access import ConversationId, Name, Namespace, ServicesDep, tenant_for
from console.conversations.threads import conversation_page, read_thread
from console.conversations.views import (
    FILTER_LANGUAGES,
    REFUSALS,
    ListFilters,
    business_links,
    event_views,
    row_view,
    thread_customer,
)
from console.web import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/", response_class=HTMLResponse)
async def businesses(request: Request, principal: PrincipalDep) -> Response:
    """Every Business of the principal, or straight to the only one."""
    links = business_links(principal)
    if len(links) == 1:
        return RedirectResponse(links[0].href, status_code=status.HTTP_303_SEE_OTHER)
    return render(
        request,
        "businesses.html",
        principal=principal,
        businesses=links,
        csrf=csrf_token(request),
    )


@router.get("/b/{namespace}/{name}", response_class=HTMLResponse)
async def conversation_list(
    request: Request,
    namespace: Namespace,
    name: Name,
    principal: PrincipalDep,
    services: ServicesDep,
    with_person: bool = False,
    unanswered: bool = False,
    language: Annotated[str | None, Query(max_length=64)] = None,
    before: AwareDatetime | None = None,
    before_id: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    filters = ListFilters(with_person, unanswered, language or None)
    page = await conversation_page(
        services.store,
        tenant,
        with_person=True if with_person else None,
        unanswered=True if unanswered else None,
        language=filters.language,
        before=before,
        before_id=before_id,
        limit=PAGE_SIZE,
    )
    base = f"/b/{namespace}/{name}"
    # The stream sends what changed after the newest row shown (after now, for an empty list).
    newest = page.conversations[0].last_at if page.conversations else services.clock()
    return render(
        request,
        "conversations.html",
        principal=principal,
        tenant=tenant,
        base=base,
        filters=filters,
        filter_languages=FILTER_LANGUAGES,
        rows=[row_view(base, summary) for summary in page.conversations],
        older=filters.query(page.next_before, page.next_before_id) if page.next_before else None,
        paged=before is not None,
        events_url=f"/api/v1/tenants/{namespace}/{name}/events",
        newest=newest.isoformat(),
        csrf=csrf_token(request),
    )


@router.get("/b/{namespace}/{name}/c/{conversation_id}", response_class=HTMLResponse)
async def conversation_thread(
    request: Request,
    namespace: Namespace,
    name: Name,
    conversation_id: ConversationId,
    principal: PrincipalDep,
    services: ServicesDep,
) -> Response:
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    thread = await read_thread(services.store, tenant, conversation_id)
    if thread is None:
        return not_found(request, HTTPException(status.HTTP_404_NOT_FOUND))
    base = f"/b/{namespace}/{name}"
    # The customers' voice notes, photos and documents, each shown in its message's bubble.
    media = await services.store.conversation_media(tenant, conversation_id)
    return render(
        request,
        "thread.html",
        principal=principal,
        tenant=tenant,
        base=base,
        thread=thread,
        customer=thread_customer(thread.events),
        events=event_views(thread.events, media, base),
        may_act=principal.may(tenant, "act"),
        filter_languages=FILTER_LANGUAGES,
        refusals=REFUSALS,
        api=f"/api/v1/tenants/{namespace}/{name}/conversations/{conversation_id}",
        csrf=csrf_token(request),
    )


def not_found(request: Request, error: HTTPException) -> Response:
    """A page of its own for what the principal may not see or that does not exist (the
    same page for both)."""
    if error.status_code != status.HTTP_404_NOT_FOUND:
        raise error
    return render(request, "not_found.html", status_code=status.HTTP_404_NOT_FOUND)

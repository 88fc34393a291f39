"""The conversations JSON API under /api/v1: what the pages show and do, for integrations
and scripts. Every operation needs a principal (401 without one) and a Business it has (404
otherwise); changes need the CSRF token when they come with a session cookie."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from starlette.background import BackgroundTask

from console.auth.deps import CsrfDep, PrincipalDep, current_principal
from console.conversations import actions, live
from console.conversations.access import (
    ConversationId,
    Name,
    Namespace,
    RepliesDep,
    ServicesDep,
    tenant_for,
)
from console.conversations.schemas import (
    ConversationPage,
    Problem,
    ReleaseResult,
    ReplyRequest,
    ReplyResult,
    TakeoverResult,
    TenantAccess,
    TenantList,
    Thread,
)
from console.conversations.threads import conversation_page, read_thread

router = APIRouter(prefix="/api/v1", tags=["conversations"])

CONVERSATION = "/tenants/{namespace}/{name}/conversations/{conversation_id}"
SIGNED_IN: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in: no session, no valid API token"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = SIGNED_IN | {
    404: {"model": Problem, "description": "No such Business for this principal, or no "
          "such conversation in it"},
}  # fmt: skip
CHANGE: dict[int | str, dict[str, Any]] = NOT_FOUND | {
    403: {"model": Problem, "description": "A session's call without its CSRF token"},
    503: {"model": Problem, "description": "The router is not answering; try again"},
}


@router.get("/tenants", response_model=TenantList, responses=SIGNED_IN)
async def list_tenants(principal: PrincipalDep) -> TenantList:
    """The Businesses the principal may see, and their role in each."""
    tenants = []
    for tenant, role in sorted(principal.tenants.items()):
        namespace, _, name = tenant.partition("/")
        tenants.append(TenantAccess(tenant=tenant, namespace=namespace, name=name, role=role))
    return TenantList(tenants=tenants)


@router.get(
    "/tenants/{namespace}/{name}/conversations",
    response_model=ConversationPage,
    responses=NOT_FOUND,
)
async def list_conversations(
    namespace: Namespace,
    name: Name,
    principal: PrincipalDep,
    services: ServicesDep,
    with_person: bool | None = None,
    unanswered: bool | None = None,
    language: Annotated[str | None, Query(max_length=64)] = None,
    before: AwareDatetime | None = None,
    before_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPage:
    """A Business's conversations, newest first, filtered and paged by keyset."""
    tenant = tenant_for(principal, namespace, name)
    return await conversation_page(
        services.store,
        tenant,
        with_person=with_person,
        unanswered=unanswered,
        language=language,
        before=before,
        before_id=before_id,
        limit=limit,
    )


@router.get(CONVERSATION, response_model=Thread, responses=NOT_FOUND)
async def get_thread(
    namespace: Namespace,
    name: Name,
    conversation_id: ConversationId,
    principal: PrincipalDep,
    services: ServicesDep,
) -> Thread:
    """A conversation's whole thread, oldest first."""
    tenant = tenant_for(principal, namespace, name)
    thread = await read_thread(services.store, tenant, conversation_id)
    if thread is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    return thread


@router.post(f"{CONVERSATION}/takeover", response_model=TakeoverResult, responses=CHANGE)
async def take_over(
    namespace: Namespace,
    name: Name,
    conversation_id: ConversationId,
    principal: CsrfDep,
    services: ServicesDep,
) -> TakeoverResult:
    """A person answers from now on; the agent stays quiet until released."""
    tenant = tenant_for(principal, namespace, name, "act")
    with_person = await actions.take_over(services, principal, tenant, conversation_id)
    return TakeoverResult(with_person=with_person)


@router.post(
    f"{CONVERSATION}/reply",
    response_model=ReplyResult,
    responses=CHANGE | {
        409: {"model": Problem, "description": "Not sent, and why: outside_window (the "
              "customer's 24-hour window is closed), restricted, unknown_customer, failed, "
              "reply_id_reused (that reply_id was sent before with other words)"},
    },
)  # fmt: skip
async def reply(
    namespace: Namespace,
    name: Name,
    conversation_id: ConversationId,
    body: ReplyRequest,
    principal: CsrfDep,
    services: ServicesDep,
    replies: RepliesDep,
) -> ReplyResult:
    """Send the customer a person's words, signed with the principal's name."""
    tenant = tenant_for(principal, namespace, name, "act")
    try:
        await actions.reply(
            services, principal, tenant, conversation_id, body.text, replies, body.reply_id
        )
    except actions.ReplyRefusedError as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, refused.reason) from None
    return ReplyResult(sent="free_form")  # anything else was refused (409)


@router.post(f"{CONVERSATION}/release", response_model=ReleaseResult, responses=CHANGE)
async def release(
    namespace: Namespace,
    name: Name,
    conversation_id: ConversationId,
    principal: CsrfDep,
    services: ServicesDep,
) -> ReleaseResult:
    """Give the conversation back to the agent."""
    tenant = tenant_for(principal, namespace, name, "act")
    released = await actions.release(services, principal, tenant, conversation_id)
    return ReleaseResult(released=released)


@router.get(
    "/tenants/{namespace}/{name}/events",
    response_class=StreamingResponse,
    responses=NOT_FOUND | {
        429: {"model": Problem, "description": "The principal has five streams open"},
        200: {
            "description": "Server-sent events: `event: conversation` with a "
            "ConversationSummary as JSON for each conversation that changed; `event: "
            "removed` with {conversation_id} for one that left the newest 50 (it no longer "
            "fits the filters, or newer ones pushed it out); a comment line every 15 s "
            "while nothing does.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
)  # fmt: skip
async def conversation_events(
    namespace: Namespace,
    name: Name,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    since: AwareDatetime | None = None,
    with_person: bool | None = None,
    unanswered: bool | None = None,
    language: Annotated[str | None, Query(max_length=64)] = None,
) -> StreamingResponse:
    """Conversations as they change, among those that fit the filters (as the list's).
    `since`: also send those that changed after this time (the newest one a page already
    shows). At most five streams at once per principal (429 beyond)."""
    tenant = tenant_for(principal, namespace, name)
    slots: live.StreamSlots = request.app.state.stream_slots
    release = slots.take(principal.subject)
    if release is None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "too many open streams: close another tab"
        )

    async def still_allowed() -> bool:
        try:
            again = await current_principal(request)
        except HTTPException:
            return False
        return again.may(tenant)

    ended = live.StreamEnd(request.is_disconnected, still_allowed, live.RECHECK_SECONDS)
    filters = live.Filters(with_person, unanswered, language or None)
    stream = live.conversation_stream(services.store, tenant, ended, since=since, filters=filters)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _releasing(stream, release),
        media_type="text/event-stream",
        headers=headers,
        background=BackgroundTask(release),  # also when the body never started
    )


async def _releasing(stream: AsyncIterator[str], release: Callable[[], None]) -> AsyncIterator[str]:
    """`stream`, giving its slot back however it ends (the client gone, cancelled)."""
    try:
        async for text in stream:
            yield text
    finally:
        release()

"""Admin calls (bearer token): what the owner console does through the router (take a
conversation over, reply as a person, release it back to the agent, send a login code;
the logic is router.console_actions), and the inbox's dead letters (ids, tenant, reason,
size; never the message text).

A refused body is answered with the names of the fields at fault, never their values:
the console's error messages may be logged, and a body holds codes, numbers and words."""

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, status
from pydantic import Field

from katha.contracts.routing import TENANT_PATTERN
from katha.store.events import CONVERSATION_ID_MAX, TENANT_MAX
from router import console_actions
from router.api import admin_media
from router.api.bodies import AdminBody, documented, parse_body
from router.api.deps import ServicesDep, require_admin
from router.console_actions import NotFoundError, RateLimitedError, UnavailableError
from router.handoff import release

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/conversations/{conversation_id}/release")
async def release_conversation(
    conversation_id: str,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, bool]:
    require_admin(services, authorization)
    state = await services.inbox.conversation(conversation_id)
    number = state.phone_number_id
    route = services.routes.route_for(number) if number else None
    released = await release(services.inbox, conversation_id, route, services.history)
    if released:
        services.wake_workers()
    return {"released": released}


@router.get("/dead-letters")
async def list_dead_letters(
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, list[dict[str, Any]]]:
    """The newest dead letters first: inbox entries that could not be loaded."""
    require_admin(services, authorization)
    letters = await services.inbox.dead_letters(limit)
    return {"dead_letters": [dataclasses.asdict(letter) for letter in letters]}


ConversationId = Annotated[str, Path(min_length=1, max_length=CONVERSATION_ID_MAX)]
# WhatsApp's limit on a text message's body.
TEXT_MAX = 4096


class TakeoverBody(AdminBody):
    tenant: str = Field(pattern=TENANT_PATTERN, max_length=TENANT_MAX)


class ReplyBody(AdminBody):
    tenant: str = Field(pattern=TENANT_PATTERN, max_length=TENANT_MAX)
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    author: str = Field(min_length=1, max_length=256)  # who in the console (its audit log)
    # The console's own id for this reply: a retried call is sent and kept once.
    reply_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


class LoginCodeBody(AdminBody):
    owner_number: str = Field(pattern=r"^\+?[0-9][0-9 ()-]{5,23}$")
    code: str = Field(pattern=r"^[A-Za-z0-9]{4,12}$")
    minutes: float = Field(gt=0, le=24 * 60)


def _refused(error: Exception) -> HTTPException:
    if isinstance(error, NotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation for this tenant")
    if isinstance(error, RateLimitedError):
        retry = str(int(console_actions.LOGIN_CODES_PERIOD_SECONDS))
        return HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, str(error), headers={"Retry-After": retry}
        )
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error))


Refusals = (NotFoundError, RateLimitedError, UnavailableError)


@router.post("/conversations/{conversation_id}/takeover", openapi_extra=documented(TakeoverBody))
async def take_over(
    conversation_id: ConversationId,
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, bool]:
    """A person answers the conversation from now; the agent stays quiet in it."""
    require_admin(services, authorization)
    body = await parse_body(request, TakeoverBody)
    try:
        await console_actions.take_over(services, body.tenant, conversation_id)
    except Refusals as error:
        raise _refused(error) from None
    return {"with_person": True}


@router.post("/conversations/{conversation_id}/reply", openapi_extra=documented(ReplyBody))
async def reply(
    conversation_id: ConversationId,
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    """A person's words to the customer: {"sent": "free_form"}, or why nothing was sent
    ("outside_window", "restricted", "unknown_customer", "failed", "reply_id_reused": the
    reply_id was sent before with other words)."""
    require_admin(services, authorization)
    body = await parse_body(request, ReplyBody)
    reply_id = body.reply_id or uuid.uuid4().hex
    try:
        sent = await console_actions.reply(
            services, body.tenant, conversation_id, body.text, reply_id
        )
    except Refusals as error:
        raise _refused(error) from None
    return {"sent": sent}


@router.post("/login-codes", openapi_extra=documented(LoginCodeBody))
async def send_login_code(
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, list[str]]:
    """The code to the owner's WhatsApp from each Business whose owner the number is;
    the tenants it went to (none: the number is nobody's, or nothing could be sent)."""
    require_admin(services, authorization)
    body = await parse_body(request, LoginCodeBody)
    try:
        tenants = await console_actions.send_login_code(
            services, body.owner_number, body.code, body.minutes
        )
    except Refusals as error:
        raise _refused(error) from None
    return {"tenants": tenants}


# The customer's media, under the same /admin prefix (router/api/admin_media.py).
router.include_router(admin_media.router)

"""What a person does in the owner console, carried out by the router (router/api/admin.py
is the HTTP side): taking a conversation over, replying to the customer, and sending an
owner the one-time code that signs them in.

The console holds no WhatsApp credentials and keeps no conversation state of its own: the
router owns both, so a takeover here is the same quiet the agent's handoff and the owner's
WhatsApp Business app (coexistence) give, released by the same `release`.

What is sent follows Meta's rules as the agent's own words do: a person's reply is
free-form words inside the customer's 24-hour window and nothing outside it (a template
is not the person's words; the console tells the owner instead); a login code is words
inside the owner's window and the Business's `loginCode` template (AUTHENTICATION)
outside it. Neither a code, a number nor a reply's words is ever logged.
"""

import asyncio
import dataclasses
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime
from typing import Literal

from katha.contracts.routing import Route
from katha.observability import bind_ids, get_logger
from katha.store import StoreEvent
from router import identity
from router.account import account_state
from router.conversations import handoff_ref, window_open, with_human
from router.envelope import Recipient
from router.graph_api import (
    GraphApiClient,
    GraphApiError,
    GraphApiUnavailableError,
    OutsideWindowError,
)
from router.handoff import CUSTOMER
from router.inbox.base import ConversationState
from router.notification import Sender
from router.outreach import Outgoing, Outreach
from router.services import Services

log = get_logger("router")

TAKEN_OVER = "taken over in the console"
REPLIED = "replied in the console"
# A person's reply, once Meta accepted it, by its reply id: a retried call is not sent
# twice. Kept as long as a console would retry.
SENT = "console-sent:"
SENT_TTL_SECONDS = 86400.0
# Login codes asked for one number: at most LOGIN_CODES_MAX in LOGIN_CODES_PERIOD, so
# the router cannot be used to flood an owner's phone (or Meta's patience with the number).
LOGIN_CODES = "login-codes:"
LOGIN_CODES_MAX = 5
LOGIN_CODES_PERIOD_SECONDS = 15 * 60.0
# A console call waits this long for Meta at most (the console gives up after 10 s);
# what was not sent by then is "try again", never half-known.
SEND_SECONDS = 8.0

# reply_id_reused: the id was sent before with other words (an edited reply needs a new id;
# sending the new words under the old id would tell the person "sent" for words that never
# went out).
ReplyOutcome = Literal[
    "free_form", "outside_window", "restricted", "unknown_customer", "failed", "reply_id_reused"
]


class NotFoundError(LookupError):
    """No such conversation for this tenant (or no such tenant): the same answer for both,
    so a caller learns nothing about another Business's conversations."""


class UnavailableError(RuntimeError):
    """The router cannot do it now (not started, Meta throttling or down): try again."""


class RateLimitedError(RuntimeError):
    """Too many login codes asked for one number lately."""


def digits(number: str) -> str:
    return re.sub(r"\D", "", number)


async def owned(services: Services, tenant: str, conversation_id: str) -> tuple[Route, str]:
    """The route of `tenant`'s conversation and its business number; NotFoundError when
    the tenant has no route, the router never saw the conversation, or another tenant's
    number holds it."""
    _ready(services)
    if not any(route.tenant == tenant for route in services.routes.table.routes):
        raise NotFoundError(tenant)
    state = await services.inbox.conversation(conversation_id)
    number = state.phone_number_id
    route = services.routes.route_for(number) if number else None
    if number is None or route is None or route.tenant != tenant:
        raise NotFoundError(conversation_id)
    return route, number


def _ready(services: Services) -> None:
    if not services.started:
        raise UnavailableError("the router is starting")


async def take_over(services: Services, tenant: str, conversation_id: str) -> None:
    """A person answers this conversation from now: the agent stays quiet in it until
    it is released or the handoff times out."""
    route, _ = await owned(services, tenant, conversation_id)
    timeout = services.settings.handoff_timeout_seconds
    await _hold(services, route, conversation_id, timeout, TAKEN_OVER)


async def _hold(
    services: Services, route: Route, conversation_id: str, seconds: float, reason: str
) -> None:
    """With a person for `seconds` from now, never shortening a longer hold; the store
    hears of it when this starts one (a conversation already with a person is not
    started again)."""
    now = time.time()
    state = await services.inbox.conversation(conversation_id)
    started = not with_human(state, now)
    until = max(now + seconds, state.handoff_until or 0.0)
    held = dataclasses.replace(
        state, handoff_until=until, handoff_ref=state.handoff_ref or handoff_ref(conversation_id)
    )
    await services.inbox.save_conversation(conversation_id, held)
    with bind_ids(tenant=route.tenant, conversation_id=conversation_id):
        log.info("console.took_over" if started else "console.still_with_person")
    if started:
        await _keep(services, _handoff_started(route.tenant, conversation_id, until, reason))


async def _keep(services: Services, event: StoreEvent | None) -> None:
    """Written before the console hears back (its page reloads from the store at once);
    queued like any event when the store is slow or down."""
    if services.history is not None:
        await services.history.write_now(event)


def _handoff_started(tenant: str, conversation_id: str, until: float, reason: str) -> StoreEvent:
    # The event id router.history gives a handoff: one handoff is one event, whoever began it.
    return StoreEvent(
        event_id=f"handoff:{conversation_id}:{int(until)}",
        tenant=tenant,
        conversation_id=conversation_id,
        at=datetime.now(UTC),
        author="system",
        kind="handoff_started",
        handoff_reason=reason,
    )


async def reply(
    services: Services, tenant: str, conversation_id: str, text: str, reply_id: str
) -> ReplyOutcome:
    """A person's words to the customer, free-form inside their 24-hour window; any
    refusal is answered, nothing else sent. Sent once per `reply_id`, kept once in the
    store; a conversation not yet with a person is with one for the owner's quiet period
    after it (as a reply from the WhatsApp Business app does)."""
    route, number = await owned(services, tenant, conversation_id)
    with bind_ids(tenant=tenant, conversation_id=conversation_id):
        outcome = await _send_reply(services, route, number, conversation_id, text, reply_id)
        log.info("console.reply", outcome=outcome)
    if outcome == "free_form":
        await _keep(services, _person_words(tenant, conversation_id, text, reply_id))
        quiet = services.settings.owner_quiet_seconds
        await _hold(services, route, conversation_id, quiet, REPLIED)
    return outcome


async def _send_reply(
    services: Services, route: Route, number: str, conversation_id: str, text: str, reply_id: str
) -> ReplyOutcome:
    inbox, graph = services.inbox, _graph(services)
    marker = f"{SENT}{conversation_id}:{reply_id}"
    # Keyed, so the inbox holds nothing a short reply could be guessed back from.
    digest = hmac.new(services.conversation_key, text.encode(), hashlib.sha256).hexdigest()
    if (earlier := await inbox.record(marker)) is not None:
        # A retried call: Meta has these words already. ("sent": kept before the digest was.)
        return "free_form" if earlier in (digest, "sent") else "reply_id_reused"
    stored = await inbox.record(CUSTOMER + conversation_id)
    if stored is None:
        return "unknown_customer"
    state = await inbox.conversation(conversation_id)
    if not window_open(state, services.settings.reply_window_seconds):
        return "outside_window"
    if not (await account_state(inbox, route.tenant)).may_reply():
        return "restricted"
    token = route.credentials.access_token.get_secret_value()
    try:
        async with asyncio.timeout(SEND_SECONDS):
            await graph.send_text(number, token, Recipient.model_validate_json(stored), text)
    except OutsideWindowError:
        return "outside_window"
    except (GraphApiUnavailableError, TimeoutError) as error:
        log.warning("console.reply_unavailable", reason=type(error).__name__)
        raise UnavailableError("the Graph API is not answering") from error
    except GraphApiError as error:
        log.error("console.reply_failed", code=error.code, status=error.status)
        return "failed"
    await inbox.save_record(marker, digest, ttl_seconds=SENT_TTL_SECONDS)
    return "free_form"


def _graph(services: Services) -> GraphApiClient:
    if services.graph is None:
        raise UnavailableError("this router sends nothing (workers are disabled)")
    return services.graph


def _person_words(tenant: str, conversation_id: str, text: str, reply_id: str) -> StoreEvent:
    return StoreEvent(
        event_id=f"person:{conversation_id}:{reply_id}",
        tenant=tenant,
        conversation_id=conversation_id,
        at=datetime.now(UTC),
        author="person",
        text=text,
    )


def login_code_words(code: str, minutes: float) -> str:
    """The code as words, inside the owner's window (Meta's AUTHENTICATION template says
    much the same outside it)."""
    whole = max(1, round(minutes))
    return f"{code} is your Katha sign-in code. It expires in {whole} minutes. Do not share it."


async def send_login_code(
    services: Services, owner_number: str, code: str, minutes: float
) -> list[str]:
    """Send `code` to `owner_number` from the number of each Business whose owner it is;
    the tenants it went to. RateLimitedError past LOGIN_CODES_MAX a period, counted
    whether or not the number is anyone's (asking tells nothing more)."""
    _ready(services)
    owner = digits(owner_number)
    await _count_login_code(services, owner)
    routes = [
        route
        for route in services.routes.table.routes
        if route.owner_number is not None and digits(route.owner_number) == owner
    ]
    if not routes:
        return []
    outreach = Outreach(
        services.inbox, _graph(services), services.metrics, services.settings.reply_window_seconds
    )
    sent: list[str] = []
    for route in routes:
        with bind_ids(tenant=route.tenant):
            if await _send_code(services, outreach, route, owner, code, minutes):
                sent.append(route.tenant)
                log.info("console.login_code_sent")
            else:
                log.warning("console.login_code_not_sent")
    return sent


async def _send_code(
    services: Services, outreach: Outreach, route: Route, owner: str, code: str, minutes: float
) -> bool:
    number = route.phone_number_id
    key = services.conversation_key
    conversation = await identity.resolve(services.inbox, key, number, Sender(wa_id=owner))
    state: ConversationState = await services.inbox.conversation(conversation)
    outgoing = Outgoing(
        purpose="login_code",
        recipient=Recipient(wa_id=owner),
        conversation_id=conversation,
        text=login_code_words(code, minutes),
        parameters=[code],
        language=state.language,
    )
    try:
        async with asyncio.timeout(SEND_SECONDS):
            return await outreach.send(route, number, outgoing)
    except (GraphApiUnavailableError, TimeoutError) as error:
        log.warning("console.login_code_unavailable", reason=type(error).__name__)
        return False


async def _count_login_code(services: Services, owner: str) -> None:
    """One more code asked for `owner`, or RateLimitedError. Each code takes one of
    LOGIN_CODES_MAX slots, records in the inbox that expire after the period: taking a
    slot is one atomic "set if absent", so concurrent requests on any replica never get
    more than the limit between them. Keyed by a keyed hash of the number, never the
    number."""
    key = hmac.new(services.conversation_key, owner.encode(), hashlib.sha256).hexdigest()[:32]
    for slot in range(LOGIN_CODES_MAX):
        taken = await services.inbox.save_record(
            f"{LOGIN_CODES}{key}:{slot}",
            str(time.time()),
            only_new=True,
            ttl_seconds=LOGIN_CODES_PERIOD_SECONDS,
        )
        if taken:
            return
    log.warning("console.login_codes_limited")
    raise RateLimitedError("too many login codes for this number")

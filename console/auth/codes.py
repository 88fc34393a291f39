"""Sign-in with a one-time code sent to the Business owner's number on WhatsApp.

The owner types their number; the router sends an 8-digit code from every Business whose
owner it is and says which Businesses those were. The page answers the same whatever
happened, and no sooner than MIN_ANSWER_SECONDS after the request, so nobody can learn from
it whether a number owns a Business. The store keeps only HMACs (of the code, bound to its
pending sign-in, and of the number), with the Businesses, the attempts made and the expiry;
the browser holds the pending sign-in's random id in a cookie limited to /signin.

Guessing is bounded three ways: five wrong codes and a code dies; a number gets at most
FAILED_PER_NUMBER wrong codes in FAILED_WINDOW over all its codes; and codes are
rate-limited per number (always) and per client (only with `trusted_proxies`: behind an
Ingress, without them, every client has the controller's address and a per-client limit
would be one limit for everyone). The limits count rows in the store, so every replica
agrees, and a request's own row is written before it counts: of many requests at once,
no more than the limit reach the router.
"""

import asyncio
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.auth.deps import audit_subject, client_ip, remember_client, services_of
from console.auth.keys import keyed_hash, plain_hash, same
from console.auth.pages import safe_next, signin_page, verify_page
from console.auth.principal import Role
from console.auth.sessions import SESSION_COOKIE, clear_cookie, set_cookie, start_session, tables
from console.router_client import RouterRefusedError, RouterUnavailableError
from console.services import ConsoleServices
from katha.contracts.routing import TENANT_PATTERN
from katha.observability import get_logger
from katha.store.console_tables import LoginCodeRow

log = get_logger("console.auth")
router = APIRouter(include_in_schema=False)

CODE_COOKIE = "katha_code"
CODE_PATH = "/signin"
CODE_DIGITS = 8
MAX_ATTEMPTS = 5  # wrong codes before a code dies
FAILED_PER_NUMBER = 10  # wrong codes a number may get, over all its codes, per FAILED_WINDOW
FAILED_WINDOW = timedelta(hours=24)
RATE_WINDOW = timedelta(minutes=15)
CODES_PER_NUMBER = 3  # per RATE_WINDOW
CODES_PER_CLIENT = 10  # per RATE_WINDOW: one office may sign in a few owners
OWNER_DISPLAY = "Owner"  # what pages show for a code sign-in: never the number
# /signin/code answers no sooner than this after the request came, so that a number that
# owns nothing (the router answers at once) looks like one that owns a Business (the router
# sends a WhatsApp message first). A router slower than this still shows the difference.
MIN_ANSWER_SECONDS = 2.5


def digits_of(number: str) -> str | None:
    """The number as digits with its country code, or None when it cannot be one."""
    digits = re.sub(r"[\s\-().+]", "", number)
    return digits if re.fullmatch(r"[0-9]{8,15}", digits) else None


def code_hash(services: ConsoleServices, code_id: str, code: str) -> str:
    return keyed_hash(services.settings, "code", f"{code_id}:{code}")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


@router.get("/signin")
async def signin(request: Request, next: str = "/") -> HTMLResponse:
    return signin_page(request, services_of(request).settings, next_path=next)


@router.post("/signin/code")
async def ask_for_code(
    request: Request, number: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    loop = asyncio.get_running_loop()
    answer_at = loop.time() + MIN_ANSWER_SECONDS
    response = await _ask_for_code(request, number, next)
    await pause(answer_at - loop.time())
    return response


async def pause(seconds: float) -> None:
    """Wait before answering (tests watch what is waited for, not the clock)."""
    if seconds > 0:
        await asyncio.sleep(seconds)


async def _ask_for_code(request: Request, number: str, next_path: str) -> Response:
    services = services_of(request)
    settings, now = services.settings, services.clock()
    digits = digits_of(number)
    if digits is None:
        return signin_page(request, settings, next_path=next_path, error="number", status_code=400)
    code, pending = new_code(), secrets.token_urlsafe(32)
    row = _pending_row(services, request, now, pending, code, digits)
    store = tables(services)
    await store.add_login_code(row)  # counted by the limits before anything is sent
    if await _limited(services, now, row):
        await store.delete_login_code(row.id)
        return signin_page(request, settings, next_path=next_path, error="limit", status_code=429)
    try:
        tenants = await services.router.send_login_code(digits, code, settings.code_minutes)
    except RouterUnavailableError:
        await store.delete_login_code(row.id)  # nothing was sent: it takes no slot
        return signin_page(request, settings, next_path=next_path, error="router", status_code=503)
    except RouterRefusedError as error:
        if error.status == 429:
            await store.delete_login_code(row.id)
            return signin_page(
                request, settings, next_path=next_path, error="limit", status_code=429
            )
        log.warning("console.login_code_refused", status=error.status)
        tenants = []
    granted = sorted({tenant for tenant in tenants if re.fullmatch(TENANT_PATTERN, tenant)})
    if granted:
        await store.set_login_code_tenants(row.id, granted)
    page = verify_page(request, settings, next_path=next_path)
    set_cookie(page, settings, CODE_COOKIE, pending, int(settings.code_minutes * 60), CODE_PATH)
    return page


def _pending_row(
    services: ConsoleServices, request: Request, now: datetime, pending: str, code: str, digits: str
) -> LoginCodeRow:
    """The code's row, before the router has said which Businesses it went to."""
    settings = services.settings
    code_id = plain_hash(pending)
    return LoginCodeRow(
        id=code_id,
        code_hash=code_hash(services, code_id, code),
        number_hash=keyed_hash(settings, "number", digits),
        client_hash=keyed_hash(settings, "client", client_ip(request) or ""),
        tenants=[],
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.code_minutes),
    )


async def _limited(services: ConsoleServices, now: datetime, row: LoginCodeRow) -> bool:
    """Whether `row` (already stored) is one code too many for its number or its client."""
    store = tables(services)
    since = now - RATE_WINDOW
    if await store.login_codes_since(since, number_hash=row.number_hash) > CODES_PER_NUMBER:
        return True
    if not services.settings.proxies():
        return False  # the address would be the proxy's, the same for everyone
    return await store.login_codes_since(since, client_hash=row.client_hash) > CODES_PER_CLIENT


@router.get("/signin/verify")
async def verify_form(request: Request, next: str = "/") -> Response:
    if not request.cookies.get(CODE_COOKIE):
        return RedirectResponse("/signin", status_code=303)
    return verify_page(request, services_of(request).settings, next_path=next)


@router.post("/signin/verify")
async def verify(
    request: Request, code: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    remember_client(request)
    services = services_of(request)
    settings = services.settings
    pending = request.cookies.get(CODE_COOKIE)
    if not pending:
        return RedirectResponse("/signin", status_code=303)
    code_id = plain_hash(pending)
    store, now = tables(services), services.clock()
    budget = (now - FAILED_WINDOW, FAILED_PER_NUMBER)
    row = await store.spend_attempt(code_id, now, MAX_ATTEMPTS, budget=budget)
    if row is None:
        return await _refused(request, services, code_id, next)
    subject = f"code:{row.number_hash}"
    typed = re.sub(r"\s", "", code)
    right = same(row.code_hash, code_hash(services, code_id, typed)) and bool(row.tenants)
    if not right:
        await audit_subject(services, subject, "sign_in_failed", list(row.tenants), "code")
        if row.attempts >= MAX_ATTEMPTS:
            return _dead(request, services, next)
        return verify_page(request, settings, next_path=next, error="wrong", status_code=400)
    if not await store.consume_login_code(code_id):
        return _dead(request, services, next)  # the same code, used at the same moment
    response = RedirectResponse(safe_next(next), status_code=303)
    tenants: dict[str, Role] = dict.fromkeys(row.tenants, "owner")
    await start_session(
        services, response, subject=subject, display=OWNER_DISPLAY, tenants=tenants,
        previous=request.cookies.get(SESSION_COOKIE),
    )  # fmt: skip
    clear_cookie(response, settings, CODE_COOKIE, CODE_PATH)
    await audit_subject(services, subject, "sign_in", list(row.tenants), "code")
    return response


async def _refused(
    request: Request, services: ConsoleServices, code_id: str, next_path: str
) -> Response:
    """No attempt may be made: the number is out of wrong codes for today, or the code
    can no longer be used."""
    row = await tables(services).login_code(code_id)
    if row is not None:
        since = services.clock() - FAILED_WINDOW
        failed = await tables(services).failed_attempts(row.number_hash, since)
        if failed >= FAILED_PER_NUMBER:
            return _dead(request, services, next_path, "tired")
    return _dead(request, services, next_path)


def _dead(
    request: Request, services: ConsoleServices, next_path: str, reason: str = "dead"
) -> Response:
    """The code can no longer be used (unknown, expired, out of attempts, used), or
    (`tired`) its number has had too many wrong codes today."""
    page = signin_page(
        request, services.settings, next_path=next_path, error=reason, status_code=400
    )
    clear_cookie(page, services.settings, CODE_COOKIE, CODE_PATH)
    return page

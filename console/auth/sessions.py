"""Sessions: a random id in the `katha_session` cookie, its SHA-256 in the store.

The cookie is HttpOnly (no script reads it), SameSite=Lax (another site's form posts go
without it), Secure unless `secure_cookies` is off (plain-HTTP `katha up` on 127.0.0.1),
Path=/. A session ends at `session_hours` after sign-in, whatever happens in between, or
sooner when unused for `session_idle_minutes`; signing in again in a browser ends the session
it held before. Its CSRF token is an HMAC of the session id, so it needs no storage and dies
with the session.
"""

import secrets
from datetime import timedelta

from fastapi import Response

from console.auth.keys import keyed_hash, plain_hash
from console.auth.principal import Principal, Role
from console.services import ConsoleServices
from console.settings import ConsoleSettings
from katha.store.console_tables import ConsoleTables, SessionRow

SESSION_COOKIE = "katha_session"
# How stale `last_seen_at` may get before a request writes it again: not a write per page.
TOUCH_AFTER = timedelta(minutes=1)
ROLES: tuple[Role, ...] = ("owner", "staff")


def tables(services: ConsoleServices) -> ConsoleTables:
    return ConsoleTables.of(services.store)


def set_cookie(
    response: Response,
    settings: ConsoleSettings,
    name: str,
    value: str,
    max_age: int,
    path: str = "/",
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, samesite="lax",
        secure=settings.secure_cookies,
    )  # fmt: skip


def clear_cookie(response: Response, settings: ConsoleSettings, name: str, path: str = "/") -> None:
    response.delete_cookie(
        name, path=path, httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def csrf_for(settings: ConsoleSettings, session_token: str) -> str:
    return keyed_hash(settings, "csrf", session_token)


async def start_session(
    services: ConsoleServices,
    response: Response,
    *,
    subject: str,
    display: str,
    tenants: dict[str, Role],
    previous: str | None = None,
) -> str:
    """Store a new session and give its cookie to `response`; the cookie's value.
    `previous`: the session cookie the browser came with, ended here (one browser, one
    session: a shared phone's earlier sign-in does not live on beside the new one)."""
    if previous:
        await end_session(services, previous)
    token = secrets.token_urlsafe(32)
    now = services.clock()
    lifetime = timedelta(hours=services.settings.session_hours)
    row = SessionRow(
        id=plain_hash(token),
        subject=subject,
        display=display,
        tenants=dict(tenants),
        created_at=now,
        expires_at=now + lifetime,
        last_seen_at=now,
    )
    await tables(services).add_session(row)
    max_age = int(lifetime.total_seconds())
    set_cookie(response, services.settings, SESSION_COOKIE, token, max_age)
    return token


async def session_principal(services: ConsoleServices, token: str) -> Principal | None:
    """The principal of a live session, or None (unknown, expired or signed out)."""
    now = services.clock()
    store = tables(services)
    idle = timedelta(minutes=services.settings.session_idle_minutes)
    row = await store.session(plain_hash(token), now, idle_since=now - idle)
    if row is None:
        return None
    if now - row.last_seen_at > TOUCH_AFTER:
        await store.touch_session(row.id, now)
    roles: dict[str, Role] = {}
    for tenant, role in row.tenants.items():
        if role in ROLES:
            roles[tenant] = "owner" if role == "owner" else "staff"
    return Principal(subject=row.subject, display=row.display, tenants=roles, via="session")


async def end_session(services: ConsoleServices, token: str) -> None:
    await tables(services).delete_session(plain_hash(token))

"""What every console endpoint uses to know who is asking and what they may do.

    @router.post("/api/v1/tenants/{namespace}/{name}/conversations/{id}/takeover")
    async def takeover(namespace: str, name: str, id: str, principal: CsrfDep, ...):
        require(principal, f"{namespace}/{name}", "act")        # 404 unless allowed
        ...
        await audit(services, principal, "takeover", f"{namespace}/{name}", id)

- `PrincipalDep`: the caller, from the `katha_session` cookie or an `Authorization: Bearer`
  API token. Nobody signed in: 401 under /api/, a redirect to /signin for pages.
- `CsrfDep`: the same principal, once a state-changing request made with a session has
  shown its CSRF token (header `X-CSRF-Token`, or form field `csrf`); 403 otherwise. API
  tokens are exempt: a browser never sends them by itself.
- `require(principal, tenant, action)`: 404 unless the principal may (never 403: nobody
  learns that another Business exists).
- `csrf_token(request)`: the token a page puts in its forms and its fetch headers.
- `audit(services, principal, action, tenant, target)`: one row in the audit log, with the
  client's IP address (remembered by `current_principal` for this request).
"""

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request

from console.auth.api_tokens import token_principal
from console.auth.keys import same
from console.auth.principal import Action, Principal
from console.auth.sessions import SESSION_COOKIE, csrf_for, session_principal
from console.services import ConsoleServices
from katha.store.console_tables import TARGET_MAX, AuditRow, ConsoleTables

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

# The client of the request being served: set by `current_principal`, read by `audit`, so
# that every caller of `audit` records it without passing the request along.
_client_ip: ContextVar[str | None] = ContextVar("console_client_ip", default=None)


def services_of(request: Request) -> ConsoleServices:
    services: ConsoleServices = request.app.state.services
    return services


def client_ip(request: Request) -> str | None:
    """The client's address: uvicorn puts X-Forwarded-For's here when the request came
    through one of `trusted_proxies`; otherwise the peer's own (behind an Ingress without
    them, the controller's: the same for everyone)."""
    return request.client.host if request.client else None


def remember_client(request: Request) -> None:
    """Make this request's client the one `audit` records (sign-in pages call it)."""
    _client_ip.set(client_ip(request))


def unauthenticated(request: Request) -> HTTPException:
    """401 for the API; for a page, a redirect to sign in that comes back here."""
    if request.url.path.startswith("/api/"):
        return HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/signin?{urlencode({'next': back})}"
    return HTTPException(303, "sign in first", headers={"Location": location})


async def current_principal(request: Request) -> Principal:
    """The signed-in caller; raises `unauthenticated(request)` when there is none."""
    remember_client(request)
    services = services_of(request)
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    principal: Principal | None = None
    if scheme.lower() == "bearer" and credential.strip():
        principal = await token_principal(services, credential.strip())
    elif not scheme and (token := request.cookies.get(SESSION_COOKIE)):
        principal = await session_principal(services, token)
    if principal is None:
        raise unauthenticated(request)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(principal: Principal, tenant: str, action: Action = "read") -> None:
    """Raise 404 unless `principal` may do `action` on `tenant` ("namespace/name")."""
    if not principal.may(tenant, action):
        raise HTTPException(404, "no such Business")


def csrf_token(request: Request) -> str:
    """This session's CSRF token, for a page's forms and scripts ("" without a session)."""
    token = request.cookies.get(SESSION_COOKIE)
    return csrf_for(services_of(request).settings, token) if token else ""


async def _csrf_checked(request: Request, principal: PrincipalDep) -> Principal:
    if principal.via != "session" or request.method in SAFE_METHODS:
        return principal
    shown = request.headers.get(CSRF_HEADER, "")
    if not shown and request.headers.get("content-type", "").startswith(FORMS):
        value = (await request.form()).get(CSRF_FIELD)
        shown = value if isinstance(value, str) else ""
    expected = csrf_token(request)
    if not shown or not expected or not same(shown, expected):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page")
    return principal


CsrfDep = Annotated[Principal, Depends(_csrf_checked)]


async def audit(
    services: ConsoleServices,
    principal: Principal,
    action: str,
    tenant: str | None,
    target: str | None,
) -> None:
    """Record that `principal` did `action` on `target` of `tenant`, now, from the client
    of the request being served."""
    await audit_subject(services, principal.subject, action, [tenant], target)


async def audit_subject(
    services: ConsoleServices,
    subject: str,
    action: str,
    tenants: Sequence[str | None],
    target: str | None,
) -> None:
    """One audit row per tenant (a sign-in into three Businesses shows in each one's log)."""
    at, ip = services.clock(), _client_ip.get()
    rows = [
        AuditRow(
            at=at,
            subject=subject,
            action=action,
            tenant=tenant,
            target=target[:TARGET_MAX] if target else None,
            client_ip=ip,
        )
        for tenant in (tenants or [None])
    ]
    await ConsoleTables.of(services.store).add_audit(*rows)

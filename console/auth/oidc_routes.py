"""Sign-in with OpenID Connect: the authorization code flow with PKCE.

GET /signin/oidc sends the browser to the provider with a fresh state, nonce and PKCE
challenge; the three travel back to the callback in a short signed cookie (limited to
/signin/oidc, SameSite=Lax so that the provider's redirect back still carries it). The
callback checks the state, trades the code for an ID token, verifies it (console.auth.oidc)
and signs the user in to the Businesses its claim names.
"""

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.auth.deps import audit_subject, remember_client, services_of
from console.auth.keys import same, sign, unsign
from console.auth.oidc import OidcClient, OidcError, businesses, display_name
from console.auth.pages import message_page, oidc_enabled, safe_next
from console.auth.sessions import SESSION_COOKIE, clear_cookie, set_cookie, start_session
from console.services import ConsoleServices
from katha.observability import get_logger

log = get_logger("console.auth")
router = APIRouter(include_in_schema=False)

OIDC_COOKIE = "katha_oidc"
OIDC_PATH = "/signin/oidc"
FLOW_MINUTES = 10  # how long the user may take at the provider


def redirect_uri(services: ConsoleServices) -> str:
    return f"{services.settings.public_url.rstrip('/')}/signin/oidc/callback"


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@router.get("/signin/oidc")
async def start(request: Request, next: str = "/") -> Response:
    services = services_of(request)
    settings, now = services.settings, services.clock()
    if not oidc_enabled(settings):
        return message_page(request, "no_oidc", 404)
    try:
        client = OidcClient.of(settings)
        document = await client.discovery()
    except OidcError as error:
        log.warning("console.oidc_unavailable", reason=str(error))
        return message_page(request, "oidc_failed", 503)
    flow = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": secrets.token_urlsafe(48),
        "next": safe_next(next),
    }
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri(services),
        "scope": "openid profile email",
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": challenge_of(flow["verifier"]),
        "code_challenge_method": "S256",
    }
    if document.get("claims_parameter_supported"):
        claim = settings.oidc_businesses_claim
        query["claims"] = f'{{"id_token":{{"{claim}":{{"essential":true}}}}}}'
    response = RedirectResponse(f"{document['authorization_endpoint']}?{urlencode(query)}", 303)
    cookie = sign(settings, "oidc", flow, now + timedelta(minutes=FLOW_MINUTES))
    set_cookie(response, settings, OIDC_COOKIE, cookie, FLOW_MINUTES * 60, OIDC_PATH)
    return response


@router.get("/signin/oidc/callback")
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    remember_client(request)
    services = services_of(request)
    settings = services.settings
    if not oidc_enabled(settings):
        return message_page(request, "no_oidc", 404)
    flow = unsign(settings, "oidc", request.cookies.get(OIDC_COOKIE, ""), services.clock())
    if flow is None:
        # No sign-in of this browser's is under way: anyone may call this address, so it
        # is neither logged nor audited (the audit table must not grow at a stranger's will).
        page = message_page(request, "oidc_failed", 400)
        clear_cookie(page, settings, OIDC_COOKIE, OIDC_PATH)
        return page
    if error or not code or not same(state, str(flow.get("state", ""))):
        reason = "the provider refused" if error else "the state is not this sign-in's"
        return await _failed(request, services, reason)
    client = OidcClient.of(settings)
    try:
        id_token = await client.exchange(code, str(flow["verifier"]), redirect_uri(services))
        claims = await client.verify(id_token, str(flow["nonce"]))
    except OidcError as failure:
        return await _failed(request, services, str(failure))
    subject = f"oidc:{claims['iss']}#{claims['sub']}"
    granted = businesses(claims, settings.oidc_businesses_claim)
    if not granted:
        await audit_subject(services, subject, "sign_in_failed", [None], "oidc: no Business")
        page = message_page(request, "no_business", 403)
        clear_cookie(page, settings, OIDC_COOKIE, OIDC_PATH)
        return page
    response = RedirectResponse(safe_next(str(flow.get("next", "/"))), status_code=303)
    await start_session(
        services, response, subject=subject, display=display_name(claims), tenants=granted,
        previous=request.cookies.get(SESSION_COOKIE),
    )  # fmt: skip
    clear_cookie(response, settings, OIDC_COOKIE, OIDC_PATH)
    await audit_subject(services, subject, "sign_in", sorted(granted), "oidc")
    return response


async def _failed(request: Request, services: ConsoleServices, reason: str) -> Response:
    log.warning("console.oidc_sign_in_failed", reason=reason)
    await audit_subject(services, "oidc:unverified", "sign_in_failed", [None], f"oidc: {reason}")
    page = message_page(request, "oidc_failed", 400)
    clear_cookie(page, services.settings, OIDC_COOKIE, OIDC_PATH)
    return page

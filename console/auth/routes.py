"""Sign-in routes: the one-time code (console.auth.codes), OpenID Connect
(console.auth.oidc_routes), sign-out, and the API tokens of a Business
(console.auth.token_routes)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console.auth.codes import router as codes_router
from console.auth.deps import CsrfDep, audit_subject, services_of
from console.auth.oidc_routes import router as oidc_router
from console.auth.sessions import SESSION_COOKIE, clear_cookie, end_session
from console.auth.token_routes import router as token_router

router = APIRouter()
router.include_router(codes_router)
router.include_router(oidc_router)
router.include_router(token_router)


@router.post("/signout", include_in_schema=False)
async def sign_out(request: Request, principal: CsrfDep) -> RedirectResponse:
    """End this session (a form posting `csrf`, or fetch with X-CSRF-Token)."""
    services = services_of(request)
    response = RedirectResponse("/signin", status_code=303)
    token = request.cookies.get(SESSION_COOKIE)
    if principal.via == "session" and token:
        await end_session(services, token)
        await audit_subject(
            services, principal.subject, "sign_out", sorted(principal.tenants), None
        )
    clear_cookie(response, services.settings, SESSION_COOKIE)
    return response

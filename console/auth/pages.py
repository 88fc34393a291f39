"""What the sign-in pages share: where to go afterwards, and the pages themselves."""

from fastapi import Request
from fastapi.responses import HTMLResponse

from console.settings import ConsoleSettings
from console.web import render


def safe_next(value: str | None) -> str:
    """A path on this console to return to after sign-in; "/" for anything else (another
    site, `//host`, a backslash trick), so sign-in never sends anyone away."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def oidc_enabled(settings: ConsoleSettings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret)


def signin_page(
    request: Request,
    settings: ConsoleSettings,
    *,
    next_path: str = "/",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page that asks for the owner's number (and offers OpenID Connect)."""
    return render(
        request,
        "signin.html",
        status_code=status_code,
        next_path=safe_next(next_path),
        error=error,
        oidc=oidc_enabled(settings),
    )


def verify_page(
    request: Request,
    settings: ConsoleSettings,
    *,
    next_path: str = "/",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page that asks for the code: the same whatever the number was."""
    return render(
        request,
        "signin_verify.html",
        status_code=status_code,
        next_path=safe_next(next_path),
        error=error,
        minutes=int(settings.code_minutes),
    )


def message_page(request: Request, message: str, status_code: int) -> HTMLResponse:
    """A short page that says what went wrong and links back to sign-in."""
    return render(request, "signin_message.html", status_code=status_code, message=message)

"""What every page answer carries for the browser's own defences, and where a page may
send the browser back to.

The headers: no caching of pages that show customers' words (a shared phone's back button,
a proxy), a Content-Security-Policy that runs only the console's own /static scripts and
styles (the pages have no inline script, style or handler, so a customer's markup that got
through would still not run), no framing (clickjacking), no Referer to other sites (the
thread's source links), and no MIME sniffing.
"""

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
DEFAULT_PORTS = {"http": 80, "https": 443}


class PageHeaders:
    """ASGI middleware: PAGE_HEADERS on every HTML answer, nosniff on every answer. Plain
    ASGI (it only edits the answer's first message), so event streams pass as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in PAGE_HEADERS.items():
                        headers[name] = value
                elif "x-content-type-options" not in headers:
                    headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_site_path(referer: str | None, public_url: str) -> str:
    """Where to send the browser back to: the path and query of `referer` when it is on
    this console (the scheme, host and port of `public_url`, or a path of its own); "/"
    for anything else: another site, one whose name merely begins with ours, `//host`."""
    if not referer:
        return "/"
    try:
        parts = urlsplit(referer)
    except ValueError:  # not even a URL ("http://[::1")
        return "/"
    elsewhere = _origin(referer) != _origin(public_url) or parts.username or parts.password
    if (parts.scheme or parts.netloc) and elsewhere:
        return "/"
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")

"""A customer's voice note, photo or document, as the thread page plays, shows or offers it.

GET /b/{namespace}/{name}/media/{media_id}: the principal must see the Business (the same
check as the thread page: 404 otherwise, a redirect to sign in when nobody is signed in).
The bytes come from the router's admin API, which asks the conversation store for that
Business's file only, so another Business's media id is 404 too. The console never calls
the Graph API: the router fetched the file when the customer sent it.

What the browser gets is a customer's file shown inside the console's own origin, so it is
never cached (a shared phone), never sniffed into another type, never allowed to run
(`sandbox`), and anything but a known audio, image or video type (a PDF, a spreadsheet,
whatever a customer sends) is a download, never rendered as a page.
"""

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from console.auth.deps import PrincipalDep
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.router_client import (
    MediaDownload,
    RouterRefusedError,
    RouterUnavailableError,
    open_media,
)
from katha.observability import get_logger

router = APIRouter(include_in_schema=False)

log = get_logger("console")

# The router's own pattern for a media id (router/api/admin_media.py): Meta's are digits.
MediaId = Annotated[str, Path(max_length=256, pattern=r"^[A-Za-z0-9_.-]+$")]
# The types a browser plays or shows itself and that cannot carry a page or a script: what
# the router accepts for voice notes, photos, stickers and videos (router/media_types.py).
INLINE_TYPES = frozenset(
    {
        "audio/ogg",
        "audio/opus",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "video/3gpp",
    }
)
# `type/subtype` and its parameters, as the router sends it; anything else is not passed on.
CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;[ -~]*)?$")
# The file name as the router writes it (RFC 5987, every unsafe byte %-quoted).
FILENAME = re.compile(r"filename\*=UTF-8''([A-Za-z0-9%._~-]{1,1000})")
PRIVATE = {
    "Cache-Control": "no-store, private",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
RETRY_SECONDS = "30"


@router.get("/b/{namespace}/{name}/media/{media_id}", response_model=None)
async def customer_media(
    namespace: Namespace,
    name: Name,
    media_id: MediaId,
    principal: PrincipalDep,
    services: ServicesDep,
) -> Response:
    """One of the Business's customers' files, streamed from the router."""
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    try:
        download = await open_media(services.router.client, tenant, media_id)
    except RouterUnavailableError as error:
        log.warning("media.router_unavailable", tenant=tenant, reason=str(error))
        headers = {**PRIVATE, "Retry-After": RETRY_SECONDS}
        return Response(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
    except RouterRefusedError as error:  # the admin token or the call itself is wrong
        log.error("media.router_refused", tenant=tenant, status=error.status)
        return Response(status_code=status.HTTP_502_BAD_GATEWAY, headers=PRIVATE)
    if download is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such media")
    return StreamingResponse(
        download.chunks(),
        media_type=content_type(download.mime_type),
        headers=file_headers(download),
        background=BackgroundTask(download.aclose),  # also when the reader hangs up
    )


def content_type(value: str) -> str:
    """The router's Content-Type, when it is one; else plain bytes."""
    return value if CONTENT_TYPE.match(value) else "application/octet-stream"


def file_headers(download: MediaDownload) -> dict[str, str]:
    """PRIVATE, the length, and how the browser should take the file: inline only when the
    router offered it inline and its type is one a browser merely plays or shows."""
    essence = download.mime_type.split(";", 1)[0].strip().lower()
    inline = download.disposition.startswith("inline") and essence in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    if found := FILENAME.search(download.disposition):
        disposition += f"; filename*=UTF-8''{found.group(1)}"
    headers = {**PRIVATE, "Content-Disposition": disposition}
    if download.length is not None and download.length.isdigit():
        headers["Content-Length"] = download.length
    return headers

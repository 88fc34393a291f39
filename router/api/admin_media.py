"""Admin call for a customer's media (the owner console plays a voice note, shows a photo,
opens a document): the file the router fetched from the Graph API and kept in the
conversation store beside the conversation.

- GET /admin/tenants/{namespace}/{name}/media/{media_id} -> the bytes, with their type

Only that Business's media is found (the store's query names the tenant): another
Business's media id answers 404, like one that never existed or was deleted with its
conversation. The answer is never cached (`no-store`), never sniffed into another type,
and a document is offered as a download, never rendered in the console's own origin.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import Response

from katha.observability import get_logger
from router.api.deps import AdminServicesDep
from router.media import store_of

router = APIRouter(tags=["admin"])

log = get_logger("router")

Namespace = Annotated[str, Path(max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
Name = Annotated[str, Path(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
MediaId = Annotated[str, Path(max_length=256, pattern=r"^[A-Za-z0-9_.-]+$")]
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes.", "content": {"application/octet-stream": {}}},
    404: {"description": "No such media for this Business, or no conversation store."},
    503: {"description": "The conversation store did not answer: try again."},
}
# Shown in the page (a player, an image); anything else is downloaded.
INLINE_KINDS = frozenset({"audio", "image", "video", "sticker"})


@router.get(
    "/tenants/{namespace}/{name}/media/{media_id}",
    responses=ANSWERS,
    response_class=Response,
)
async def customer_media(
    services: AdminServicesDep, namespace: Namespace, name: Name, media_id: MediaId
) -> Response:
    """One customer's media file of this Business."""
    store = store_of(services.history)
    if store is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no conversation store is configured")
    tenant = f"{namespace}/{name}"
    try:
        found = await store.media(tenant, media_id)
    except Exception as error:
        log.warning("media.read_failed", tenant=tenant, reason=type(error).__name__)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the conversation store did not answer"
        ) from error
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such media for this Business")
    disposition = "inline" if found.kind in INLINE_KINDS else "attachment"
    if found.filename:
        disposition += f"; filename*=UTF-8''{quote(found.filename, safe='')}"
    return Response(
        content=found.content,
        media_type=found.mime_type,
        headers={
            "Cache-Control": "no-store, private",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": disposition,
            # Nothing in the file may run as the console's page.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )

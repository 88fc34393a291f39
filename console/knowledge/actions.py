"""What the Knowledge page and API change, each an owner's (`manage`) act with one audit row
naming the file, never its content: store an upload, delete one, ask for a re-index.

Uploads and deletions go console -> router admin -> the tenant's agent, into the
Business's document store; the index writer's next run (asked for with "Re-index now", or
on its schedule) indexes them. A refused file is refused before anything is stored.
"""

from fastapi import HTTPException, Request, status

from console.auth.deps import audit
from console.auth.principal import Principal
from console.businesses import BusinessesUnavailableError, BusinessNotFoundError
from console.knowledge.client import DocumentRefusedError, delete_document, put_document
from console.router_client import RouterUnavailableError
from console.services import ConsoleServices

# The most the console reads of one upload: the router's own bound (the agent's limit,
# lower, is what the owner is told). A multipart form adds a little around the file.
MAX_BODY_BYTES = 64 * 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024


class ReindexUnavailableError(RuntimeError):
    """No `Businesses` is set up, or it could not be reached: the request was not made."""


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse (413) a body declared larger than `limit`, and one that does not declare its
    length (411), before anything reads it: the console never reads an unbounded upload.
    (The agent's own limit, far lower, is what owners normally meet, in their language.)"""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise HTTPException(status.HTTP_411_LENGTH_REQUIRED, "say the upload's length")
    if int(declared) > limit:
        detail = {"code": "too_large", "message": "larger than any upload may be"}
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail | {"limit_bytes": limit})


async def upload(
    services: ConsoleServices, principal: Principal, tenant: str, filename: str, data: bytes
) -> tuple[dict[str, object], bool]:
    """Store the file for the writer's next run; DocumentRefusedError says why not."""
    try:
        stored, created = await put_document(services.router.client, tenant, filename, data)
    except DocumentRefusedError:
        await audit(services, principal, "knowledge.upload_refused", tenant, filename)
        raise
    await audit(services, principal, "knowledge.upload", tenant, filename)
    return stored, created


async def delete(
    services: ConsoleServices, principal: Principal, tenant: str, filename: str
) -> None:
    await delete_document(services.router.client, tenant, filename)
    await audit(services, principal, "knowledge.delete", tenant, filename)


async def reindex(services: ConsoleServices, principal: Principal, tenant: str) -> None:
    """Ask the one index writer for a run now (uploads included)."""
    if services.businesses is None:
        raise ReindexUnavailableError("no Businesses are set up for this console")
    try:
        await services.businesses.request_refresh(tenant)
    except BusinessNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such Business") from error
    except BusinessesUnavailableError as error:
        raise ReindexUnavailableError(str(error)) from error
    await audit(services, principal, "knowledge.reindex", tenant, None)


Unavailable = (RouterUnavailableError, ReindexUnavailableError)

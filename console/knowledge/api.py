"""The Knowledge API under /api/v1, mirroring the page:

- GET    /tenants/{ns}/{name}/knowledge                        every source with its state
- PUT    /tenants/{ns}/{name}/knowledge/documents/{filename}   raw body -> 201 new, 200 replaced
- DELETE /tenants/{ns}/{name}/knowledge/documents/{filename}   -> 204
- POST   /tenants/{ns}/{name}/knowledge/reindex                -> 202 (the writer runs soon)

Reading needs `read`; changing needs `manage` (owners), a CSRF token with a session, and
leaves an audit row. 401 without a principal, 404 for a Business it lacks. A refused
upload is `{"detail": {"code", "message", ...}}` (413 too_large with limit_bytes; 422
wrong_content, not_allowed_type, bad_name, name_too_long, empty), and nothing is stored.
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse, Response

from console.auth.deps import CsrfDep, PrincipalDep
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.conversations.api import NOT_FOUND
from console.knowledge import actions
from console.knowledge.client import DocumentRefusedError
from console.knowledge.overview import KnowledgeOverview, build
from katha.observability import get_logger

router = APIRouter(prefix="/api/v1", tags=["knowledge"])
log = get_logger("console.knowledge")
UNAVAILABLE = "the router, the agent or the Business store did not answer: try again later"

KNOWLEDGE = "/tenants/{namespace}/{name}/knowledge"
FileName = Annotated[str, Path(min_length=1, max_length=1024)]
CHANGE: dict[int | str, dict[str, Any]] = NOT_FOUND | {
    403: {"description": "A session without its CSRF token."},
    413: {"description": "Larger than the Business's upload limit (detail.limit_bytes)."},
    422: {"description": "A name or content that may not be uploaded (detail.code)."},
    503: {"description": "The router, the agent or the Business store did not answer."},
}


def refused(error: DocumentRefusedError) -> HTTPException:
    detail = {"code": error.code, "message": error.message, **error.facts}
    return HTTPException(error.status, detail)


def unavailable(error: Exception) -> HTTPException:
    """A fixed answer: the error's text may carry an OS error with the console's own paths
    (FileBusinesses) or the router's address, which are no caller's business. The log
    says which kind of failure it was, never its text."""
    cause = error.__cause__
    log.warning(
        "knowledge.unavailable",
        reason=type(error).__name__,
        cause=type(cause).__name__ if cause is not None else None,
    )
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE)


@router.get(KNOWLEDGE, response_model=KnowledgeOverview, responses=NOT_FOUND)
async def knowledge(
    namespace: Namespace, name: Name, principal: PrincipalDep, services: ServicesDep
) -> KnowledgeOverview:
    """Every source (the spec's, the owner's FAQ, the uploads) with its state, chunks and
    the writer's reason when it failed; the last run and the upload limit."""
    return await build(services, tenant_for(principal, namespace, name))


@router.put(
    f"{KNOWLEDGE}/documents/{{filename}}",
    responses=CHANGE,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def put_document(
    namespace: Namespace,
    name: Name,
    filename: FileName,
    request: Request,
    principal: CsrfDep,
    services: ServicesDep,
) -> Response:
    tenant = tenant_for(principal, namespace, name, "manage")
    try:
        actions.check_declared_length(request, actions.MAX_BODY_BYTES)
        data = await request.body()
        stored, created = await actions.upload(services, principal, tenant, filename, data)
    except DocumentRefusedError as error:
        raise refused(error) from error
    except actions.Unavailable as error:
        raise unavailable(error) from error
    return JSONResponse(stored, status_code=201 if created else 200)


@router.delete(f"{KNOWLEDGE}/documents/{{filename}}", status_code=204, responses=CHANGE)
async def delete_document(
    namespace: Namespace,
    name: Name,
    filename: FileName,
    principal: CsrfDep,
    services: ServicesDep,
) -> Response:
    tenant = tenant_for(principal, namespace, name, "manage")
    try:
        await actions.delete(services, principal, tenant, filename)
    except DocumentRefusedError as error:
        raise refused(error) from error
    except actions.Unavailable as error:
        raise unavailable(error) from error
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(f"{KNOWLEDGE}/reindex", status_code=202, responses=CHANGE)
async def reindex(
    namespace: Namespace, name: Name, principal: CsrfDep, services: ServicesDep
) -> dict[str, bool]:
    """Ask the index writer for a run now; the page shows its result when it finished."""
    tenant = tenant_for(principal, namespace, name, "manage")
    try:
        await actions.reindex(services, principal, tenant)
    except actions.Unavailable as error:
        raise unavailable(error) from error
    return {"requested": True}

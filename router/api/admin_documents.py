"""Admin calls for a Business's uploaded documents and what its index holds (the owner
console's Knowledge page): the router forwards them to the tenant's agent
(router.agent_admin), which has the Business's document store; the index writer's next
run indexes what is there.

- GET    /admin/tenants/{namespace}/{name}/documents              -> the agent's list
- PUT    /admin/tenants/{namespace}/{name}/documents/{filename}   raw body -> 201 / 200
- DELETE /admin/tenants/{namespace}/{name}/documents/{filename}   -> 204
- GET    /admin/tenants/{namespace}/{name}/knowledge/sources      -> the committed sources

No route for the Business (or it is suspended): 404; its agent not answering: 503; the
agent's refusal (4xx) is passed on with its detail (a code and words, never the file).
The body is read with a limit, so a client cannot make the router hold more than that.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse, Response

from router.api.agent_calls import ask_agent
from router.api.deps import AdminServicesDep
from router.services import Services

router = APIRouter(prefix="/admin", tags=["admin"])

# Above any KATHA_AGENT_MAX_UPLOAD_BYTES the agent accepts (at most 64 MiB): the agent
# says the real limit in its refusal; this only bounds what the router holds in memory.
UPLOAD_MAX_BYTES = 64 * 1024 * 1024
# A large file over a slow link to the agent's store takes longer than a message does.
UPLOAD_TIMEOUT_SECONDS = 120.0

Namespace = Annotated[str, Path(max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
Name = Annotated[str, Path(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
FileName = Annotated[str, Path(min_length=1, max_length=1024)]
TENANT = "/tenants/{namespace}/{name}"
ANSWERS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No agent routed for this Business, or no such document."},
    413: {"description": "Larger than the agent's upload limit."},
    422: {"description": "A name or content the agent refuses (detail.code says why)."},
    503: {"description": "The agent or its document store did not answer: try again."},
}


async def _forward(
    services: Services, tenant: str, method: str, path: str, **options: Any
) -> Response:
    """The agent's answer to `method path`, as the console reads it."""
    answer = await ask_agent(services, tenant, method, path, **options)
    if answer.status_code == status.HTTP_204_NO_CONTENT:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code >= 500:
        detail = body.get("detail") if isinstance(body, dict) else None
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail or "the agent failed")
    if answer.status_code >= 400:
        detail = body.get("detail") if isinstance(body, dict) else None
        raise HTTPException(
            answer.status_code, detail or f"the agent refused ({answer.status_code})"
        )
    return JSONResponse(body, status_code=answer.status_code)


@router.get(f"{TENANT}/documents", responses=ANSWERS)
async def list_documents(namespace: Namespace, name: Name, services: AdminServicesDep) -> Response:
    return await _forward(services, f"{namespace}/{name}", "GET", "/v1/documents")


@router.put(
    f"{TENANT}/documents/{{filename}}",
    responses=ANSWERS,
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
    services: AdminServicesDep,
) -> Response:
    data = await _body(request)
    return await _forward(
        services,
        f"{namespace}/{name}",
        "PUT",
        f"/v1/documents/{quote(filename, safe='')}",
        content=data,
        headers={"content-type": "application/octet-stream"},
        timeout_seconds=UPLOAD_TIMEOUT_SECONDS,
    )


@router.delete(f"{TENANT}/documents/{{filename}}", status_code=204, responses=ANSWERS)
async def delete_document(
    namespace: Namespace, name: Name, filename: FileName, services: AdminServicesDep
) -> Response:
    path = f"/v1/documents/{quote(filename, safe='')}"
    return await _forward(services, f"{namespace}/{name}", "DELETE", path)


@router.get(f"{TENANT}/knowledge/sources", responses=ANSWERS)
async def knowledge_sources(
    namespace: Namespace, name: Name, services: AdminServicesDep
) -> Response:
    return await _forward(services, f"{namespace}/{name}", "GET", "/v1/knowledge/sources")


async def _body(request: Request) -> bytes:
    """The body, refused with 413 once it passes UPLOAD_MAX_BYTES (declared or streamed)."""
    refusal = HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        {"code": "too_large", "message": "larger than any upload may be",
         "limit_bytes": UPLOAD_MAX_BYTES},
    )  # fmt: skip
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > UPLOAD_MAX_BYTES:
        raise refusal
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > UPLOAD_MAX_BYTES:
            raise refusal
        chunks.append(chunk)
    return b"".join(chunks)

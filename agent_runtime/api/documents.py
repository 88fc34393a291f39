"""The Business's uploaded documents and what its index holds, for the owner console
(which reaches them through the router's admin API, router/api/admin_documents.py):

- `GET /v1/documents`: the uploads (name, size, kind, modified, source).
- `PUT /v1/documents/{name}`: the raw body stored as `name` (201 new, 200 replaced); the
  index writer's next run indexes it. Refused with 413 past KATHA_AGENT_MAX_UPLOAD_BYTES,
  422 for a name or content that is wrong; nothing is stored then.
- `DELETE /v1/documents/{name}`: 204; the writer's next run drops its chunks.
- `GET /v1/knowledge/sources`: every source of the committed index, with its chunks.

A refusal's `detail` is `{"code", "message", ...}`: the code for the console to say in the
owner's language, never a byte of the file. A store that cannot be reached is 503.
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from agent_runtime.api.deps import AgentDep
from agent_runtime.documents import (
    DocumentRefusedError,
    Documents,
    DocumentStoreError,
    indexed_sources,
    too_large,
)

router = APIRouter(tags=["documents"])

# Generous here: checked_name says the rule in words; this only bounds the path.
FileName = Annotated[str, Path(min_length=1, max_length=1024)]
REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No uploaded document has that name."},
    413: {"description": "Larger than KATHA_AGENT_MAX_UPLOAD_BYTES."},
    422: {"description": "A name or content that may not be uploaded (detail.code says)."},
    503: {"description": "The document store cannot be reached now."},
}


def _refused(error: DocumentRefusedError) -> HTTPException:
    return HTTPException(error.status, error.detail())


def _unavailable(error: DocumentStoreError) -> HTTPException:
    detail = {"code": "store_unavailable", "message": str(error)}
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail)


@router.get("/v1/documents", responses=REFUSALS)
async def list_documents(agent: AgentDep) -> dict[str, Any]:
    documents = Documents.of(agent.knowledge, agent.settings.max_upload_bytes)
    try:
        found = await run_in_threadpool(documents.list)
    except DocumentStoreError as error:
        raise _unavailable(error) from error
    return {
        "documents": [document.as_json() for document in found],
        "max_bytes": documents.max_bytes,
    }


@router.put(
    "/v1/documents/{name}",
    responses=REFUSALS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def put_document(name: FileName, request: Request, agent: AgentDep) -> Response:
    documents = Documents.of(agent.knowledge, agent.settings.max_upload_bytes)
    data = await _body(request, documents.max_bytes)
    try:
        document, created = await run_in_threadpool(documents.put, name, data)
    except DocumentRefusedError as error:
        raise _refused(error) from error
    except DocumentStoreError as error:
        raise _unavailable(error) from error
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return JSONResponse(document.as_json(), status_code=code)


@router.delete("/v1/documents/{name}", status_code=204, responses=REFUSALS)
async def delete_document(name: FileName, agent: AgentDep) -> Response:
    documents = Documents.of(agent.knowledge, agent.settings.max_upload_bytes)
    try:
        await run_in_threadpool(documents.delete, name)
    except DocumentRefusedError as error:
        raise _refused(error) from error
    except DocumentStoreError as error:
        raise _unavailable(error) from error
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/knowledge/sources")
async def knowledge_sources(agent: AgentDep) -> dict[str, Any]:
    """What the committed index the agent answers from holds, per source."""
    sources: dict[str, Any] = await run_in_threadpool(indexed_sources, agent.knowledge)
    return sources


async def _body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused (413) as soon as it passes `max_bytes`: a declared length
    before reading anything, a streamed one at the first chunk past the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _refused(too_large(max_bytes))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _refused(too_large(max_bytes))
        chunks.append(chunk)
    return b"".join(chunks)

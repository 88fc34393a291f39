"""The router's admin calls for a Business's documents (router/api/admin_documents.py), as
the console makes them: console -> router admin -> the tenant's agent, which has the
document store; the console never reaches an agent itself.

Errors read as `RouterAdmin`'s do: RouterUnavailableError (no answer, or 5xx: try again),
RouterRefusedError (4xx); a refusal of a document is DocumentRefusedError, carrying the
agent's `code` (too_large, wrong_content, not_allowed_type, bad_name, ...) for the page to
say in the owner's language.
"""

from typing import Any

import httpx

from console.router_client import RouterRefusedError, admin_path, call_router

# An upload crosses two hops to a store that may be a bucket: longer than a message.
UPLOAD_TIMEOUT_SECONDS = 150.0


class DocumentRefusedError(RouterRefusedError):
    """The router or the agent refused the call; `code` and `facts` say why."""

    def __init__(self, status: int, code: str, message: str, facts: dict[str, Any]) -> None:
        super().__init__(status, message)
        self.code = code
        self.message = message
        self.facts = facts


def _refusal(response: httpx.Response) -> DocumentRefusedError:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict):
        facts = {k: v for k, v in detail.items() if k not in ("code", "message")}
        code, message = str(detail.get("code", "refused")), str(detail.get("message", ""))
        return DocumentRefusedError(response.status_code, code, message, facts)
    code = "not_found" if response.status_code == 404 else "refused"
    return DocumentRefusedError(response.status_code, code, str(detail or ""), {})


async def list_documents(client: httpx.AsyncClient, tenant: str) -> dict[str, Any]:
    """{"documents": [{name, size, kind, modified, source}], "max_bytes": N}."""
    path = admin_path(tenant, "documents")
    answer: dict[str, Any] = (await call_router(client, "GET", path, _refusal)).json()
    return answer


async def put_document(
    client: httpx.AsyncClient, tenant: str, filename: str, data: bytes
) -> tuple[dict[str, Any], bool]:
    """The stored document, and whether it is new (False: a file of that name replaced)."""
    response = await call_router(
        client,
        "PUT",
        admin_path(tenant, "documents", filename),
        _refusal,
        content=data,
        headers={"content-type": "application/octet-stream"},
        timeout=UPLOAD_TIMEOUT_SECONDS,
    )
    stored: dict[str, Any] = response.json()
    return stored, response.status_code == 201


async def delete_document(client: httpx.AsyncClient, tenant: str, filename: str) -> None:
    await call_router(client, "DELETE", admin_path(tenant, "documents", filename), _refusal)


async def knowledge_sources(client: httpx.AsyncClient, tenant: str) -> dict[str, Any]:
    """{"index_version", "last_indexed", "sources": [{source, chunks, documents, pages}]}."""
    path = admin_path(tenant, "knowledge", "sources")
    response = await call_router(client, "GET", path, _refusal)
    answer: dict[str, Any] = response.json()
    return answer

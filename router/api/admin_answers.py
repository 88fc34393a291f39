"""Admin calls for what the agent could not answer and for trying a question (the owner
console's Answers page): the router forwards them to the tenant's agent
(router.agent_admin), which holds the unanswered list and answers the trial question.

The bodies hold customers' and the owner's words: passed through, never logged."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import Field

from router.api.agent_calls import ask_agent

# A refused body is answered naming the fields at fault, never their values (admin.py).
from router.api.bodies import AdminBody, documented, parse_body
from router.api.deps import AdminServicesDep
from router.services import Services

router = APIRouter(prefix="/admin", tags=["admin"])

# Kubernetes names: a DNS label (namespace) and a DNS subdomain (Business name).
Namespace = Annotated[str, Path(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
Name = Annotated[str, Path(pattern=r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$", max_length=253)]
# The agent keeps at most 500 questions; WhatsApp's limit on a text message's body.
IDS_MAX = 500
TEXT_MAX = 4096
# The largest id SQLite stores (the agent's list is SQLite).
SQLITE_INT_MAX = 2**63 - 1


class Member(AdminBody):
    """One question as the groups call named it: the agent deletes a row only when its
    id, time and text hash all match (replicas may keep lists of their own)."""

    id: int = Field(ge=1, le=SQLITE_INT_MAX)
    at: datetime
    hash: str = Field(pattern=r"^[0-9a-f]{16}$")


class ResolveBody(AdminBody):
    questions: Annotated[list[Member], Field(min_length=1, max_length=IDS_MAX)]


class TryBody(AdminBody):
    text: str = Field(min_length=1, max_length=TEXT_MAX)


@router.get("/tenants/{namespace}/{name}/unanswered/groups")
async def unanswered_groups(
    namespace: Namespace, name: Name, services: AdminServicesDep
) -> dict[str, Any]:
    """The tenant's unanswered and handed-over questions, grouped by meaning."""
    return await _forward(services, f"{namespace}/{name}", "GET", "/v1/unanswered/groups")


@router.post(
    "/tenants/{namespace}/{name}/unanswered/resolve", openapi_extra=documented(ResolveBody)
)
async def resolve_unanswered(
    namespace: Namespace, name: Name, request: Request, services: AdminServicesDep
) -> dict[str, Any]:
    """The owner answered these questions: the agent deletes them from its list."""
    body = await parse_body(request, ResolveBody)
    return await _forward(
        services,
        f"{namespace}/{name}",
        "POST",
        "/v1/unanswered/resolve",
        json=body.model_dump(mode="json"),
    )


@router.post("/tenants/{namespace}/{name}/try", openapi_extra=documented(TryBody))
async def try_question(
    namespace: Namespace, name: Name, request: Request, services: AdminServicesDep
) -> dict[str, Any]:
    """The agent's answer to a question as a customer would ask it; nothing is kept."""
    body = await parse_body(request, TryBody)
    return await _forward(
        services, f"{namespace}/{name}", "POST", "/v1/try", json=body.model_dump()
    )


async def _forward(
    services: Services, tenant: str, method: str, path: str, **options: Any
) -> dict[str, Any]:
    """The agent's JSON answer; 404 when no agent serves the tenant, 503 when it is down
    or answers with an error (its detail is not passed on: it may quote the body)."""
    response = await ask_agent(services, tenant, method, path, **options)
    if response.status_code == status.HTTP_422_UNPROCESSABLE_CONTENT:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the agent refused the body")
    if response.status_code != status.HTTP_200_OK:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the agent answered {response.status_code}"
        )
    answer: dict[str, Any] = response.json()
    return answer

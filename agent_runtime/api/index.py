"""`GET /v1/index` (what the index holds) and `POST /v1/index/refresh` (re-ingest now)."""

from typing import Any

from fastapi import APIRouter, HTTPException, status

from agent_runtime.api.deps import AgentDep
from agent_runtime.knowledge import IndexReadOnlyError
from katha.contracts.serving import INDEX_PATH

router = APIRouter()


@router.get(INDEX_PATH)
def index_stats(agent: AgentDep) -> dict[str, Any]:
    return agent.knowledge.stats().model_dump(mode="json", by_alias=True)


@router.post(
    f"{INDEX_PATH}/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    responses={status.HTTP_409_CONFLICT: {"description": "This agent serves a read-only index."}},
)
def refresh_index(agent: AgentDep) -> dict[str, Any]:
    try:
        started = agent.knowledge.refresh()
    except IndexReadOnlyError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return {"started": started, "state": agent.knowledge.state.value}

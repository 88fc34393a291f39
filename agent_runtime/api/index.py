"""`GET /v1/index` (what the index holds) and `POST /v1/index/refresh` (re-ingest now)."""

from typing import Any

from fastapi import APIRouter, status

from agent_runtime.api.deps import AgentDep
from katha.serving import INDEX_PATH

router = APIRouter()


@router.get(INDEX_PATH)
def index_stats(agent: AgentDep) -> dict[str, Any]:
    return agent.knowledge.stats().model_dump(mode="json", by_alias=True)


@router.post(f"{INDEX_PATH}/refresh", status_code=status.HTTP_202_ACCEPTED)
def refresh_index(agent: AgentDep) -> dict[str, Any]:
    started = agent.knowledge.refresh()
    return {"started": started, "state": agent.knowledge.state.value}

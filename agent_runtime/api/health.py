"""`GET /healthz` (the process is up) and `GET /readyz` (index open, model reachable)."""

import time

import httpx
from fastapi import APIRouter, Response, status

from agent_runtime.api.deps import AgentDep

router = APIRouter()
# A model endpoint that answered is not asked again for this long.
MODEL_CHECK_SECONDS = 30.0
_checked: dict[str, float] = {}


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(agent: AgentDep, response: Response) -> dict[str, object]:
    index_open = agent.knowledge.snapshot is not None
    model_ok = model_reachable(agent.args.llm.base_url) if agent.args.llm else True
    ready = index_open and model_ok
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"ready": ready, "index": agent.knowledge.state.value, "model": model_ok}


def model_reachable(base_url: str) -> bool:
    """GET {base_url}/models answers (any status below 500): the endpoint is up."""
    now = time.monotonic()
    if now - _checked.get(base_url, -MODEL_CHECK_SECONDS) < MODEL_CHECK_SECONDS:
        return True
    try:
        answered = httpx.get(f"{base_url.rstrip('/')}/models", timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False
    if answered:
        _checked[base_url] = now
    return answered

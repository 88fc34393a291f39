"""`GET /v1/unanswered`: what customers asked that the knowledge could not answer."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from agent_runtime.api.deps import AgentDep
from agent_runtime.unanswered import UNANSWERED_KEPT

router = APIRouter()


@router.get("/v1/unanswered")
def unanswered(
    agent: AgentDep, limit: Annotated[int, Query(ge=1, le=UNANSWERED_KEPT)] = 100
) -> dict[str, Any]:
    """The newest `limit` questions (oldest first), and how many are kept, per language."""
    report = agent.unanswered.report(limit)
    questions = [
        {"at": item.at.isoformat(), "language": item.language, "text": item.text}
        for item in report.questions
    ]
    return {"questions": questions, "total": report.total, "by_language": report.by_language}

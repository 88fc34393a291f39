"""The owner's loop on what the agent could not answer (agent_runtime.answers): the
questions grouped by meaning, deleting the ones the owner answered, and a trial question
that no customer sees. The router's admin API calls these for the console
(router/api/admin_answers.py); the texts go back in the body and are never logged."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from agent_runtime.answers import QuestionGroup, grouped, trial
from agent_runtime.api.deps import AgentDep
from agent_runtime.unanswered import (
    TEXT_CHARS,
    UNANSWERED_KEPT,
    QuestionKey,
    Unanswered,
)

router = APIRouter()
# The largest id SQLite stores (the agent's list is SQLite).
SQLITE_INT_MAX = 2**63 - 1


class Member(BaseModel):
    """One question as the groups call named it: id, time and text hash, all three."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int = Field(ge=1, le=SQLITE_INT_MAX)
    at: datetime
    hash: str = Field(pattern=r"^[0-9a-f]{16}$")


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    questions: list[Member] = Field(min_length=1, max_length=UNANSWERED_KEPT)


class TryBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = Field(min_length=1, max_length=TEXT_CHARS)


@router.get("/v1/unanswered/groups")
def groups(agent: AgentDep) -> dict[str, Any]:
    """Every kept question in a group; the most asked groups first. A plain `def`: the
    embedder is a blocking call, run in the thread pool."""
    found = grouped(agent)
    return {
        "groups": [group_json(group) for group in found],
        "total": sum(group.count for group in found),
    }


@router.post("/v1/unanswered/resolve")
def resolve(body: ResolveBody, agent: AgentDep) -> dict[str, int]:
    """The owner answered these questions: they leave the list (only a row whose id, time
    and text all match: on another replica's list the same id is another question)."""
    keys = [QuestionKey(member.id, member.at, member.hash) for member in body.questions]
    return {"resolved": agent.unanswered.resolve(keys)}


@router.post("/v1/try")
def try_question(body: TryBody, agent: AgentDep) -> dict[str, Any]:
    """The agent's answer to a question as a customer would ask it, recorded nowhere."""
    return trial(agent, body.text)


def group_json(group: QuestionGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "representative": group.representative,
        "language": group.representative_language,
        "count": group.count,
        "languages": group.languages,
        "reasons": group.reasons,
        "first_seen": group.first_seen.isoformat(),
        "last_seen": group.last_seen.isoformat(),
        "ids": group.ids,
        "members": [member_json(QuestionKey.of(item)) for item in group.members],
        "examples": [question_json(item) for item in group.examples],
    }


def member_json(key: QuestionKey) -> dict[str, Any]:
    return {"id": key.id, "at": key.at.isoformat(), "hash": key.hash}


def question_json(item: Unanswered) -> dict[str, Any]:
    return {"id": item.id, "at": item.at.isoformat(), "language": item.language, "text": item.text}

"""One customer's data held by the agent: the conversation memory (LangGraph checkpoints)
and the questions kept on the owner's unanswered list. Exported for the owner, deleted
when the owner deletes the customer, and both stores kept within the Business's
retention period every day, whether or not anyone writes.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from agent_runtime.agent import Agent
from agent_runtime.memory import forget_conversation, forget_expired, remembered
from katha.observability import get_logger

log = get_logger("agent")

RETENTION_EVERY_SECONDS = 86400.0
# Set by the operator only when replicas on several nodes share the index volume: each
# pod then keeps its state in its own folder of it (render/index.py serving_storage).
POD_NAME_ENV = "KATHA_POD_NAME"
SHARED, REPLICA = "shared", "replica"


def state_scope(agent: Agent) -> dict[str, str]:
    """Whether what this agent keeps is every replica's (one store they all write) or
    this replica's own: the operator gives each pod its own state folder when the index
    is in object storage (a pod-local emptyDir) or on a volume across nodes (a folder
    per pod), so a deletion that reached this replica leaves the others' copies until
    their retention. Conversation memory in Postgres is shared in every layout."""
    own = bool(os.environ.get(POD_NAME_ENV)) or not agent.knowledge.location.is_local
    unanswered = REPLICA if own else SHARED
    memory = SHARED if agent.settings.postgres_url is not None else unanswered
    return {"memory": memory, "unanswered": unanswered}


def export_customer(agent: Agent, conversation_id: str) -> dict[str, Any]:
    """What the agent keeps about one conversation, as JSON the owner can read."""
    questions = [
        {
            "at": item.at.isoformat(),
            "language": item.language,
            "text": item.text,
            "reason": item.reason,
        }
        for item in agent.unanswered.export_conversation(conversation_id)
    ]
    return {
        "conversation_id": conversation_id,
        "memory": remembered(agent.saver, conversation_id),
        "unanswered": questions,
        "state": state_scope(agent),
    }


def forget_customer(agent: Agent, conversation_id: str) -> dict[str, int]:
    """Delete one conversation's memory and unanswered questions; how many of each went
    (zeros when deleted already)."""
    checkpoints = forget_conversation(agent.saver, conversation_id)
    questions = agent.unanswered.forget_conversation(conversation_id)
    log.info("customer.forgotten", checkpoints=checkpoints, questions=questions)
    return {"checkpoints": checkpoints, "unanswered": questions}


def apply_retention(agent: Agent) -> int:
    """One retention pass over both stores: memory untouched for longer than the
    retention period, and questions older than it, are deleted. How many conversations'
    memories went."""
    gone = forget_expired(agent.saver, agent.retention, agent.clock)
    agent.unanswered.report(limit=1)  # reading the list applies its retention first
    return gone


async def keep_retention(agent: Agent, every_seconds: float = RETENTION_EVERY_SECONDS) -> None:
    """Apply the retention period every `every_seconds` until cancelled: a quiet agent
    (no message, nobody reading the list) forgets on time too. The agent applies it once
    as it starts (Agent.start), so this waits first."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await asyncio.to_thread(apply_retention, agent)
        except Exception as error:  # the next day tries again; answering goes on
            log.warning("retention.failed", reason=type(error).__name__)


@asynccontextmanager
async def retention_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The daily retention task for the app's life (included with the customers API)."""
    task = asyncio.create_task(keep_retention(app.state.agent))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

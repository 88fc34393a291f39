"""`POST /v1/messages`: the router's contract (katha.contracts.messages)."""

from fastapi import APIRouter, HTTPException, status

from agent_runtime.agent import WrongTenantError
from agent_runtime.api.deps import AgentDep
from katha.contracts.messages import AGENT_MESSAGES_PATH, AgentReply, InboundMessage

router = APIRouter()


@router.post(AGENT_MESSAGES_PATH, response_model=AgentReply)
def post_message(message: InboundMessage, agent: AgentDep) -> AgentReply:
    # A plain `def`: retrieval and the model are blocking calls, run in the thread pool.
    try:
        return agent.reply(message)
    except WrongTenantError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error

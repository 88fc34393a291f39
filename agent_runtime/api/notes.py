"""`POST /v1/notes`: the owner's own words to a customer, kept in the conversation's memory."""

from fastapi import APIRouter, HTTPException, Response, status

from agent_runtime.agent import WrongTenantError
from agent_runtime.api.deps import AgentDep
from katha.contracts.messages import AGENT_NOTES_PATH, OwnerNote

router = APIRouter()


@router.post(
    AGENT_NOTES_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={status.HTTP_409_CONFLICT: {"description": "The note is for another tenant."}},
)
def post_note(note: OwnerNote, agent: AgentDep) -> Response:
    # 204 whether the note is new or a redelivered echo: the router need not tell them apart.
    # A plain `def`: the conversation store is a blocking call, run in the thread pool.
    try:
        agent.keep_note(note)
    except WrongTenantError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return Response(status_code=status.HTTP_204_NO_CONTENT)

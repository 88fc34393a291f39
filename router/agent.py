"""The tenant's agent, called per katha/contracts/messages.py: `POST {endpoint}/v1/messages`."""

from pydantic import ValidationError

from katha.contracts.messages import (
    AGENT_MESSAGES_PATH,
    AGENT_NOTES_PATH,
    AgentReply,
    InboundMessage,
    OwnerNote,
)
from router.http import JsonPoster, PostFailedError


class AgentUnavailableError(RuntimeError):
    """The agent did not answer usably (down, slow, 5xx, nonsense); try again later."""


class AgentRefusedError(RuntimeError):
    """The agent answered 4xx: asking again would get the same answer."""


class AgentClient:
    def __init__(self, poster: JsonPoster, timeout_seconds: float) -> None:
        self._poster = poster
        self._timeout = timeout_seconds

    async def ask(self, endpoint: str, message: InboundMessage) -> AgentReply:
        url = endpoint.rstrip("/") + AGENT_MESSAGES_PATH
        body = message.model_dump_json(exclude_none=True).encode()
        try:
            response = await self._poster.post(url, body, timeout_seconds=self._timeout)
        except PostFailedError as error:
            raise AgentUnavailableError(f"{error} calling the agent") from error
        if not response.is_success:
            raise AgentUnavailableError(f"the agent answered HTTP {response.status}")
        try:
            return AgentReply.model_validate_json(response.body)
        except ValidationError as error:
            raise AgentUnavailableError("the agent's answer breaks the contract") from error

    async def note(self, endpoint: str, note: OwnerNote) -> None:
        """Give the agent the owner's own words for the conversation's memory."""
        url = endpoint.rstrip("/") + AGENT_NOTES_PATH
        body = note.model_dump_json().encode()
        try:
            response = await self._poster.post(url, body, timeout_seconds=self._timeout)
        except PostFailedError as error:
            raise AgentUnavailableError(f"{error} calling the agent") from error
        if 400 <= response.status < 500:
            raise AgentRefusedError(f"the agent answered HTTP {response.status}")
        if not response.is_success:
            raise AgentUnavailableError(f"the agent answered HTTP {response.status}")

"""The tenant's agent, called per katha/contracts/messages.py: `POST {endpoint}/v1/messages`."""

import httpx
from pydantic import ValidationError

from katha.contracts.messages import (
    AGENT_MESSAGES_PATH,
    AGENT_NOTES_PATH,
    AgentReply,
    InboundMessage,
    OwnerNote,
)


class AgentUnavailableError(RuntimeError):
    """The agent did not answer usably (down, slow, 5xx, nonsense); try again later."""


class AgentRefusedError(RuntimeError):
    """The agent answered 4xx: asking again would get the same answer."""


class AgentClient:
    def __init__(self, client: httpx.AsyncClient, timeout_seconds: float) -> None:
        self._client = client
        self._timeout = timeout_seconds

    async def ask(self, endpoint: str, message: InboundMessage) -> AgentReply:
        url = endpoint.rstrip("/") + AGENT_MESSAGES_PATH
        try:
            response = await self._client.post(
                url,
                content=message.model_dump_json(exclude_none=True),
                headers={"Content-Type": "application/json"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise AgentUnavailableError(f"{type(error).__name__} calling the agent") from error
        if not response.is_success:
            raise AgentUnavailableError(f"the agent answered HTTP {response.status_code}")
        try:
            return AgentReply.model_validate_json(response.content)
        except ValidationError as error:
            raise AgentUnavailableError("the agent's answer breaks the contract") from error

    async def note(self, endpoint: str, note: OwnerNote) -> None:
        """Give the agent the owner's own words for the conversation's memory."""
        url = endpoint.rstrip("/") + AGENT_NOTES_PATH
        try:
            response = await self._client.post(
                url,
                content=note.model_dump_json(),
                headers={"Content-Type": "application/json"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise AgentUnavailableError(f"{type(error).__name__} calling the agent") from error
        if 400 <= response.status_code < 500:
            raise AgentRefusedError(f"the agent answered HTTP {response.status_code}")
        if not response.is_success:
            raise AgentUnavailableError(f"the agent answered HTTP {response.status_code}")

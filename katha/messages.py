"""The contract between the router and a tenant's agent: `POST {endpoint}/v1/messages`.

The router sends an `InboundMessage` (normalised from WhatsApp's webhook) and the agent
answers with an `AgentReply`. The agent never sees WhatsApp credentials or the customer's
phone number: conversations are identified by a pseudonymous `conversation_id`.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

AGENT_MESSAGES_PATH = "/v1/messages"


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"  # button_reply / list_reply / nfm_reply
    BUTTON = "button"  # a quick-reply button on a template
    REACTION = "reaction"
    ORDER = "order"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"  # a type Meta added after this code was written


class _Contract(BaseModel):
    # Unknown fields from a newer peer are kept, never fatal.
    model_config = ConfigDict(extra="allow", frozen=True)


class Media(_Contract):
    """A media attachment by Meta's media id; the router never passes a download token."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


class Location(_Contract):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class Choice(_Contract):
    """What the customer picked: an interactive button or list row, or a template button."""

    id: str | None = None
    title: str | None = None


class Reaction(_Contract):
    message_id: str
    emoji: str | None = None  # None when a reaction was removed


class InboundMessage(_Contract):
    """One customer message, as the router forwards it to the tenant's agent."""

    message_id: str = Field(min_length=1, max_length=256)
    tenant: str = Field(min_length=1, description="namespace/name of the Business")
    conversation_id: str = Field(min_length=1, max_length=128)
    type: MessageType
    timestamp: datetime
    text: str | None = Field(default=None, max_length=65536)
    sender_name: str | None = Field(default=None, description="The WhatsApp profile name.")
    media: Media | None = None
    location: Location | None = None
    choice: Choice | None = None
    reaction: Reaction | None = None
    reply_to: str | None = Field(default=None, description="The message id this answers.")
    previous_language: str | None = Field(
        default=None, description="The conversation's language so far, if known."
    )


class Source(_Contract):
    title: str | None = None
    uri: str
    locator: str | None = None


class AgentReply(_Contract):
    """The agent's answer; `text` None means nothing should be sent."""

    message_id: str
    text: str | None = Field(default=None, max_length=65536)
    language: str = "unknown"
    intent: str = "question"
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    sources: list[Source] = Field(default_factory=list)
    handoff: bool = False
    handoff_reason: str | None = None

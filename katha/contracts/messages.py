"""The contract between the router and a tenant's agent: `POST {endpoint}/v1/messages`.

The router parses WhatsApp's webhook once into `CustomerMessage`s and sends each, addressed
to a tenant's conversation, as an `InboundMessage`; the agent answers with an `AgentReply`.
The agent never sees WhatsApp credentials or the customer's phone number: conversations are
identified by a pseudonymous `conversation_id`.
"""

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

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
    # Unknown fields from a newer peer are kept, never fatal. Non-finite numbers are refused:
    # JSON has no spelling for them, so pydantic would write null and the reader would fail.
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)


MediaUnavailable = Literal["too_large", "type_not_allowed", "download_failed", "daily_limit"]


class Media(_Contract):
    """A media attachment by Meta's media id; the router never passes a download token.

    The router fetches the bytes from the Graph API with the tenant's token, within its
    size and type limits, and hands them over in `content` (base64 in JSON): the agent
    reads the media without ever holding a credential. When the router could not or would
    not fetch them, `content` is absent and `unavailable` says why."""

    # The bytes travel as base64 in JSON, both ways; in Python they are plain bytes.
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    content: bytes | None = Field(
        default=None,
        description="The media's bytes as the router fetched them (base64url in JSON).",
    )
    size: int | None = Field(default=None, ge=0, description="Bytes, as the Graph API said.")
    unavailable: MediaUnavailable | None = Field(
        default=None, description="Why `content` is absent, when the router tried."
    )


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


class CustomerMessage(_Contract):
    """What a customer sent, normalised from WhatsApp's webhook, before it is routed. Fields
    WhatsApp has that this contract does not name travel on under `whatsapp` (an extra)."""

    message_id: str = Field(min_length=1, max_length=256)
    type: MessageType
    timestamp: datetime
    text: str | None = Field(default=None, max_length=65536)
    sender_name: str | None = Field(default=None, description="The WhatsApp profile name.")
    media: Media | None = None
    location: Location | None = None
    choice: Choice | None = None
    reaction: Reaction | None = None
    reply_to: str | None = Field(default=None, description="The message id this answers.")

    @property
    def whatsapp_fields(self) -> dict[str, Any]:
        """WhatsApp's fields that no field above names (for the agent to read)."""
        extra = (self.model_extra or {}).get("whatsapp")
        return extra if isinstance(extra, dict) else {}


class InboundMessage(CustomerMessage):
    """One customer message, as the router forwards it to the tenant's agent."""

    tenant: str = Field(min_length=1, description="namespace/name of the Business")
    conversation_id: str = Field(min_length=1, max_length=128)
    previous_language: str | None = Field(
        default=None, description="The conversation's language so far, if known."
    )

    @classmethod
    def addressed(
        cls, message: CustomerMessage, tenant: str, conversation_id: str
    ) -> "InboundMessage":
        """`message` for one tenant's conversation. It was validated when it was parsed, and
        the router made `tenant` (a route's) and `conversation_id`: nothing is checked twice."""
        fields = {**dict(message), **(message.model_extra or {})}
        return cls.model_construct(
            message.model_fields_set | {"tenant", "conversation_id"},
            **fields,
            tenant=tenant,
            conversation_id=conversation_id,
        )


AGENT_NOTES_PATH = "/v1/notes"


class OwnerNote(_Contract):
    """What the owner wrote to a customer themselves (from the WhatsApp Business app, on the
    same number): the router gives it to the agent, which keeps it in that conversation's
    memory as the business's own words and answers nothing. `POST /v1/notes`."""

    message_id: str = Field(min_length=1, max_length=256)
    tenant: str = Field(min_length=1, description="namespace/name of the Business")
    conversation_id: str = Field(min_length=1, max_length=128)
    timestamp: datetime
    text: str = Field(min_length=1, max_length=65536)


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


TRACKING_MAX_CHARS = 512


class ReplyTracking(BaseModel):
    """What the router attaches to each reply it sends, as the Graph API's
    `biz_opaque_callback_data`: Meta echoes it in the message's status webhooks, and the
    local outbox of `katha up` shows it. Compact keys, because Graph allows 512 characters."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, allow_inf_nan=False
    )

    language: str = Field(default="unknown", alias="l")
    intent: str = Field(default="question", alias="i")
    confidence: float = Field(default=0.0, alias="c")
    handoff: bool = Field(default=False, alias="h")
    sources: list[str] = Field(default_factory=list, alias="s")

    @classmethod
    def of(cls, reply: AgentReply) -> "ReplyTracking":
        sources = [
            f"{source.uri}#{source.locator}" if source.locator else source.uri
            for source in reply.sources
        ]
        return cls(
            language=reply.language,
            intent=reply.intent,
            confidence=round(reply.confidence, 3),
            handoff=reply.handoff,
            sources=sources,
        )

    def encode(self) -> str:
        """JSON within Graph's limit: sources that do not fit are left out, never cut."""
        document = self.model_dump(by_alias=True)
        kept: list[str] = []
        for source in document.pop("s"):
            if len(_compact({**document, "s": [*kept, source]})) > TRACKING_MAX_CHARS:
                break
            kept.append(source)
        return _compact({**document, "s": kept})

    @classmethod
    def decode(cls, text: str | None) -> "ReplyTracking | None":
        if not text:
            return None
        try:
            return cls.model_validate_json(text)
        except ValueError:
            return None


def _compact(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))

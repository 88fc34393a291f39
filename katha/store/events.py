"""What the router writes to the conversation store, and what the owner console reads back.

`StoreEvent` is the contract: one thing that happened in a customer's conversation (a
message from the customer, the agent, a person or the owner's own WhatsApp app, a handoff
started or released, a template sent). `event_id` makes writing idempotent: the router may
deliver the same event twice (a retry after a lost acknowledgement) and the store keeps one.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from katha.contracts.routing import TENANT_PATTERN

Author = Literal["customer", "agent", "person", "owner_app", "system"]
Kind = Literal["message", "handoff_started", "handoff_released", "template"]

# Column widths; the contract refuses anything longer so that a write never fails halfway.
EVENT_ID_MAX = 300
TENANT_MAX = 317  # a namespace (63) / a Business name (253)
CONVERSATION_ID_MAX = 128
TEXT_MAX = 65536
SHORT_MAX = 64  # message_type, language, intent
SOURCE_MAX = 2048
SOURCES_MAX = 20
REASON_MAX = 1000
NAME_MAX = 256
HANDLE_MAX = 128
PREVIEW_MAX = 200  # the conversation list's preview of the newest text


class StoreEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1, max_length=EVENT_ID_MAX)  # unique per tenant
    tenant: str = Field(pattern=TENANT_PATTERN, max_length=TENANT_MAX)  # namespace/name
    conversation_id: str = Field(min_length=1, max_length=CONVERSATION_ID_MAX)
    at: AwareDatetime
    author: Author
    kind: Kind = "message"
    text: str | None = Field(default=None, max_length=TEXT_MAX)
    # The WhatsApp type of a customer's message: text, image, audio...
    message_type: str | None = Field(default=None, max_length=SHORT_MAX)
    language: str | None = Field(default=None, max_length=SHORT_MAX)
    intent: str | None = Field(default=None, max_length=SHORT_MAX)
    # The URIs an agent's reply was grounded on.
    sources: list[Annotated[str, Field(max_length=SOURCE_MAX)]] = Field(
        default=[], max_length=SOURCES_MAX
    )
    handoff_reason: str | None = Field(default=None, max_length=REASON_MAX)
    customer_name: str | None = Field(default=None, max_length=NAME_MAX)  # the profile name
    # The customer's number or @username: the owner's own customer, shown to the owner,
    # never logged.
    customer_handle: str | None = Field(default=None, max_length=HANDLE_MAX)


class StoredEvent(StoreEvent):
    """An event as the store keeps it: `id` orders events that share the same `at`."""

    id: int


class ConversationSummary(BaseModel):
    """One row of the owner's conversation list."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    conversation_id: str
    customer_name: str | None
    customer_handle: str | None
    language: str | None  # the latest known
    with_person: bool  # a handoff started and not released: a person is answering
    unanswered: bool  # the newest customer message has no later reply
    last_at: datetime
    last_text: str | None  # a preview of the newest text, at most PREVIEW_MAX characters
    messages: int
    created_at: datetime

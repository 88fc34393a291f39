"""What the conversations API answers and accepts: the shapes its OpenAPI document describes."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from console.auth.principal import Role
from katha.store import ConversationSummary, StoredEvent

# WhatsApp refuses a text message longer than this.
REPLY_MAX = 4096
# The router's own pattern for a reply id (router/api/admin.py): what it would refuse is
# refused here first, with the console's 422.
REPLY_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"


class TenantAccess(BaseModel):
    """A Business the principal may see, and their role in it."""

    tenant: str = Field(description="namespace/name of the Business resource")
    namespace: str
    name: str
    role: Role


class TenantList(BaseModel):
    tenants: list[TenantAccess]


class ConversationPage(BaseModel):
    """Newest first. For the next page pass `next_before` and `next_before_id` as `before`
    and `before_id`; both are null on the last page."""

    conversations: list[ConversationSummary]
    next_before: datetime | None = None
    next_before_id: str | None = None


class Thread(BaseModel):
    """A conversation's events, oldest first: each agent reply carries its language,
    intent and the sources it was grounded on."""

    tenant: str
    conversation_id: str
    with_person: bool = Field(description="a person has taken the conversation over")
    events: list[StoredEvent]


class ReplyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=REPLY_MAX)
    reply_id: str | None = Field(
        default=None,
        pattern=REPLY_ID_PATTERN,
        description="Chosen by the client (letters, digits, `_.:-`, up to 100): the same "
        "reply sent twice (a retry, a double tap) goes to the customer once. A new reply, "
        "or the same one edited, needs a new id.",
    )


class TakeoverResult(BaseModel):
    with_person: bool


class ReplyResult(BaseModel):
    sent: Literal["free_form"] = Field(
        description="free_form: sent as written, inside the customer's 24-hour window "
        "(outside it nothing is sent: the answer is 409 with the reason)"
    )


class ReleaseResult(BaseModel):
    released: bool = Field(description="false: no person had the conversation")


class Problem(BaseModel):
    """An error answer (FastAPI's shape)."""

    detail: str

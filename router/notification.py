"""What one webhook POST carried, as plain values: customer messages, the owner's own
replies from the WhatsApp Business app (coexistence echoes), delivery statuses, errors, and
the names of any shapes the parser did not know."""

from dataclasses import dataclass, field
from datetime import datetime

from katha.contracts.messages import CustomerMessage


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote: a phone number (`wa_id`) and/or, for username users, only a BSUID."""

    wa_id: str | None = None
    user_id: str | None = None
    username: str | None = None
    name: str | None = None

    @property
    def key(self) -> str:
        """The stable identifier a conversation is keyed by (never logged in clear)."""
        return self.user_id or self.wa_id or self.username or ""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One customer message, parsed once into the contract (`message`), with what only the
    router keeps: the WhatsApp number it was sent to, who sent it, WhatsApp's type name."""

    phone_number_id: str
    sender: Sender
    raw_type: str
    message: CustomerMessage


@dataclass(frozen=True, slots=True)
class OwnerEcho:
    """A message the owner typed in the WhatsApp Business app on the same number (Meta's
    `smb_message_echoes`): proof that a person is talking to `customer` right now.
    `message` carries its id, type and time only: the owner's words are not kept, since
    nothing reads them yet."""

    phone_number_id: str
    customer: Sender  # whom the owner wrote to: the conversation it belongs to
    raw_type: str
    message: CustomerMessage


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """What happened to a message the business sent: sent, delivered, read or failed."""

    phone_number_id: str
    message_id: str
    status: str
    timestamp: datetime
    error_codes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class WebhookError:
    phone_number_id: str | None
    code: int | None
    title: str | None


@dataclass(frozen=True, slots=True)
class SkippedMessage:
    """A customer message that could not be accepted, and why (a short, fixed reason that
    labels a metric: "malformed", "too_deep", "non_finite_number", "unencodable_text",
    "contract", "unstorable"). `message_id` is fit for logging: cut short and escaped."""

    phone_number_id: str | None
    message_id: str | None
    reason: str


@dataclass(slots=True)
class Notification:
    """Everything one webhook POST carried."""

    messages: list[IncomingMessage] = field(default_factory=list)
    echoes: list[OwnerEcho] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    errors: list[WebhookError] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # field names / shapes not understood
    skipped: list[SkippedMessage] = field(default_factory=list)

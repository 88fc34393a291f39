"""What one webhook POST carried, as plain values: customer messages, the owner's own
replies from the WhatsApp Business app (coexistence echoes), delivery statuses, errors,
what Meta said about the account, its numbers and templates, customers' marketing choices
and changes of identity, and the names of any shapes the parser did not know."""

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
    `message` carries its id, type and time, and for a text the owner's words (`text`), so
    the agent can keep them in the conversation's memory."""

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
    """A customer message, an echo or one of Meta's signals that could not be accepted, and
    why (a short, fixed reason that labels a metric: "malformed", "too_deep",
    "non_finite_number", "unencodable_text", "contract", "unstorable", "unknown_preference").
    `message_id` is fit for logging: cut short and escaped. `kind` is "message" (a customer
    message or an echo) or the webhook field of a signal ("account_update", ...)."""

    phone_number_id: str | None
    message_id: str | None
    reason: str
    kind: str = "message"


@dataclass(frozen=True, slots=True)
class RestrictionInfo:
    """One thing the account may not do (`type`, Meta's restriction_type, e.g.
    RESTRICTED_BIZ_INITIATED_MESSAGING) until `expires_at`, when Meta says so readably."""

    type: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """Meta's `account_update` for a WhatsApp Business Account: it names no number, so it
    holds for every number of `waba_id`. `event` is kept as Meta wrote it, known or not."""

    waba_id: str
    event: str
    restrictions: tuple[RestrictionInfo, ...]
    violation: str | None
    ban_state: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class QualityUpdate:
    """Meta's `phone_number_quality_update`: it names the number only by its display
    number (digits only here, as keyed in `Notification.numbers`), never by its id."""

    waba_id: str
    display_phone_number: str | None
    event: str
    messaging_limit: str | None
    previous_limit: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TemplateUpdate:
    """Meta's `message_template_status_update` for one translation of a template."""

    waba_id: str
    template_id: str | None
    name: str
    language: str
    event: str
    reason: str | None
    category: str | None
    title: str | None  # other_info.title: FIRST_PAUSE, SECOND_PAUSE, UNPAUSE, ...
    at: datetime


@dataclass(frozen=True, slots=True)
class MarketingPreference:
    """A customer stopped (or resumed) marketing messages from this number
    (`user_preferences`): no MARKETING template may go to them while `stopped`."""

    phone_number_id: str
    customer: Sender
    stopped: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class IdentityChange:
    """A customer's phone number or business-scoped user id changed (a system message):
    their conversation moves from `previous` to `current`. Nobody wrote it, so it is
    never a message to answer."""

    phone_number_id: str
    previous: Sender
    current: Sender
    at: datetime
    message_id: str


@dataclass(slots=True)
class Notification:
    """Everything one webhook POST carried."""

    messages: list[IncomingMessage] = field(default_factory=list)
    echoes: list[OwnerEcho] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    errors: list[WebhookError] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # field names / shapes not understood
    skipped: list[SkippedMessage] = field(default_factory=list)
    accounts: list[AccountUpdate] = field(default_factory=list)
    qualities: list[QualityUpdate] = field(default_factory=list)
    templates: list[TemplateUpdate] = field(default_factory=list)
    preferences: list[MarketingPreference] = field(default_factory=list)
    identity_changes: list[IdentityChange] = field(default_factory=list)
    # Display number (digits only) -> phone_number_id, from every metadata block seen: a
    # quality update names only the display number.
    numbers: dict[str, str] = field(default_factory=dict)
    # phone_number_id -> the WhatsApp Business Account (entry.id) it was seen under.
    waba_of: dict[str, str] = field(default_factory=dict)

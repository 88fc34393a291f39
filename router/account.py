"""What Meta said about a tenant's WhatsApp account, kept where every router replica reads
it (the inbox's records), and what the router therefore may not send.

Meta sends these as account-wide webhooks; the router learns them once, records them per
tenant, and then:
- while business-initiated messaging is restricted (RESTRICTED_BIZ_INITIATED_MESSAGING,
  a ban, an offboarded or deleted account), sends no template: the owner's handoff notice
  outside their window, the follow-up after a handoff, the re-opening message;
- while customer-initiated messaging is restricted, sends no reply at all;
- never sends a template Meta paused, disabled or rejected (it would be refused);
- never sends a MARKETING template to a customer who stopped marketing messages.
The Business's status shows the same facts (router.business_status), for people.
"""

import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from katha.api.business import TEMPLATE_STOPPED_EVENTS
from router.inbox.base import Inbox

RECORD = "account:"
OPTED_OUT = "marketing-stopped:"
BIZ_INITIATED = "RESTRICTED_BIZ_INITIATED_MESSAGING"
CUSTOMER_INITIATED = "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"
# Account events after which nothing can be sent from the number.
GONE = frozenset({"ACCOUNT_OFFBOARDED", "ACCOUNT_DELETED"})
BANNED = frozenset({"DISABLE"})
# Template events after which Meta refuses the template (shared with the operator).
UNUSABLE_TEMPLATE = TEMPLATE_STOPPED_EVENTS


@dataclass(frozen=True)
class AccountState:
    """One tenant's account as the newest signals left it. Restriction expiries are Unix
    times (None: until Meta lifts it)."""

    event: str | None = None
    restrictions: dict[str, float | None] = field(default_factory=dict)
    ban_state: str | None = None
    quality: str | None = None
    messaging_limit: str | None = None
    templates: dict[str, str] = field(default_factory=dict)  # "<name>:<language>" -> event
    # When Meta sent the newest signal applied to each part ("account", "quality",
    # "template:<name>:<language>"): Meta retries and does not keep order, so an older
    # signal arriving late is ignored instead of undoing a newer one.
    seen: dict[str, float] = field(default_factory=dict)

    def is_newer(self, part: str, at: float) -> bool:
        """Not older than the last applied (Meta's times are whole seconds: two signals
        in one second both apply, and a redelivery changes nothing)."""
        return at >= self.seen.get(part, float("-inf"))

    def restricted(self, kind: str, now: float | None = None) -> bool:
        if kind in self.restrictions:
            until = self.restrictions[kind]
            if until is None or until > (time.time() if now is None else now):
                return True
        return self.event in GONE or self.ban_state in BANNED

    def may_initiate(self, now: float | None = None) -> bool:
        """Whether business-initiated messages (templates) may go out now."""
        return not self.restricted(BIZ_INITIATED, now)

    def may_reply(self, now: float | None = None) -> bool:
        """Whether replies inside a customer's window may go out now."""
        return not self.restricted(CUSTOMER_INITIATED, now)

    def template_usable(self, name: str, language: str) -> bool:
        return self.templates.get(f"{name}:{language}") not in UNUSABLE_TEMPLATE

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "AccountState":
        data: dict[str, Any] = json.loads(text)
        return cls(**{key: value for key, value in data.items() if key in _FIELDS})


_FIELDS = frozenset(AccountState.__dataclass_fields__)


async def account_state(inbox: Inbox, tenant: str) -> AccountState:
    text = await inbox.record(RECORD + tenant)
    if text is None:
        return AccountState()
    try:
        return AccountState.from_json(text)
    except (ValueError, TypeError):  # written by a newer or broken router: start afresh
        return AccountState()


async def update_account(inbox: Inbox, tenant: str, **changes: Any) -> AccountState:
    """Apply `changes` to the tenant's state and keep it. Two replicas applying two
    signals for one tenant at once may lose one of them: signals are rare and each
    carries the whole of its part (Meta resends on change), so the next one repairs it."""
    state = replace(await account_state(inbox, tenant), **changes)
    await inbox.save_record(RECORD + tenant, state.to_json())
    return state


def expiry(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


async def marketing_stopped(inbox: Inbox, conversation_id: str) -> bool:
    return _preference(await inbox.record(OPTED_OUT + conversation_id))[0] == "stop"


def _preference(text: str | None) -> tuple[str, float]:
    value, _, at = (text or "").partition(":")
    try:
        return value, float(at or "-inf")
    except ValueError:
        return value, float("-inf")


async def set_marketing(inbox: Inbox, conversation_id: str, stopped: bool, at: float) -> bool:
    """Keep the customer's choice unless a newer one is kept already; True if kept.
    Kept without expiry: an opt-out is honoured for as long as the router runs."""
    _, newest = _preference(await inbox.record(OPTED_OUT + conversation_id))
    if at < newest:
        return False
    value = "stop" if stopped else "resume"
    await inbox.save_record(OPTED_OUT + conversation_id, f"{value}:{at}")
    return True

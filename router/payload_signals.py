"""What Meta says besides messages: the state of a WhatsApp Business Account, its numbers and
its templates (`account_update`, `phone_number_quality_update`,
`message_template_status_update`), a customer's marketing choice (`user_preferences`) and a
change of a customer's phone number or business-scoped user id (a system message).

Parsed as messages are (`router.payload`): pure functions over the decoded JSON that never
raise. Meta's values are kept as written, known or not (it adds events often); an item that
cannot be read is skipped with a reason, and an unknown key is reported. The readers of
Meta's loosely typed JSON that both modules use are here, where `router.payload` imports
them from.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from router.notification import (
    AccountUpdate,
    IdentityChange,
    MarketingPreference,
    Notification,
    QualityUpdate,
    RestrictionInfo,
    Sender,
    SkippedMessage,
    TemplateUpdate,
)
from router.webhook_json import encodable, json_problem, loggable

ACCOUNT_FIELD = "account_update"
QUALITY_FIELD = "phone_number_quality_update"
TEMPLATE_FIELD = "message_template_status_update"
PREFERENCES_FIELD = "user_preferences"
# The keys Meta documents for each field (anything else is reported, never fatal).
_KNOWN_KEYS = {
    ACCOUNT_FIELD: frozenset(
        {
            "event",
            "phone_number",
            "restriction_info",
            "violation_info",
            "ban_info",
            "country",
            "waba_info",
            "auth_international_rate_eligibility",
            "partner_client_certification_info",
            "volume_tier_info",
            "disconnection_info",
        }
    ),
    QUALITY_FIELD: frozenset(
        {
            "display_phone_number",
            "event",
            "old_limit",
            "current_limit",
            "max_daily_conversations_per_business",
        }
    ),
    TEMPLATE_FIELD: frozenset(
        {
            "event",
            "message_template_id",
            "message_template_name",
            "message_template_language",
            "reason",
            "message_template_category",
            "disable_info",
            "other_info",
            "rejection_info",
        }
    ),
    PREFERENCES_FIELD: frozenset({"messaging_product", "metadata", "contacts", "user_preferences"}),
}
_STOPPED = {"stop": True, "resume": False}
# System messages that move a customer to a new phone number or user id ("customer_..." is
# the name before Graph API v12, with the new number in `new_wa_id`).
_IDENTITY_CHANGES = frozenset(
    {"user_changed_user_id", "user_changed_number", "customer_changed_number"}
)
# "User <name> changed from <old> to <new>": the last such phrase, as a name may hold one.
_CHANGED = re.compile(r"changed from (\S+) to (\S+)")
_HUMAN_DATE = "%B %d, %Y"  # "April 17, 2025", as Meta writes some dates
_MAX_LABEL = 512  # Meta's names and enum values are short; longer is not one of them


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_array(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_time(value: Any) -> datetime:
    """A Unix time as Meta sends it (a number, or digits in a string); now if it is not one."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):  # OSError: past the platform's range
        return datetime.now(UTC)


def contacts_by_id(contacts: Any) -> dict[str, Sender]:
    """Contacts by every id they can be looked up with (wa_id and user_id)."""
    found: dict[str, Sender] = {}
    for contact in as_array(contacts):
        if not isinstance(contact, dict):
            continue
        profile = as_object(contact.get("profile"))
        sender = Sender(
            wa_id=as_text(contact.get("wa_id")),
            user_id=as_text(contact.get("user_id")),
            username=as_text(profile.get("username")),
            name=as_text(profile.get("name")),
        )
        for key in (sender.wa_id, sender.user_id):
            if key:
                found[key] = sender
    return found


def sender_of(message: dict[str, Any], contacts: dict[str, Sender]) -> Sender:
    """Who wrote `message`: its phone (`from`, missing or "" for a username-only customer)
    and user id (`from_user_id`), with the name and username of their contact."""
    wa_id, user_id = as_text(message.get("from")), as_text(message.get("from_user_id"))
    known = contacts.get(user_id or "") or contacts.get(wa_id or "")
    if known is None and len(contacts) == 1:
        known = next(iter(contacts.values()))
    return Sender(
        wa_id=wa_id or (known.wa_id if known else None),
        user_id=user_id or (known.user_id if known else None),
        username=known.username if known else None,
        name=known.name if known else None,
    )


def _label(value: Any, limit: int = _MAX_LABEL) -> str | None:
    """A name or enum value Meta sent: a short text that can be written out, else None."""
    text = as_text(value)
    return text if text is not None and len(text) <= limit and encodable(text) else None


def _id(value: Any) -> str | None:
    """An id, written as text (Meta sends some, like a template's, as numbers)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**40:
        return str(value)
    return _label(value, limit=256)


def _digits(value: Any) -> str | None:
    """A display phone number as its digits ("+1 555-0100" and "15550100" are one)."""
    text = _label(value, limit=64)
    number = "".join(c for c in text if c in "0123456789") if text else ""
    return number or None


def _expiry(value: Any) -> datetime | None:
    """When a restriction ends: Meta has sent a Unix time (number or digits), an ISO time
    ("2026-04-19T13:59:20+0000"), a date in words, and a placeholder. None unless readable."""
    if isinstance(value, str) and value.isascii() and value.strip().isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (ValueError, OverflowError, OSError):
            return None
    text = _label(value, limit=64)
    if text is None:
        return None
    for read in (datetime.fromisoformat, lambda t: datetime.strptime(t, _HUMAN_DATE)):
        try:
            when = read(text.strip())
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def remember_number(entry: dict[str, Any], value: dict[str, Any], found: Notification) -> None:
    """Record which number a `metadata` block names, by display number and by account (the
    entry's id), so a signal that names only one of those can be routed later."""
    metadata = as_object(value.get("metadata"))
    number = _id(metadata.get("phone_number_id"))
    if number is None:
        return
    display = _digits(metadata.get("display_phone_number"))
    if display is not None:
        found.numbers[display] = number
    waba_id = _id(entry.get("id"))
    if waba_id is not None:
        found.waba_of[number] = waba_id


def _account_signal(
    field: str, entry: dict[str, Any], value: dict[str, Any], found: Notification
) -> str | None:
    """The account (entry.id) an account-wide signal is about, or None (and it is skipped)
    when it names none or holds a value that could not be written out as it is."""
    waba_id = _id(entry.get("id"))
    reason = json_problem(value) or (None if waba_id else "malformed")
    if reason is not None:
        found.skipped.append(SkippedMessage(None, None, reason, field))
        return None
    found.unknown.extend(
        f"{field} value.{loggable(key)}" for key in value if key not in _KNOWN_KEYS[field]
    )
    return waba_id


def _restrictions(value: Any, found: Notification) -> tuple[RestrictionInfo, ...]:
    items = [value] if isinstance(value, dict) else as_array(value)
    kept: list[RestrictionInfo] = []
    for item in items:
        kind = _label(as_object(item).get("restriction_type"))
        if kind is None:
            found.unknown.append(f"{ACCOUNT_FIELD} restriction without a type")
        else:
            kept.append(RestrictionInfo(kind, _expiry(as_object(item).get("expiration"))))
    return tuple(kept)


def _skip(field: str, found: Notification, number: str | None = None) -> None:
    found.skipped.append(SkippedMessage(number, None, "malformed", field))


def account_update(entry: dict[str, Any], value: dict[str, Any], found: Notification) -> None:
    """An account restricted, warned, banned or changed: it holds for all its numbers."""
    waba_id = _account_signal(ACCOUNT_FIELD, entry, value, found)
    if waba_id is None:
        return
    event = _label(value.get("event"))
    if event is None:
        _skip(ACCOUNT_FIELD, found)
        return
    update = AccountUpdate(
        waba_id=waba_id,
        event=event,
        restrictions=_restrictions(value.get("restriction_info"), found),
        violation=_label(as_object(value.get("violation_info")).get("violation_type")),
        ban_state=_label(as_object(value.get("ban_info")).get("waba_ban_state")),
        at=read_time(entry.get("time")),
    )
    found.accounts.append(update)


def quality_update(entry: dict[str, Any], value: dict[str, Any], found: Notification) -> None:
    """A number's quality or messaging limit changed (named by its display number only)."""
    waba_id = _account_signal(QUALITY_FIELD, entry, value, found)
    if waba_id is None:
        return
    event = _label(value.get("event"))
    if event is None:
        _skip(QUALITY_FIELD, found)
        return
    update = QualityUpdate(
        waba_id=waba_id,
        display_phone_number=_digits(value.get("display_phone_number")),
        event=event,
        # The per-portfolio limit replaced current_limit (removed from February 2026).
        messaging_limit=_label(value.get("max_daily_conversations_per_business"))
        or _label(value.get("current_limit")),
        previous_limit=_label(value.get("old_limit")),
        at=read_time(entry.get("time")),
    )
    found.qualities.append(update)


def template_update(entry: dict[str, Any], value: dict[str, Any], found: Notification) -> None:
    """One template translation approved, paused, rejected, disabled, ..."""
    waba_id = _account_signal(TEMPLATE_FIELD, entry, value, found)
    if waba_id is None:
        return
    name = _label(value.get("message_template_name"))
    language = _label(value.get("message_template_language"))
    event = _label(value.get("event"))
    if name is None or language is None or event is None:
        _skip(TEMPLATE_FIELD, found)
        return
    update = TemplateUpdate(
        waba_id=waba_id,
        template_id=_id(value.get("message_template_id")),
        name=name,
        language=language,
        event=event,
        reason=_label(value.get("reason")),
        category=_label(value.get("message_template_category")),
        title=_label(as_object(value.get("other_info")).get("title")),
        at=read_time(entry.get("time")),
    )
    found.templates.append(update)


def _preference(
    number: str | None, item: Any, contacts: dict[str, Sender], entry: dict[str, Any]
) -> MarketingPreference | str:
    """One customer's choice, or the reason it cannot be read."""
    if not isinstance(item, dict):
        return "malformed"
    problem = json_problem(item)
    if problem is not None:
        return problem
    if number is None:
        return "malformed"
    choice = item.get("value")
    stopped = _STOPPED.get(choice) if isinstance(choice, str) else None
    if stopped is None or item.get("category", "marketing_messages") != "marketing_messages":
        return "unknown_preference"
    customer = sender_of({"from": item.get("wa_id"), "from_user_id": item.get("user_id")}, contacts)
    if not customer.key:
        return "malformed"
    if not all(encodable(text) for text in (customer.username, customer.name) if text):
        return "unencodable_text"  # the contact's name, read from outside the item
    at = read_time(item["timestamp"] if "timestamp" in item else entry.get("time"))
    return MarketingPreference(number, customer, stopped, at)


def user_preferences(entry: dict[str, Any], value: dict[str, Any], found: Notification) -> None:
    """Customers who stopped or resumed marketing messages from one number."""
    number = _id(as_object(value.get("metadata")).get("phone_number_id"))
    found.unknown.extend(
        f"{PREFERENCES_FIELD} value.{loggable(key)}"
        for key in value
        if key not in _KNOWN_KEYS[PREFERENCES_FIELD]
    )
    contacts = contacts_by_id(value.get("contacts"))
    for item in as_array(value.get("user_preferences")):
        parsed = _preference(number, item, contacts, entry)
        if isinstance(parsed, str):
            skipped = SkippedMessage(number, None, parsed, PREFERENCES_FIELD)
            found.skipped.append(skipped)
        else:
            found.preferences.append(parsed)


SIGNALS: dict[str, Callable[[dict[str, Any], dict[str, Any], Notification], None]] = {
    ACCOUNT_FIELD: account_update,
    QUALITY_FIELD: quality_update,
    TEMPLATE_FIELD: template_update,
    PREFERENCES_FIELD: user_preferences,
}


def is_identity_change(message: dict[str, Any]) -> bool:
    """A system message that moves a customer to a new number or user id."""
    system = as_object(message.get("system"))
    return message.get("type") == "system" and system.get("type") in _IDENTITY_CHANGES


def _changed_ids(body: Any) -> tuple[str | None, str | None]:
    """The old and new id from "User <name> changed from <old> to <new>", if it says so."""
    found = list(_CHANGED.finditer(body)) if isinstance(body, str) else []
    if not found:
        return None, None
    old, new = (part.rstrip(".,;:!").lstrip("+") for part in found[-1].groups())
    return old or None, new or None


def _phone(value: str | None) -> str | None:
    return value if value and value.isascii() and value.isdigit() else None


def identity_change(number: str, message: dict[str, Any]) -> IdentityChange | None:
    """Who the customer was and who they are now, or None when the message does not say.

    The old user id is `previous_user_id` (since August 2026), else the sender's when it
    differs from the new one, else the one the body names; the old phone is the sender's."""
    system = as_object(message.get("system"))
    by_user_id = system.get("type") == "user_changed_user_id"
    old, new = _changed_ids(system.get("body"))
    now_user = as_text(system.get("user_id")) or (new if by_user_id else None)
    sent_by = as_text(message.get("from_user_id"))
    was_user = as_text(system.get("previous_user_id")) or (sent_by if sent_by != now_user else None)
    previous = Sender(
        wa_id=as_text(message.get("from")) or (None if by_user_id else _phone(old)),
        user_id=was_user or (old if by_user_id else None),
    )
    current = Sender(
        wa_id=as_text(system.get("wa_id"))
        or as_text(system.get("new_wa_id"))
        or (None if by_user_id else _phone(new)),
        user_id=now_user,
    )
    message_id = _label(message.get("id"), limit=256)
    if message_id is None or not previous.key or not current.key or previous == current:
        return None
    return IdentityChange(
        number, previous, current, read_time(message.get("timestamp")), message_id
    )

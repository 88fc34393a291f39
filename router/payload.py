"""WhatsApp Cloud API webhook bodies, parsed whole: every entry, every change, every message.

Each customer message is parsed once, into the contract the agent receives
(`katha.contracts.messages.CustomerMessage`). Pure functions over the decoded JSON. Nothing here is
fatal: a shape this code does not know is kept (under `whatsapp` / `MessageType.UNKNOWN`)
and reported, never raised; a message that cannot be kept as it is (see
`router.webhook_json.json_problem`), whose typed parts are the wrong type, or that the
contract refuses is skipped with a reason, and the rest of the batch is read on.

Coexistence: what the owner types in the WhatsApp Business app on the same number arrives
as `smb_message_echoes` changes; each echo is parsed here too (`OwnerEcho`), once.
"""

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from katha.contracts.messages import Choice, CustomerMessage, Location, Media, MessageType, Reaction
from router.notification import (
    IncomingMessage,
    Notification,
    OwnerEcho,
    Sender,
    SkippedMessage,
    StatusUpdate,
    WebhookError,
)
from router.webhook_json import json_problem, loggable

MEDIA_TYPES = frozenset(
    {
        MessageType.IMAGE,
        MessageType.AUDIO,
        MessageType.VIDEO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
    }
)
_KNOWN_VALUE_KEYS = frozenset(
    {"messaging_product", "metadata", "contacts", "messages", "statuses", "errors"}
)
_ECHO_VALUE_KEYS = frozenset({"messaging_product", "metadata", "message_echoes"})
ECHOES_FIELD = "smb_message_echoes"


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _array(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _timestamp(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):  # OSError: past the platform's range
        return datetime.now(UTC)


def _code(value: Any) -> int | None:
    """An error code as Meta sends it (a number); anything else is no code at all."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        code = int(value)
    except ValueError:
        return None
    return code if -(2**63) < code < 2**63 else None


def _message_type(raw: str) -> MessageType:
    if raw == "voice":
        return MessageType.AUDIO
    try:
        return MessageType(raw)
    except ValueError:
        return MessageType.UNKNOWN


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _senders(contacts: Any) -> dict[str, Sender]:
    """Contacts by every id they can be looked up with (wa_id and user_id)."""
    found: dict[str, Sender] = {}
    for contact in _array(contacts):
        if not isinstance(contact, dict):
            continue
        profile = _object(contact.get("profile"))
        sender = Sender(
            wa_id=_str(contact.get("wa_id")),
            user_id=_str(contact.get("user_id")),
            username=_str(profile.get("username")),
            name=_str(profile.get("name")),
        )
        for key in (sender.wa_id, sender.user_id):
            if key:
                found[key] = sender
    return found


def _sender(message: dict[str, Any], contacts: dict[str, Sender]) -> Sender:
    wa_id, user_id = _str(message.get("from")), _str(message.get("from_user_id"))
    known = contacts.get(user_id or "") or contacts.get(wa_id or "")
    if known is None and len(contacts) == 1:
        known = next(iter(contacts.values()))
    return Sender(
        wa_id=wa_id or (known.wa_id if known else None),
        user_id=user_id or (known.user_id if known else None),
        username=known.username if known else None,
        name=known.name if known else None,
    )


def _content(kind: MessageType, raw_type: str, body: Any) -> dict[str, Any]:
    """The typed parts of one message's type-specific object."""
    part = _object(body)
    if kind is MessageType.TEXT:
        return {"text": _str(part.get("body"))}
    if kind in MEDIA_TYPES and _str(part.get("id")):
        media = Media(
            id=part["id"],
            mime_type=_str(part.get("mime_type")),
            sha256=_str(part.get("sha256")),
            caption=_str(part.get("caption")),
            filename=_str(part.get("filename")),
            voice=raw_type == "voice" or bool(part.get("voice")),
        )
        return {"media": media, "text": media.caption}
    if kind is MessageType.LOCATION and "latitude" in part and "longitude" in part:
        location = Location(
            latitude=float(part["latitude"]),
            longitude=float(part["longitude"]),
            name=_str(part.get("name")),
            address=_str(part.get("address")),
        )
        return {"location": location}
    if kind is MessageType.INTERACTIVE:
        reply = _object(part.get(str(part.get("type"))))
        choice = Choice(id=_str(reply.get("id")), title=_str(reply.get("title")))
        return {"choice": choice, "text": choice.title}
    if kind is MessageType.BUTTON:
        return {"choice": Choice(id=_str(part.get("payload")), title=_str(part.get("text")))}
    if kind is MessageType.REACTION and _str(part.get("message_id")):
        reaction = Reaction(message_id=part["message_id"], emoji=_str(part.get("emoji")))
        return {"reaction": reaction}
    if kind is MessageType.ORDER:
        return {"text": _str(part.get("text"))}
    return {}


class _OutsideContractError(Exception):
    """A message the contract refuses: text over 65,536 characters, an id over 256."""


def _message(
    phone_number_id: str, message: dict[str, Any], contacts: dict[str, Sender]
) -> IncomingMessage | None:
    message_id = _str(message.get("id"))
    if message_id is None:
        return None
    raw_type = _str(message.get("type")) or "unknown"
    kind = _message_type(raw_type)
    body_key = "voice" if raw_type == "voice" and "voice" in message else raw_type
    content = _content(kind, raw_type, message.get(body_key))
    context = _object(message.get("context"))
    known = {"from", "from_user_id", "id", "timestamp", "type", "context", body_key}
    # Unknown fields travel on; the sender's other ids ("from_parent_user_id") never do.
    extra = {
        key: value
        for key, value in message.items()
        if key not in known and not key.startswith("from")
    }
    if kind in (MessageType.CONTACTS, MessageType.ORDER, MessageType.UNKNOWN):
        extra[raw_type] = message.get(body_key)  # passed on for the agent to read
    if extra:  # under "whatsapp": the contract allows extras
        content["whatsapp"] = extra
    sender = _sender(message, contacts)
    try:
        parsed = CustomerMessage(
            message_id=message_id,
            type=kind,
            timestamp=_timestamp(message.get("timestamp")),
            sender_name=sender.name,
            reply_to=_str(context.get("id")),
            **content,
        )
    except ValidationError as error:
        raise _OutsideContractError(str(error)) from error
    return IncomingMessage(phone_number_id, sender, raw_type, parsed)


def _status(phone_number_id: str, status: dict[str, Any]) -> StatusUpdate | None:
    message_id = _str(status.get("id"))
    if message_id is None:
        return None
    errors = [error for error in _array(status.get("errors")) if isinstance(error, dict)]
    codes = tuple(c for c in (_code(error.get("code")) for error in errors) if c is not None)
    return StatusUpdate(
        phone_number_id=phone_number_id,
        message_id=message_id,
        status=_str(status.get("status")) or "unknown",
        timestamp=_timestamp(status.get("timestamp")),
        error_codes=codes,
    )


def _checked_message(
    number: str, message: Any, contacts: dict[str, Sender], found: Notification
) -> IncomingMessage | None:
    """One message parsed, or None (recorded in `found.skipped`) when it cannot be."""
    raw = _object(message)
    message_id = loggable(raw.get("id"))
    # Judged before anything else looks inside: nothing below may meet a value it would
    # recurse into without end, store as null, or fail to encode.
    reason = json_problem(message) if isinstance(message, dict) else "malformed"
    parsed: IncomingMessage | None = None
    if reason is None:
        try:
            parsed = _message(number, raw, contacts)
        except _OutsideContractError:
            reason = "contract"
        except (TypeError, ValueError):  # e.g. a location whose latitude is not a number
            parsed = None
    if parsed is None:
        found.skipped.append(SkippedMessage(number, message_id, reason or "malformed"))
    return parsed


def _change(value: dict[str, Any], found: Notification) -> None:
    metadata = _object(value.get("metadata"))
    number = _str(metadata.get("phone_number_id"))
    found.unknown.extend(f"value.{key}" for key in value if key not in _KNOWN_VALUE_KEYS)
    for error in _array(value.get("errors")):
        if isinstance(error, dict):
            title = loggable(error.get("title"), limit=200)
            found.errors.append(WebhookError(number, _code(error.get("code")), title))
    if number is None:
        return
    contacts = _senders(value.get("contacts"))
    for message in _array(value.get("messages")):
        parsed = _checked_message(number, message, contacts, found)
        if parsed is None:
            continue
        if parsed.message.type is MessageType.UNKNOWN:
            found.unknown.append(f"message type {loggable(parsed.raw_type)}")
        found.messages.append(parsed)
    for status in _array(value.get("statuses")):
        update = _status(number, status) if isinstance(status, dict) else None
        if update is not None:
            found.statuses.append(update)


def _echo(number: str, echo: dict[str, Any]) -> OwnerEcho | None:
    """One echo, or None without the id and the customer it went to. Only the id, the
    customer, the type and the time are read: whatever else it carries (the owner's
    words, media) is not kept, so it is not judged either; an echo whose id cannot be
    stored is refused later, when its envelope is (`router.intake`)."""
    message_id = _str(echo.get("id"))
    customer = Sender(wa_id=_str(echo.get("to")), user_id=_str(echo.get("to_user_id")))
    if message_id is None or not customer.key:
        return None
    raw_type = _str(echo.get("type")) or "unknown"
    try:
        parsed = CustomerMessage(
            message_id=message_id,
            type=_message_type(raw_type),
            timestamp=_timestamp(echo.get("timestamp")),
        )
    except ValidationError as error:
        raise _OutsideContractError(str(error)) from error
    return OwnerEcho(number, customer, raw_type, parsed)


def _echo_change(value: dict[str, Any], found: Notification) -> None:
    """The owner's own replies from the Business app: each one kept, or skipped with a
    reason like a bad message, and the rest of the batch read on."""
    number = _str(_object(value.get("metadata")).get("phone_number_id"))
    found.unknown.extend(f"value.{key}" for key in value if key not in _ECHO_VALUE_KEYS)
    if number is None:
        return
    for echo in _array(value.get("message_echoes")):
        raw = _object(echo)
        reason = "malformed"
        try:
            parsed = _echo(number, raw) if isinstance(echo, dict) else None
        except _OutsideContractError:
            parsed, reason = None, "contract"
        if parsed is None:
            found.skipped.append(SkippedMessage(number, loggable(raw.get("id")), reason))
        else:
            found.echoes.append(parsed)


def parse_notification(payload: Any) -> Notification:
    """Every message, status and error in one webhook body, in the order Meta sent them."""
    found = Notification()
    if not isinstance(payload, dict):
        found.unknown.append("body is not an object")
        return found
    for entry in _array(payload.get("entry")):
        for change in _array(_object(entry).get("changes")):
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                found.unknown.append("change without a value")
                continue
            field = change.get("field")
            if field == ECHOES_FIELD:
                _echo_change(change["value"], found)
                continue
            if field not in (None, "messages"):
                found.unknown.append(f"field {loggable(field)}")
            _change(change["value"], found)
    return found

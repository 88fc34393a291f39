"""WhatsApp Cloud API webhook bodies, parsed whole: every entry, every change, every message.

Each customer message is parsed once, into the contract the agent receives
(`katha.contracts.messages.CustomerMessage`). Pure functions over the decoded JSON. Nothing here is
fatal: a shape this code does not know is kept (under `whatsapp` / `MessageType.UNKNOWN`)
and reported, never raised; a message that cannot be kept as it is (see
`router.webhook_json.json_problem`), whose typed parts are the wrong type, or that the
contract refuses is skipped with a reason, and the rest of the batch is read on.

Coexistence: what the owner types in the WhatsApp Business app on the same number arrives
as `smb_message_echoes` changes; each echo is parsed here too (`OwnerEcho`), once, with the
owner's words when it is a text.

Meta's other signals (account, quality, template status, marketing preferences, a
customer's change of number or user id) are parsed in `router.payload_signals`.
"""

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
from router.payload_signals import (
    SIGNALS,
    as_array,
    as_object,
    as_text,
    contacts_by_id,
    identity_change,
    is_identity_change,
    read_time,
    remember_number,
    sender_of,
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


def _content(kind: MessageType, raw_type: str, body: Any) -> dict[str, Any]:
    """The typed parts of one message's type-specific object."""
    part = as_object(body)
    if kind is MessageType.TEXT:
        return {"text": as_text(part.get("body"))}
    if kind in MEDIA_TYPES and as_text(part.get("id")):
        media = Media(
            id=part["id"],
            mime_type=as_text(part.get("mime_type")),
            sha256=as_text(part.get("sha256")),
            caption=as_text(part.get("caption")),
            filename=as_text(part.get("filename")),
            voice=raw_type == "voice" or bool(part.get("voice")),
        )
        return {"media": media, "text": media.caption}
    if kind is MessageType.LOCATION and "latitude" in part and "longitude" in part:
        location = Location(
            latitude=float(part["latitude"]),
            longitude=float(part["longitude"]),
            name=as_text(part.get("name")),
            address=as_text(part.get("address")),
        )
        return {"location": location}
    if kind is MessageType.INTERACTIVE:
        reply = as_object(part.get(str(part.get("type"))))
        choice = Choice(id=as_text(reply.get("id")), title=as_text(reply.get("title")))
        return {"choice": choice, "text": choice.title}
    if kind is MessageType.BUTTON:
        return {"choice": Choice(id=as_text(part.get("payload")), title=as_text(part.get("text")))}
    if kind is MessageType.REACTION and as_text(part.get("message_id")):
        reaction = Reaction(message_id=part["message_id"], emoji=as_text(part.get("emoji")))
        return {"reaction": reaction}
    if kind is MessageType.ORDER:
        return {"text": as_text(part.get("text"))}
    return {}


class _OutsideContractError(Exception):
    """A message the contract refuses: text over 65,536 characters, an id over 256."""


def _message(
    phone_number_id: str, message: dict[str, Any], contacts: dict[str, Sender]
) -> IncomingMessage | None:
    message_id = as_text(message.get("id"))
    if message_id is None:
        return None
    raw_type = as_text(message.get("type")) or "unknown"
    kind = _message_type(raw_type)
    body_key = "voice" if raw_type == "voice" and "voice" in message else raw_type
    content = _content(kind, raw_type, message.get(body_key))
    context = as_object(message.get("context"))
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
    sender = sender_of(message, contacts)
    try:
        parsed = CustomerMessage(
            message_id=message_id,
            type=kind,
            timestamp=read_time(message.get("timestamp")),
            sender_name=sender.name,
            reply_to=as_text(context.get("id")),
            **content,
        )
    except ValidationError as error:
        raise _OutsideContractError(str(error)) from error
    return IncomingMessage(phone_number_id, sender, raw_type, parsed)


def _status(phone_number_id: str, status: dict[str, Any]) -> StatusUpdate | None:
    message_id = as_text(status.get("id"))
    if message_id is None:
        return None
    errors = [error for error in as_array(status.get("errors")) if isinstance(error, dict)]
    codes = tuple(c for c in (_code(error.get("code")) for error in errors) if c is not None)
    return StatusUpdate(
        phone_number_id=phone_number_id,
        message_id=message_id,
        status=as_text(status.get("status")) or "unknown",
        timestamp=read_time(status.get("timestamp")),
        error_codes=codes,
    )


def _checked_message(
    number: str, message: Any, contacts: dict[str, Sender], found: Notification
) -> IncomingMessage | None:
    """One message parsed, or None when it is not one to answer: a change of the customer's
    number or user id (recorded in `found.identity_changes`), or one that cannot be read
    (recorded in `found.skipped`)."""
    raw = as_object(message)
    message_id = loggable(raw.get("id"))
    # Judged before anything else looks inside: nothing below may meet a value it would
    # recurse into without end, store as null, or fail to encode.
    reason = json_problem(message) if isinstance(message, dict) else "malformed"
    parsed: IncomingMessage | None = None
    if reason is None and is_identity_change(raw):
        change = identity_change(number, raw)
        if change is not None:
            found.identity_changes.append(change)
            return None
    elif reason is None:
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
    metadata = as_object(value.get("metadata"))
    number = as_text(metadata.get("phone_number_id"))
    found.unknown.extend(f"value.{key}" for key in value if key not in _KNOWN_VALUE_KEYS)
    for error in as_array(value.get("errors")):
        if isinstance(error, dict):
            title = loggable(error.get("title"), limit=200)
            found.errors.append(WebhookError(number, _code(error.get("code")), title))
    if number is None:
        return
    contacts = contacts_by_id(value.get("contacts"))
    for message in as_array(value.get("messages")):
        parsed = _checked_message(number, message, contacts, found)
        if parsed is None:
            continue
        if parsed.message.type is MessageType.UNKNOWN:
            found.unknown.append(f"message type {loggable(parsed.raw_type)}")
        found.messages.append(parsed)
    for status in as_array(value.get("statuses")):
        update = _status(number, status) if isinstance(status, dict) else None
        if update is not None:
            found.statuses.append(update)


def _echo(number: str, echo: dict[str, Any]) -> OwnerEcho | None:
    """One echo, or None without the id and the customer it went to. The id, the customer,
    the type, the time and a text's words are read: the agent keeps the owner's words in
    the conversation's memory. Media is not kept (nothing reads it)."""
    message_id = as_text(echo.get("id"))
    customer = Sender(wa_id=as_text(echo.get("to")), user_id=as_text(echo.get("to_user_id")))
    if message_id is None or not customer.key:
        return None
    raw_type = as_text(echo.get("type")) or "unknown"
    kind = _message_type(raw_type)
    words = as_text(as_object(echo.get("text")).get("body")) if kind is MessageType.TEXT else None
    try:
        parsed = CustomerMessage(
            message_id=message_id,
            type=kind,
            timestamp=read_time(echo.get("timestamp")),
            text=words,
        )
    except ValidationError as error:
        raise _OutsideContractError(str(error)) from error
    return OwnerEcho(number, customer, raw_type, parsed)


def _echo_change(value: dict[str, Any], found: Notification) -> None:
    """The owner's own replies from the Business app: each one kept, or skipped with a
    reason like a bad message, and the rest of the batch read on."""
    number = as_text(as_object(value.get("metadata")).get("phone_number_id"))
    found.unknown.extend(f"value.{key}" for key in value if key not in _ECHO_VALUE_KEYS)
    if number is None:
        return
    for echo in as_array(value.get("message_echoes")):
        raw = as_object(echo)
        # Judged like a customer's message: the owner's words travel on to the agent.
        reason = json_problem(echo) if isinstance(echo, dict) else "malformed"
        parsed = None
        if reason is None:
            try:
                parsed = _echo(number, raw)
            except _OutsideContractError:
                reason = "contract"
        if parsed is None:
            message_id = loggable(raw.get("id"))
            found.skipped.append(SkippedMessage(number, message_id, reason or "malformed"))
        else:
            found.echoes.append(parsed)


def _entry(entry: dict[str, Any], found: Notification) -> None:
    """Every change of one entry, each by its field. The entry's id is the WhatsApp
    Business Account: the only address Meta gives account-wide signals."""
    for change in as_array(entry.get("changes")):
        if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
            found.unknown.append("change without a value")
            continue
        field, value = change.get("field"), change["value"]
        remember_number(entry, value, found)
        if field == ECHOES_FIELD:
            _echo_change(value, found)
            continue
        signal = SIGNALS.get(field) if isinstance(field, str) else None
        if signal is not None:
            signal(entry, value, found)
            continue
        if field not in (None, "messages"):
            found.unknown.append(f"field {loggable(field)}")
        _change(value, found)


def parse_notification(payload: Any) -> Notification:
    """Everything in one webhook body (messages, echoes, statuses, errors and Meta's
    signals), in the order Meta sent it."""
    found = Notification()
    if not isinstance(payload, dict):
        found.unknown.append("body is not an object")
        return found
    for entry in as_array(payload.get("entry")):
        _entry(as_object(entry), found)
    return found

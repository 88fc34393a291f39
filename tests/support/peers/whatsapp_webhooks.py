"""Webhook bodies in Meta's documented shape (WhatsApp Cloud API: the messages field, and
the smb_message_echoes field coexistence numbers send for what the owner types in the
WhatsApp Business app)."""

import itertools
import json
import time
from typing import Any

from router.signature import sign

_ids = itertools.count(1)
BUSINESS_DISPLAY_NUMBER = "94112345678"


def message_id() -> str:
    return f"wamid.HBgLTEST{next(_ids):06d}{time.time_ns() % 1_000_000:06d}"


def text(
    body: str, *, sender: str = "94771234567", id: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "from": sender,
        "id": id or message_id(),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": body},
        **extra,
    }


def message(kind: str, content: dict[str, Any], *, sender: str = "94771234567") -> dict[str, Any]:
    return {
        "from": sender,
        "id": message_id(),
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: content,
    }


def notification(
    phone_number_id: str,
    messages: list[dict[str, Any]] | None = None,
    *,
    statuses: list[dict[str, Any]] | None = None,
    name: str = "Nimal",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": BUSINESS_DISPLAY_NUMBER,
            "phone_number_id": phone_number_id,
        },
    }
    if messages:
        senders = {m.get("from") for m in messages if m.get("from")}
        value["contacts"] = [{"profile": {"name": name}, "wa_id": s} for s in sorted(senders)]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def echo(
    body: str,
    *,
    to: str = "94771234567",
    business: str = BUSINESS_DISPLAY_NUMBER,
    id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One entry of `message_echoes`: a text the owner sent from the Business app."""
    return {
        "from": business,
        "to": to,
        "id": id or message_id(),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": body},
        **extra,
    }


def echoes(phone_number_id: str, entries: list[Any]) -> dict[str, Any]:
    """An `smb_message_echoes` webhook carrying `entries`, as Meta documents it."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": BUSINESS_DISPLAY_NUMBER,
            "phone_number_id": phone_number_id,
        },
        "message_echoes": entries,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "102290129340398", "changes": [{"field": "smb_message_echoes", "value": value}]}
        ],
    }


WABA_ID = "102290129340398"


def account_change(field: str, value: dict[str, Any], *, waba_id: str = WABA_ID) -> dict[str, Any]:
    """An account-wide webhook (account_update, phone_number_quality_update,
    message_template_status_update, user_preferences): it names the WhatsApp Business
    Account in `entry.id`, and the time of the event."""
    entry = {"id": waba_id, "time": int(time.time()), "changes": [{"field": field, "value": value}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def signed(payload: dict[str, Any] | bytes, app_secret: str) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(body, app_secret.encode()),
    }

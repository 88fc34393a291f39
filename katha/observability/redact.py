"""Keep phone numbers, tokens and message bodies out of the logs.

Known sensitive keys are replaced wherever they appear (nested too): secrets become
"[redacted]", phone numbers a short keyed pseudonym ("phone#1a2b3c4d5e") so one
customer's events can still be followed (an HMAC, because a plain hash of a phone
number is reversed by trying every number), message bodies only their length. Free text
in any other string (a library's log line, an exception's text) is scrubbed too: phone
numbers, tokens, signatures, the values of URL query strings, the values of sensitive
`key=value` and `'key': value` pairs, and pydantic's `input_value=` (a ValidationError
quotes the message that failed)."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

SECRET_KEYS = frozenset(
    {
        "token",
        "access_token",
        "accesstoken",
        "app_secret",
        "appsecret",
        "verify_token",
        "verifytoken",
        "secret",
        "password",
        "authorization",
        "api_key",
        "apikey",
        "x-hub-signature-256",
        "signature",
        "cookie",
    }
)
PHONE_KEYS = frozenset(
    {
        "phone",
        "phone_number",
        "wa_id",
        "from",
        "from_number",
        "to",
        "recipient",
        "recipient_id",
        "sender",
        "msisdn",
        "owner_number",
        "display_phone_number",
        "user_id",
        "from_user_id",
        "username",
    }
)
BODY_KEYS = frozenset(
    {"body", "text", "message_body", "caption", "content", "reply", "prompt", "query"}
)

# "+94 77 123 4567", "94771234567", "077-123-4567": 9 or more digits with separators.
# Looser than the E.164 / wa_id shape in katha.api.fields on purpose: that one validates a
# field, this one finds numbers in free text as people type them (spaces, dashes, a local
# leading 0), and a false positive only costs a pseudonym.
_PHONE = re.compile(r"(?<![\w.])\+?\d(?:[\s-]?\d){8,14}(?![\w.])")
# Meta access tokens start with EAA; "Bearer"/"Basic" credentials; sk-... API keys; the
# webhook's HMAC signature ("sha256=<hex>").
_TOKEN = re.compile(
    r"\b(?:EAA[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{16,})"
    r"|(?i:bearer|basic)\s+[^\s\"',]+"
    r"|(?i:sha256)=[0-9a-fA-F]{8,}"
)
# A URL's query string (a search call's question, hub.verify_token, access_token=): the
# names stay, every value goes. The "?" must follow a path character, so a question mark
# that ends a sentence is left alone.
_QUERY = re.compile(r"(?<=[\w/.%-])\?([^\s\"'<>`]+)")
_QUERY_PAIR = re.compile(r"([^&;=#]*)(=?)([^&;#]*)")
# `key=value`, `'key': value`, `"key": "value"` for a sensitive key, in free text: a repr,
# a JSON body, keyword arguments or pydantic's `input_value=` in an exception's text. The
# value is a quoted string, or a structure (everything to the end of the line), or a word.
_SENSITIVE = (
    r"input|input_value|q|[\w-]*(?:token|secret|password|api_?key)"
    r"|authorization|signature|x-hub-signature-256|cookie"
    r"|phone|phone_number|wa_id|from|to|recipient|msisdn|owner_number|username"
    r"|body|text|message_body|caption|content|reply|prompt|query"
)
_KEY_VALUE = re.compile(
    rf"(?i)(?<![\w.-])(?:(['\"])(?P<quoted>{_SENSITIVE})\1\s*:\s*|(?P<bare>{_SENSITIVE})=)"
    r"(?P<value>\[redacted\]|phone\#[0-9a-f]{10}\b"  # scrubbed already
    r"|'(?:[^'\\\n]|\\.)*'?|\"(?:[^\"\\\n]|\\.)*\"?"  # quoted, maybe cut short
    r"|[\[{(][^\n]*"  # a structure: the rest of the line
    r"|[^\s,;&)\]}'\"]+)"  # a word
)
# Identifiers are safe to log even when they are long digit runs (Meta's phone number ID).
_SAFE_SUFFIXES = ("_id", "_ids", "id")
REDACTED = "[redacted]"


# Random per process unless the deployment shares one key (to follow a customer across pods).
_pseudonym_key = secrets.token_bytes(32)


def set_pseudonym_key(key: bytes) -> None:
    """Use this key for pseudonyms; every replica given the same key writes the same ones."""
    global _pseudonym_key  # process-wide logging configuration
    if len(key) < 16:
        raise ValueError("the pseudonym key must be at least 16 bytes")
    _pseudonym_key = key


def pseudonym(value: object) -> str:
    """A stable, short stand-in for a phone number or username that cannot be reversed."""
    digest = hmac.new(_pseudonym_key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"phone#{digest[:10]}"


def scrub_text(text: str) -> str:
    """Free text with every known kind of personal data or secret replaced."""
    if "=" in text or ":" in text:
        text = _KEY_VALUE.sub(_key_value, text)
    if "?" in text:
        text = _QUERY.sub(_query, text)
    text = _TOKEN.sub(REDACTED, text)
    return _PHONE.sub(lambda match: pseudonym(re.sub(r"\D", "", match.group())), text)


def _key_value(match: re.Match[str]) -> str:
    key = match.group("quoted") or match.group("bare") or ""
    value = match.group("value")
    if value == REDACTED or value.startswith("phone#"):
        return match.group()  # scrubbed already: scrubbing twice changes nothing
    if key.lower() in PHONE_KEYS and value.strip("'\"").lstrip("+").isdigit():
        kept = pseudonym(re.sub(r"\D", "", value))
    else:
        kept = REDACTED
    return match.group()[: match.start("value") - match.start()] + kept


def _query(match: re.Match[str]) -> str:
    pairs = _QUERY_PAIR.findall(match.group(1))
    return "?" + "&".join(
        f"{name}={REDACTED}" if equals else REDACTED
        for name, equals, _value in pairs
        if name or equals
    )


def _clean(key: str, value: Any) -> Any:
    name = key.lower()
    if name in SECRET_KEYS or name.endswith(("_token", "_secret", "_password", "_key")):
        return REDACTED
    if name in PHONE_KEYS:
        return pseudonym(value) if value not in (None, "") else value
    if name in BODY_KEYS:
        return f"<{len(str(value))} chars>" if isinstance(value, str) else _walk(value)
    if isinstance(value, str):
        return value if name.endswith(_SAFE_SUFFIXES) else scrub_text(value)
    return _walk(value)


def _walk(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _clean(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def redact_event(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the last word before an event is rendered."""
    for key in list(event_dict):
        event_dict[key] = _clean(key, event_dict[key]) if key != "event" else event_dict[key]
    event = event_dict.get("event")
    if isinstance(event, str):
        event_dict["event"] = scrub_text(event)
    return event_dict
